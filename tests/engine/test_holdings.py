"""The book against the real account (issue #11.1), live engine against the fake Upbit.

The owner sells by hand in the Upbit app, withdraws, or locks coins with an order of their
own; before the fix the engine kept selling the book's volume and Upbit refused every sell
(2,716 refusals in 600 replayed minutes, the position stayed long).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tests.engine.conftest import limits
from tests.fakes.upbit import FakeUpbit
from trading.domain import TradePrint
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.engine.core import Engine
from trading.engine.facade import EngineFacade
from trading.errors import OrderingSuspended, RefusedBefore
from trading.events import BookAdjusted, Event, OrdersSuspended
from trading.positions import ExitReason, PositionState
from trading.strategies import build_strategy
from trading.upbit.auth import Credentials
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient

M = "KRW-BTC"
T0 = datetime(2026, 3, 2, tzinfo=UTC)
S = PositionState


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[FakeUpbit, UpbitRestClient]]:
    async with FakeUpbit(rate_limits={"order": 1000, "default": 1000}) as fake:
        fake.set_balance("KRW", D(10_000_000))
        client = UpbitRestClient(
            fake.rest_url, credentials=Credentials("test-access", "test-secret"), timeout_s=2
        )
        async with client:
            yield fake, client


class Desk:
    """The live engine and a clock of prints; every print goes to the fake's tape first."""

    def __init__(self, fake: FakeUpbit, rig: EngineRig, events: list[Event]) -> None:
        self.fake, self.rig, self.events = fake, rig, events
        self.minute = 0

    @property
    def engine(self) -> Engine:
        return self.rig.engine

    async def prints(self, *prices: int) -> None:
        for price in prices:
            self.minute += 1
            at = T0 + timedelta(minutes=self.minute)
            await self.fake.trade(M, D(price), D("0.5"))
            self.rig.loop.put_print(TradePrint(M, D(price), D("0.5"), at))
            await self.rig.loop.drain()
            if await self.engine.orders.poll_open():
                await self.rig.loop.drain()

    def refused_sells(self) -> list[str]:
        return [
            str(r.body)
            for r in self.fake.requests
            if r.method == "POST"
            and r.path == "/v1/orders"
            and (r.body or {}).get("side") == "ask"
            and r.status is not None
            and r.status >= 400
        ]

    def adjusted(self) -> list[BookAdjusted]:
        return [e for e in self.events if isinstance(e, BookAdjusted)]


async def desk(fake: FakeUpbit, client: UpbitRestClient, store, **risk: object) -> Desk:
    events: list[Event] = []
    rig = await assemble(
        EngineSpec(markets=(M,), timeframe="1m", paper=False, order_settle_s=0.05),
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(**risk),
        store=store,
        sink=events.append,
        live_exchange=client,
        rules=UpbitMarketRules(),
    )
    rig.loop.start()
    return Desk(fake, rig, events)


async def bought(fake: FakeUpbit, client: UpbitRestClient, store, **risk: object) -> Desk:
    d = await desk(fake, client, store, **risk)
    await d.prints(*[100_000_000] * 3)
    await d.engine.enter_now(M, D(1_000_000), "test buy")
    await d.prints(100_000_000)
    assert d.engine.positions.get(M).state is S.LONG
    return d


def coin(fake: FakeUpbit) -> D:
    free, locked = fake.balance("BTC")
    return free + locked


async def test_a_stop_after_a_hand_sale_sells_what_is_left_after_one_refusal(exchange, store):
    fake, client = exchange
    d = await bought(fake, client, store, stop_fallback_pct=D(2))
    held = d.engine.positions.get(M).volume
    fake.set_balance("BTC", held * D("0.4"))  # the owner sold 60 % in the app
    await d.prints(100_000_000, 97_000_000, *[97_000_000] * 50)  # through the fallback stop

    assert len(d.refused_sells()) == 1  # before the fix: one refusal on every print
    assert coin(fake) == 0  # what was left was sold
    assert d.engine.positions.get(M).state in (S.COOLDOWN, S.FLAT)
    [adjusted] = d.adjusted()
    assert (adjusted.book, adjusted.exchange) == (held, held * D("0.4"))
    assert adjusted.reason == "insufficient_funds"
    await d.rig.loop.stop()


