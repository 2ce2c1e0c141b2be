"""``UniverseKeeper`` on an engine assembled as the bot does: a held leaver stays traded until
its own exit signal, a flat leaver is dropped, entries go only into the universe, and a bad answer
keeps the last universe. Upbit is the fake on loopback, read by the real REST client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.universe import JOB_ID, UniverseJob
from tests.engine.conftest import BUNDLED, limits, paper_rig, replay
from tests.fakes.upbit import FakeUpbit
from trading.candle_file import read_candles
from trading.engine.build import EngineRig
from trading.engine.universe import UniverseKeeper
from trading.events import Event, PositionClosed, PositionOpened, SignalRaised, UniverseChanged
from trading.marketdata.universe import choose
from trading.positions import PositionState
from trading.store import Store
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

MARKETS = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-DOGE"]


@pytest.fixture
async def upbit() -> AsyncIterator[tuple[FakeUpbit, UpbitRestClient]]:
    """Upbit's two quotation calls on loopback, values scripted (DOGE: the most traded, but
    under an investment warning)."""
    async with FakeUpbit(markets=MARKETS, rate_limits={"default": 1000}) as fake:
        for market, value in zip(MARKETS, (5, 9, 7, 99), strict=True):
            fake.set_trade_value_24h(market, D(value))
        fake.set_market_warning("KRW-DOGE")
        client = UpbitRestClient(
            fake.rest_url, timeout_s=2.0, retry=RetryPolicy(max_retries=0, base_s=0.01)
        )
        async with client:
            yield fake, client


async def test_a_held_leaver_stays_traded_a_flat_one_is_dropped_entries_follow_the_universe(
    upbit: tuple[FakeUpbit, UpbitRestClient], store: Store, events: list[Event]
) -> None:
    # Arrange: KRW-BTC held, then Upbit's values put ETH and XRP ahead of it
    fake, client = upbit
    rig = await paper_rig(store, events, risk=limits(atr_stop_mult=D(0)))  # exits: signals only
    engine = rig.engine
    rig.loop.start()
    await replay(rig, 600, until=lambda r: r.engine.positions.get("KRW-BTC").state.value == "long")
    assert engine.positions.get("KRW-BTC").state is PositionState.LONG
    keeper = UniverseKeeper(engine, client, 1, sink=events.append, every_s=3600)

    # Act
    first = await keeper.apply(await choose(client, 1))
    fake.set_trade_value_24h("KRW-XRP", D(10))
    second = await keeper.refresh()
    traded, tracked = engine.traded, engine.market_data.markets
    outside = keeper.view().held_outside
    bar = engine.market_data.history("KRW-BTC")[-1]
    refused = [
        await engine.enter("KRW-ETH", bar, "signal"),
        await engine.enter("KRW-XRP", bar, "x"),
    ]
    changed_at = len(events)
    # BTC's position goes on to its own exit on the minutes that follow, and then stays out
    after = await _replay_past_the_exit(rig)
    await rig.loop.stop()

    # Assert: the announcements
    assert first is not None
    assert (first.first, first.left, first.held) == (True, (), ())
    assert second is not None
    assert (second.joined, second.left) == (("KRW-XRP",), ("KRW-ETH",))
    assert dict(second.why) == {"KRW-ETH": "rank"}
    assert dict(second.ranks) == {"KRW-XRP": "1", "KRW-ETH": "2"}
    assert [e for e in events if isinstance(e, UniverseChanged)] == [first, second]
    # BTC (held, never chosen) is still traded with its stop; ETH (flat) is dropped
    assert engine.universe == ("KRW-XRP",)
    assert traded == ("KRW-XRP", "KRW-BTC")
    assert tracked == ("KRW-BTC", "KRW-XRP")
    assert outside == ("KRW-BTC",)
    assert refused[0] is False  # ETH left: no entry there
    # the held leaver exited by its own rules, on its own candles; nothing entered it again
    closed = [e for e in events[changed_at:] if isinstance(e, PositionClosed)]
    assert [(e.market, e.reason) for e in closed] == [("KRW-BTC", "signal")], closed
    assert not [e for e in events[changed_at:] if isinstance(e, PositionOpened)]
    assert after >= 500  # minutes replayed after the exit, on which ma_cross wanted in again
    wanted = [e for e in events[changed_at:] if isinstance(e, SignalRaised)]
    assert [e.action for e in wanted] == ["exit"]


async def test_a_failed_read_or_an_empty_answer_keeps_the_last_universe(
    upbit: tuple[FakeUpbit, UpbitRestClient], store: Store, events: list[Event]
) -> None:
    fake, client = upbit
    rig = await paper_rig(store, events)
    keeper = UniverseKeeper(rig.engine, client, 3, sink=events.append, every_s=600)
    await keeper.apply(await choose(client, 3))
    job = UniverseJob(keeper, zone=UTC)

    fake.faults.fail_next(503, path="/v1/market/all")
    failed = await job.run()
    for market in MARKETS:  # nothing eligible left
        fake.set_market_warning(market)
    empty = await job.run()

    assert (failed, empty) == (None, None)
    assert (job.runs, job.failures) == (2, 1)
    assert rig.engine.universe == ("KRW-ETH", "KRW-XRP", "KRW-BTC")
    assert keeper.refreshed_at is not None


async def test_the_job_runs_on_the_scheduler_every_universe_refresh_s(
    store: Store, events: list[Event]
) -> None:
    rig = await paper_rig(store, events)
    keeper = UniverseKeeper(
        rig.engine, UpbitRestClient("http://127.0.0.1:9"), 3, sink=events.append, every_s=900
    )
    scheduler = AsyncIOScheduler(timezone=UTC)

    UniverseJob(keeper, zone=UTC).schedule(scheduler)

    job = scheduler.get_job(JOB_ID)
    assert job.trigger.interval.total_seconds() == 900
    assert job.next_run_time > datetime.now(UTC)  # the trader chose at start


async def _replay_past_the_exit(rig: EngineRig) -> int:
    """Replay on from where the position opened until it is closed, then 600 minutes more;
    the minutes replayed after the exit."""
    btc = rig.engine.positions.get
    opened = btc("KRW-BTC").opened_at
    assert opened is not None
    first = next(read_candles(BUNDLED)).start
    start = int((opened - first).total_seconds() // 60) + 1
    await replay(
        rig,
        1440,
        from_minute=start,
        until=lambda r: r.engine.positions.get("KRW-BTC").state.value not in ("long", "exiting"),
    )
    closed = rig.engine.market_time()  # within 50 prints of the exit
    resume = int((closed - first).total_seconds() // 60) + 1
    await replay(rig, 600, from_minute=resume)
    return int((rig.engine.market_time() - closed).total_seconds() // 60)
