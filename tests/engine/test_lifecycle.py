"""Upbit's warnings and delistings, end to end: the fake Upbit serves them on loopback, the real
REST client reads them, ``MarketWatch`` applies them to a paper engine trading real minutes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from tests.engine.conftest import facade, paper_rig, replay
from tests.fakes.upbit import FakeUpbit
from trading.engine.build import EngineRig
from trading.engine.lifecycle import MarketWatch
from trading.errors import UpbitError
from trading.events import (
    Event,
    OrderPlaced,
    PositionClosed,
    PositionOpened,
    RiskBreached,
)
from trading.positions import PositionState
from trading.store import Store
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy


def of(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture
async def upbit() -> AsyncIterator[tuple[FakeUpbit, UpbitRestClient]]:
    async with FakeUpbit(rate_limits={"default": 1000}) as fake:
        client = UpbitRestClient(
            fake.rest_url, timeout_s=2.0, retry=RetryPolicy(max_retries=0, base_s=0.01)
        )
        async with client:
            yield fake, client


def long(rig: EngineRig) -> bool:
    return rig.engine.positions.get("KRW-BTC").state is PositionState.LONG


def today(rig: EngineRig) -> date:
    """The engine's day (the replay's, in Seoul): the exit rule counts from it."""
    engine = rig.engine
    return engine.market_time().astimezone(engine.limits.zone).date()


async def test_a_warned_market_gets_no_signal_entry(upbit, store: Store, events: list[Event]):
    fake, client = upbit
    rig = await paper_rig(store, events)
    watch = MarketWatch(rig.engine, client, sink=events.append)
    fake.set_market_warning("KRW-BTC")
    assert await watch.poll() == []  # not held: nothing to push, but the gate knows
    rig.loop.start()

    await replay(rig, 600)
    await rig.loop.stop()

    refused = [b for b in of(events, RiskBreached) if b.check == "market_warning"]
    assert refused  # the strategy asked, more than once
    assert {b.code for b in refused} == {"market_warning"}
    assert all(b.market == "KRW-BTC" for b in refused)
    assert not [o for o in of(events, OrderPlaced) if o.side == "bid"]
    assert not of(events, PositionOpened)


async def test_a_held_market_flagged_alerts_then_sells_before_the_delisting(
    upbit, store: Store, events: list[Event]
):
    fake, client = upbit
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    await api.set("risk.exit_before_delisting_days", "3", by="u1", transport="console")
    watch = MarketWatch(rig.engine, client, sink=events.append)
    rig.loop.start()
    await replay(rig, 600, until=long)
    assert long(rig)
    assert await watch.poll() == []  # all clear: no news

    fake.set_market_warning("KRW-BTC")
    [warned] = await watch.poll()
    far = today(rig) + timedelta(days=10)
    fake.set_market_state("KRW-BTC", delisting_date=far)
    [dated] = await watch.poll()
    assert await watch.poll() == []  # the same again: no second push
    held_on = long(rig)
    near = today(rig) + timedelta(days=2)
    fake.set_market_state("KRW-BTC", delisting_date=near)
    [moved] = await watch.poll()
    await rig.loop.drain()
    await replay(rig, 3, from_minute=600)
    await rig.loop.stop()

    assert (warned.warned, warned.was_warned, warned.closing, warned.warning) == (
        True,
        False,
        False,
        True,
    )
    assert (dated.closing, dated.was_closing, dated.delisting_date) == (True, False, far)
    assert dated.exit_on == far - timedelta(days=3)
    assert held_on  # ten days out, the rule waits
    assert moved.delisting_date == near
    closed = of(events, PositionClosed)
    assert closed
    assert closed[-1].reason == "risk"
    sells = [o for o in of(events, OrderPlaced) if o.side == "ask"]
    order = await store.order(sells[-1].intent_id)
    assert order is not None
    assert order.reason is not None
    assert f"Upbit delists KRW-BTC on {near}" in order.reason
    assert rig.engine.positions.get("KRW-BTC").state is not PositionState.LONG


async def test_a_flag_lifted_on_a_held_market_is_news_and_entries_resume(
    upbit, store: Store, events: list[Event]
):
    fake, client = upbit
    rig = await paper_rig(store, events)
    watch = MarketWatch(rig.engine, client, sink=events.append)
    rig.loop.start()
    await replay(rig, 600, until=long)
    fake.set_market_caution("KRW-BTC", "PRICE_FLUCTUATIONS")
    fake.set_market_state("KRW-BTC", "ACTIVE", delisting_date=today(rig) + timedelta(days=30))
    [flagged] = await watch.poll()
    fake.set_market_caution("KRW-BTC", "TRADING_VOLUME_SOARING")
    assert await watch.poll() == []  # still under a caution: a swapped flag is no push
    assert rig.engine.gate.lifecycle.statuses["KRW-BTC"].cautions == ("TRADING_VOLUME_SOARING",)
    fake.set_market_caution("KRW-BTC")
    fake.set_market_state("KRW-BTC")
    [lifted] = await watch.poll()
    await rig.loop.stop()

    assert (flagged.warned, flagged.warning, flagged.cautions) == (
        True,
        False,
        ("PRICE_FLUCTUATIONS",),
    )
    assert flagged.exit_on is None  # the rule is off by default: the user decides
    assert (lifted.warned, lifted.was_warned, lifted.closing, lifted.was_closing) == (
        False,
        True,
        False,
        True,
    )
    assert rig.engine.gate.lifecycle.warned == set()
    assert rig.engine.gate.lifecycle.closing == set()
    assert long(rig)  # nothing sold


async def test_a_failed_read_keeps_what_was_known(upbit, store: Store, events: list[Event]):
    fake, client = upbit
    rig = await paper_rig(store, events)
    watch = MarketWatch(rig.engine, client, sink=events.append)
    fake.set_listed("KRW-BTC", False)  # delisted: gone from market/all
    await watch.poll()
    fake.faults.fail_next(500, path="/v1/market/all", count=5)

    with pytest.raises(UpbitError):
        await watch.poll()

    assert rig.engine.gate.lifecycle.closing == {"KRW-BTC"}
    assert rig.engine.gate.lifecycle.statuses["KRW-BTC"].listed is False


async def test_the_schedule_outlives_failed_and_garbled_reads(
    upbit, store: Store, events: list[Event]
):
    """A 500 or an answer of another shape is logged and tried again at the next poll; the
    schedule never ends (it runs as a task whose crash would stop the bot)."""
    fake, client = upbit
    rig = await paper_rig(store, events)
    watch = MarketWatch(rig.engine, client, sink=events.append)
    fake.faults.fail_next(500, path="/v1/market/all", count=2)
    fake.faults.fail_next(200, path="/v1/market/all", body={"not": "a list"})
    fake.set_market_warning("KRW-BTC")

    task = asyncio.create_task(watch.run(0.01))
    try:
        for _ in range(3000):  # a bound for a slow machine, not a speed requirement
            if "KRW-BTC" in rig.engine.gate.lifecycle.warned:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert rig.engine.gate.lifecycle.warned == {"KRW-BTC"}
    reads = [r for r in fake.requests if r.path == "/v1/market/all"]
    assert len(reads) >= 4  # two 500s, the garbled one, then the read that took