async def test_the_scheduled_check_adopts_less_and_reports_more(exchange, store):
    fake, client = exchange
    d = await bought(fake, client, store)
    held = d.engine.positions.get(M).volume
    fake.set_balance("BTC", held + D(2))  # a deposit: not the bot's
    report = await d.engine.holdings.check()
    assert report.adjusted == ()
    assert report.surplus == ((M, D(2)),)
    assert d.engine.positions.get(M).volume == held
    assert d.adjusted() == []

    fake.set_balance("BTC", held / 4)  # withdrawn
    report = await d.engine.holdings.check()
    position = d.engine.positions.get(M)
    assert report.adjusted == (M,)
    assert (position.state, position.volume) == (S.LONG, held / 4)
    assert await d.engine.exit(M, ExitReason.MANUAL, "close")
    await d.prints(100_000_000)
    assert coin(fake) == 0
    assert d.refused_sells() == []

    fake.set_balance("BTC", D(0))
    assert (await d.engine.holdings.check()).adjusted == ()  # nothing to adopt
    await d.rig.loop.stop()


async def test_sold_out_by_hand_the_position_is_flat_and_loses_its_stop(exchange, store):
    fake, client = exchange
    d = await bought(fake, client, store)
    assert M in d.engine.stops
    fake.set_balance("BTC", D(0))
    await d.engine.holdings.check()
    assert d.engine.positions.get(M).state is S.FLAT
    assert M not in d.engine.stops
    assert d.adjusted()[0].state == "flat"
    await d.prints(90_000_000, 80_000_000)  # far through the old stop: nothing is sent
    assert d.refused_sells() == []
    await d.rig.loop.stop()


async def test_an_exit_sells_only_what_the_owners_own_order_leaves_free(exchange, store):
    fake, client = exchange
    d = await bought(fake, client, store)
    held = d.engine.positions.get(M).volume
    fake.set_balance("BTC", held / 2, locked=held / 2)  # a sell order of the owner's
    await d.engine.holdings.check()
    assert d.engine.positions.get(M).volume == held  # all of it is still there
    assert await d.engine.exit(M, ExitReason.MANUAL, "close")
    await d.prints(100_000_000)
    assert d.refused_sells() == []
    assert fake.balance("BTC") == (D(0), held / 2)
    await d.rig.loop.stop()


def sell(volume: str) -> SubmitOrder:
    return SubmitOrder(
        intent_id=f"i{volume.replace('.', '')}",
        market=M,
        side=Side.SELL,
        type=OrderType.MARKET,
        volume=D(volume),
        reference_price=D(100_000_000),
    )


async def test_a_refused_body_is_never_sent_again_and_refusals_are_bounded(exchange, store):
    fake, client = exchange
    d = await desk(fake, client, store)
    facade = EngineFacade(d.engine, store, sink=d.events.append, mode="live")
    await d.prints(100_000_000)
    orders = d.engine.orders
    with pytest.raises(Exception, match="insufficient"):
        await orders.place(sell("0.01"))
    before = len(fake.requests)
    with pytest.raises(RefusedBefore):
        await orders.place(sell("0.01"))
    assert len(fake.requests) == before  # not sent

    for n in range(2, 6):  # four more, each a new body: the fifth refusal suspends
        with pytest.raises(Exception, match="insufficient"):
            await orders.place(sell(f"0.0{n}"))
    [suspended] = [e for e in d.events if isinstance(e, OrdersSuspended)]
    assert (suspended.market, suspended.refusals) == (M, 5)
    before = len(fake.requests)
    with pytest.raises(OrderingSuspended):
        await orders.place(sell("0.07"))
    assert len(fake.requests) == before
    assert len(d.refused_sells()) == 5

    await facade.resume(M, by="admin")
    with pytest.raises(Exception, match="insufficient"):
        await orders.place(sell("0.08"))  # sent again, and refused by Upbit
    await d.rig.loop.stop()


async def test_the_engine_pauses_a_suspended_market_and_a_restart_keeps_it(exchange, store):
    fake, client = exchange
    d = await bought(fake, client, store)
    facade = EngineFacade(d.engine, store, sink=d.events.append, mode="live")
    d.engine.orders.guard.limit = 1
    fake.set_balance("BTC", D(0), locked=d.engine.positions.get(M).volume)  # all locked
    assert not await d.engine.exit(M, ExitReason.MANUAL, "close")  # refused, suspended
    assert M in d.engine.paused_markets
    assert len(d.refused_sells()) == 1
    await d.rig.loop.stop()

    again = await desk(fake, client, store)
    restarted = EngineFacade(again.engine, store, sink=again.events.append, mode="live")
    await restarted.restore()
    assert M in again.engine.orders.guard.suspended
    assert M in again.engine.paused_markets
    await restarted.resume(M, by="admin")
    assert not again.engine.orders.guard.suspended
    assert facade.engine is not again.engine
    await again.rig.loop.stop()
