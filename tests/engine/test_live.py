"""The live engine against the fake Upbit: parity with paper, faults, the circuit breaker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest

from tests.engine.conftest import BUNDLED, limits, replay
from tests.fakes.upbit import FakeUpbit
from trading.candle_file import read_candles
from trading.circuit import CircuitBreaker
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.events import OrderPlaced, PositionClosed, RiskBreached, SignalRaised
from trading.marketdata.replay import ReplayFeed, ReplayFile
from trading.upbit.auth import Credentials
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

MINUTES = 400


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[FakeUpbit, UpbitRestClient]]:
    async with FakeUpbit(rate_limits={"order": 1000, "default": 1000}) as fake:
        fake.set_balance("KRW", D(10_000_000))
        client = UpbitRestClient(
            fake.rest_url,
            credentials=Credentials("test-access", "test-secret"),
            timeout_s=0.5,
            retry=RetryPolicy(max_retries=3, base_s=0.01, max_s=0.05),
            circuit=CircuitBreaker(failure_threshold=3, reset_s=0.2),
        )
        async with client:
            yield fake, client


async def live_rig(client: UpbitRestClient, store, events) -> EngineRig:
    from trading.strategies import build_strategy

    return await assemble(
        EngineSpec(
            markets=("KRW-BTC",),
            timeframe="1m",
            paper=False,
            order_settle_s=0.05,
            order_timeout_settle_s=1.0,  # longer than the fake's 0.7 s slow request
        ),
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(),
        store=store,
        sink=events.append,
        live_exchange=client,
        circuit=client.circuit,
        rules=UpbitMarketRules(),
    )


async def drive_live(rig: EngineRig, fake: FakeUpbit, minutes: int) -> None:
    """Each print moves the fake's tape first, then the engine sees it; fills by REST poll."""
    start = next(read_candles(BUNDLED)).start
    from datetime import timedelta

    feed = ReplayFeed([ReplayFile(BUNDLED, "KRW-BTC")], end=start + timedelta(minutes=minutes))
    await feed.start()
    async for print_ in feed.prints():
        await fake.trade("KRW-BTC", print_.price, print_.volume)
        rig.loop.put_print(print_)
        await rig.loop.drain()
        if await rig.engine.orders.poll_open():
            await rig.loop.drain()
    await feed.stop()


def decisions(events):
    signals = [(e.action, e.price) for e in of(events, SignalRaised)]
    closed = [(e.reason, e.entry_price, e.exit_price) for e in of(events, PositionClosed)]
    return signals, closed


async def test_paper_and_live_make_the_same_decisions(exchange, store, tmp_path):
    fake, client = exchange
    live_events: list = []
    live = await live_rig(client, store, live_events)
    live.loop.start()
    await drive_live(live, fake, MINUTES)
    await live.loop.stop()

    from trading.store import Store, create_engine, session_factory, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'paper.db'}"
    await upgrade(url)
    db = create_engine(url)
    paper_events: list = []
    from tests.engine.conftest import paper_rig

    paper = await paper_rig(Store(session_factory(db)), paper_events, paper_slippage_bps=D(0))
    paper.loop.start()
    await replay(paper, MINUTES)
    await paper.loop.stop()
    await db.dispose()

    live_signals, live_closed = decisions(live_events)
    paper_signals, paper_closed = decisions(paper_events)
    assert live_closed
    assert live_signals == paper_signals
    assert live_closed == paper_closed
    live_pnl = [e.pnl_krw for e in of(live_events, PositionClosed)]
    paper_pnl = [e.pnl_krw for e in of(paper_events, PositionClosed)]
    assert all(abs(a - b) < 1 for a, b in zip(live_pnl, paper_pnl, strict=True))


async def test_faults_never_double_an_order_or_lose_a_fill(exchange, store):
    fake, client = exchange
    events: list = []
    rig = await live_rig(client, store, events)
    rig.loop.start()
    # every order POST meets a fault: lost response, 500, timeout, 429, in turn
    fake.faults.lose_response_next(method="POST", path="/v1/orders")
    fake.faults.fail_next(500, method="POST", path="/v1/orders")
    fake.faults.delay_next(0.7, method="POST", path="/v1/orders")
    fake.faults.fail_next(429, method="POST", path="/v1/orders")
    await drive_live(rig, fake, MINUTES)
    await rig.loop.stop()

    placed = of(events, OrderPlaced)
    intents = {e.intent_id for e in placed}
    ours = [o for o in fake.orders.values() if (o.identifier or "").startswith("ubot-")]
    by_intent: dict[str, int] = {}
    for order in ours:
        intent = (order.identifier or "").split("-")[1]
        by_intent[intent] = by_intent.get(intent, 0) + 1
    assert len(placed) >= 4
    assert set(by_intent) == intents
    assert set(by_intent.values()) == {1}  # exactly one order on the exchange per intent
    stored = await store.fills(limit=100_000)
    on_exchange = sum(len(o.trades) for o in ours)
    assert len(stored) == on_exchange  # every fill in the store


async def test_open_circuit_blocks_entries(exchange, store):
    fake, client = exchange
    events: list = []
    rig = await live_rig(client, store, events)
    for _ in range(3):
        client.circuit.record_failure("test")
    rig.loop.start()
    await drive_live(rig, fake, 120)
    await rig.loop.stop()

    breaches = [e for e in of(events, RiskBreached) if e.check == "circuit"]
    assert breaches
    assert "circuit is open" in breaches[0].reason
