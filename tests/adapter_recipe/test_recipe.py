"""The exchange-adapter recipe of docs/architecture.md ("Adding a second exchange"), done:
its worked example.

``tests/adapter_recipe/venue/`` is a second adapter package for the fictitious Tern exchange
(``fake.py``), written from the recipe's seven items and nothing else: its own wire types,
its one mapping module, its client tags, market rules, balances, trade feed, private stream
and candles. Here it is wired as ``bot/trader.py`` wires Upbit's (``Tern`` below: the engine
assembled by ``trading.engine.build.assemble`` on the venue's exchange, its trades pumped
into the engine's inbox, its private stream on the order lane, reconciliation at start) and
trades through the real engine, order manager, submitter, position book and store: a round
trip, a cancel, a venue refusal and a local one. No module here imports ``trading.upbit``
(checked in a fresh interpreter below).
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.adapter_recipe.fake import FakeTern
from tests.adapter_recipe.venue import mapping
from tests.adapter_recipe.venue.exchange import TernExchange
from tests.adapter_recipe.venue.feed import TernPrivateStream, TernTradeFeed
from tests.adapter_recipe.venue.wire import TernBook, TernKline
from trading.domain.candle import Candle
from trading.domain.orders import OrderStatus, OrderType, Side, SubmitOrder
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.errors import InsufficientFunds, InvalidPrice, RefusedBefore
from trading.events import (
    Event,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    OrderSettled,
    PositionClosed,
)
from trading.exchange import Exchange
from trading.marketdata.feeds import Feed
from trading.marketdata.lifecycle import read_statuses
from trading.marketdata.universe import choose
from trading.orders import OrderManager, reconcile
from trading.positions import ExitReason, PositionState
from trading.risk.decision import Approved
from trading.risk.limits import RiskLimits
from trading.store import Store
from trading.strategies import build_strategy

M = "KRW-BTC"
SYMBOL = "BTC/KRW"
T0 = datetime(2026, 3, 2, tzinfo=UTC)
PACKAGE = Path(__file__).parent


class Tern:
    """The wiring, as ``bot/trader.py`` does it for Upbit: ``assemble`` in live mode on the
    venue's exchange (which is also the candle source), reconciliation, then two pumps: the
    trade feed into the market lane, the private stream into the order lane."""

    def __init__(self, fake: FakeTern, rig: EngineRig, events: list[Event]) -> None:
        self.fake, self.rig, self.events = fake, rig, events
        self.feed = TernTradeFeed(fake.tape, (M,))
        self.stream = TernPrivateStream(fake.private)
        self.minute = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.rig.loop.start()
        self.events.append(await reconcile(self.rig.engine.orders))
        self._tasks = [
            asyncio.create_task(self._pump(self.feed)),
            asyncio.create_task(self._stream()),
        ]

    async def _pump(self, feed: Feed) -> None:
        await feed.start()
        async for print_ in feed.prints():
            self.rig.loop.put_print(print_)

    async def _stream(self) -> None:
        async for report in self.stream.reports():
            self.rig.loop.put_stream(report)

    async def settle(self) -> None:
        """Until the venue has nothing more to say and the engine has handled all of it (an
        order the engine sends while handling makes more; bounded, no sleeping)."""
        async with asyncio.timeout(10):
            for _ in range(20):
                await self.fake.tape.join()
                await self.fake.private.join()
                await self.rig.loop.drain()
                if self.fake.tape.empty() and self.fake.private.empty():
                    return
        raise AssertionError("the venue never went quiet")

    async def prints(self, *prices: int) -> None:
        for price in prices:
            self.minute += 1
            self.fake.trade(SYMBOL, D(price), D("0.5"), T0 + timedelta(minutes=self.minute))
            await self.settle()

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    async def stop(self) -> None:
        await self.feed.stop()
        await self.stream.stop()
        await asyncio.gather(*self._tasks)
        await self.rig.loop.stop()


def limits() -> RiskLimits:
    return RiskLimits(
        position_size_krw=D(1_000_000),
        max_open_positions=3,
        max_slippage_bps=50,
        daily_loss_limit_krw=D(5_000_000),
        max_drawdown_pct=D(50),
        volatility_halt_pct=D(50),
        take_profit_pct=D(0),
    )


def klines(fake: FakeTern, count: int, price: int) -> None:
    """``count`` quiet one-minute klines ending at T0: the warm-up the backfill reads."""
    for i in range(count, 0, -1):
        start = int((T0 - timedelta(minutes=i)).timestamp() * 1000)
        p = str(price)
        fake.klines.append(
            {"symbol": SYMBOL, "open_ms": start, "o": p, "h": p, "l": p, "c": p, "v": "1", "qv": p}
        )


@pytest.fixture
async def tern(store: Store) -> AsyncIterator[Tern]:
    fake = FakeTern()
    fake.fund("KRW", D(10_000_000))
    klines(fake, 30, 50_000_000)
    exchange: Exchange = TernExchange(fake.call)
    events: list[Event] = []
    rig = await assemble(
        EngineSpec(markets=(M,), timeframe="1m", paper=False, order_settle_s=0.01),
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(),
        store=store,
        sink=events.append,
        live_exchange=exchange,
        candles=TernExchange(fake.call),
    )
    assert await rig.engine.market_data.warm_up(30, end=T0) == {M: 30}
    desk = Tern(fake, rig, events)
    await desk.start()
    yield desk
    await desk.stop()


async def test_a_round_trip_through_the_engine(tern: Tern, store: Store) -> None:
    engine = tern.rig.engine
    await tern.prints(50_000_000, 50_000_000)
    assert isinstance(await engine.enter_now(M, D(1_000_000), "recipe buy"), Approved)
    await tern.settle()

    position = engine.positions.get(M)
    assert position.state is PositionState.LONG
    assert tern.fake.held("BTC") == position.volume == D("0.02")
    [entry] = await store.recent_orders(market=M)
    assert (entry.order_side, entry.order_type, entry.status) == (
        Side.BUY,
        OrderType.MARKET,
        OrderStatus.FILLED,
    )
    assert entry.uuid is not None
    assert entry.uuid.startswith("T-")
    assert tern.fake.orders[entry.uuid].client_tag == entry.identifier  # placed under ours
    [fill] = await store.fills(intent_id=entry.intent_id)
    assert (fill.price, fill.volume, fill.fee) == (D(50_000_000), D("0.02"), D(1000))

    await tern.prints(51_000_000)
    assert await engine.exit(M, ExitReason.MANUAL, "recipe sell")
    await tern.settle()

    assert engine.positions.get(M).state is not PositionState.LONG
    assert tern.fake.held("BTC") == 0
    exit_row, _ = await store.recent_orders(market=M)
    assert (exit_row.order_side, exit_row.status) == (Side.SELL, OrderStatus.FILLED)
    [closed] = tern.of(PositionClosed)
    assert isinstance(closed, PositionClosed)
    assert closed.pnl_krw == D(20_000) - D(1000) - D(1020)  # the move less both fees
    assert [type(e) for e in tern.events if isinstance(e, OrderPlaced | OrderSettled)] == [
        OrderPlaced,
        OrderSettled,
        OrderPlaced,
        OrderSettled,
    ]
    assert len(tern.of(OrderFilled)) == 2  # each fill once, though the stream and the
    # lookup after the order's end both carried it


def bid(orders: OrderManager, *, price: D | None = None, funds: D | None = None) -> SubmitOrder:
    """A buy under a new intent: 0.01 BTC at ``price`` (a limit), or ``funds`` KRW (market)."""
    return SubmitOrder(
        intent_id=orders.new_intent_id(),
        market=M,
        side=Side.BUY,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        price=price,
        volume=D("0.01") if price is not None else None,
        funds=funds,
    )


async def test_a_resting_order_is_cancelled(tern: Tern, store: Store) -> None:
    orders = tern.rig.engine.orders
    await tern.prints(50_000_000)
    intent = bid(orders, price=D(40_000_000))
    placed = await orders.place(intent)
    assert placed.status is OrderStatus.OPEN
    assert tern.fake.assets["KRW"][1] > 0  # Tern holds the KRW
    [resting] = await tern.rig.exchange.list_open(M)
    assert (resting.identifier, resting.price) == (placed.identifier, D(40_000_000))

    cancelled = await orders.cancel(intent.intent_id)
    await tern.settle()
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
    assert (await store.order(intent.intent_id)).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert len(tern.of(OrderCancelled)) == 1
    assert tern.fake.assets["KRW"] == [D(10_000_000), D(0)]
    assert await tern.rig.exchange.list_open(M) == []


async def test_a_reprice_without_cancel_and_new(tern: Tern, store: Store) -> None:
    """Tern has no atomic cancel-and-new: ``OrderReplacer`` cancels, confirms, then places."""
    orders = tern.rig.engine.orders
    await tern.prints(50_000_000)
    intent = bid(orders, price=D(40_000_000))
    old = await orders.place(intent)
    new = await orders.replace(intent.intent_id, D(41_000_000))
    await tern.settle()
    assert new is not None
    assert (new.status, new.price, new.volume) == (OrderStatus.OPEN, D(41_000_000), D("0.01"))
    assert (await store.order(intent.intent_id)).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    [resting] = await tern.rig.exchange.list_open(M)
    assert resting.identifier == new.identifier != old.identifier
    # after the first place: cancel, confirm it closed, then the new order (and its lookup)
    ops = [r["op"] for r in tern.fake.requests]
    assert ops[ops.index("place") + 1 :][:3] == ["cancel", "get", "place"]


async def test_refusals_map_to_the_neutral_errors(tern: Tern, store: Store) -> None:
    orders = tern.rig.engine.orders
    await tern.prints(50_000_000)
    too_big = bid(orders, funds=D(20_000_000))
    with pytest.raises(InsufficientFunds) as refused:
        await orders.place(too_big)
    assert (refused.value.name, refused.value.status) == ("tern_insufficient_balance", 2010)
    row = await store.order(too_big.intent_id)
    assert row is not None
    assert row.status is OrderStatus.REJECTED
    [rejected] = tern.of(OrderRejected)
    assert isinstance(rejected, OrderRejected)
    assert rejected.name == "tern_insufficient_balance"

    # Tern answered it, so the refusal guard remembers the body: not sent a second time
    sent = len(tern.fake.requests)
    again = bid(orders, funds=D(20_000_000))
    with pytest.raises(RefusedBefore):
        await orders.place(again)
    # Tern's own rules refuse an off-grid price before anything is written or sent
    off_grid = bid(orders, price=D(40_000_500))
    with pytest.raises(InvalidPrice):
        await orders.place(off_grid)
    assert len(tern.fake.requests) == sent
    assert await store.order(again.intent_id) is None
    assert await store.order(off_grid.intent_id) is None


def test_the_mapping_speaks_the_neutral_model() -> None:
    book = TernBook(
        SYMBOL, ((D(11), D(1)), (D(10), D(0)), (D(12), D(2))), ((D(9), D(1)), (D(8), D(3))), 0
    )
    snapshot = mapping.book_snapshot(book)
    assert (snapshot.market, snapshot.best_ask, snapshot.best_bid) == (M, D(11), D(9))
    assert mapping.symbol(mapping.market(SYMBOL)) == SYMBOL
    assert set(mapping.STATUS.values()) <= set(OrderStatus)
    candle: Candle = mapping.Candle(TernKline(SYMBOL, 0, D(1), D(2), D(1), D(2), D(3), D(6)))
    assert (candle.market, candle.close) == (M, D(2))


async def test_listings_and_tickers_reach_the_gate_and_the_universe() -> None:
    fake = FakeTern()
    fake.symbols = [
        {"symbol": SYMBOL, "phase": "TRADING", "watch": [], "quote_volume_24h": "9e9"},
        {
            "symbol": "ETH/KRW",
            "phase": "TRADING",
            "watch": ["delist_risk"],
            "quote_volume_24h": "8e9",
        },
        {
            "symbol": "XRP/KRW",
            "phase": "TRADING",
            "watch": [],
            "delist_on": "2026-04-01",
            "quote_volume_24h": "7e9",
        },
        {"symbol": "SOL/KRW", "phase": "PRE_LISTING", "watch": [], "quote_volume_24h": "0"},
        {"symbol": "ADA/KRW", "phase": "TRADING", "watch": [], "quote_volume_24h": "1e9"},
    ]
    venue = TernExchange(fake.call)
    statuses = await read_statuses(venue, [M, "KRW-ETH", "KRW-XRP", "KRW-SOL", "KRW-DOGE"])
    assert [(s.warned, s.closing) for s in statuses] == [
        (False, False),
        (True, False),
        (False, True),
        (False, True),
        (False, True),  # not listed at all
    ]
    selection = await choose(venue, 2)
    assert selection.markets == (M, "KRW-ADA")  # warned and closing markets are left out


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_here_imports_the_upbit_adapter() -> None:
    """Neither by name (every file of this package) nor on the way (a fresh interpreter that
    imports all of it, and what it wires, never loads ``trading.upbit``)."""
    for path in PACKAGE.rglob("*.py"):
        bad = {
            n
            for n in _imports(path)
            if n.startswith(("trading.upbit", "tests.fakes", "tests.upbit"))
        }
        assert not bad, f"{path.name} imports {bad}"
    modules = sorted(
        ".".join(p.relative_to(PACKAGE.parents[1]).with_suffix("").parts)
        for p in PACKAGE.rglob("*.py")
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name.removesuffix('.__init__'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('trading.upbit')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PACKAGE.parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == "[]"
