"""EventBus: fan-out, filtering, bounded queues that drop only what may be dropped."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest

from trading.bus import EventBus, Subscription
from trading.events import Event, FeedRecovered, HaltChanged, SignalRaised


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick(Event):
    n: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill(Event):
    critical: ClassVar[bool] = True
    n: int


async def take(sub: Subscription) -> list[Event]:
    """Everything a closed subscription still holds, in delivery order."""
    return [event async for event in sub]


def ns(events: list[Event]) -> list[int]:
    return [e.n for e in events if isinstance(e, Tick | Fill)]


async def test_fan_out_to_every_subscriber() -> None:
    bus = EventBus()
    a, b = bus.subscribe("a"), bus.subscribe("b")

    bus.publish(Tick(n=1))
    bus.publish(Fill(n=2))
    bus.close()

    assert ns(await take(a)) == [1, 2]
    assert ns(await take(b)) == [1, 2]


async def test_kinds_filter_matches_subclasses_only() -> None:
    bus = EventBus()
    fills = bus.subscribe("fills", kinds=(Fill, HaltChanged))
    everything = bus.subscribe("all")

    bus.publish(Tick(n=1))
    bus.publish(Fill(n=2))
    bus.publish(HaltChanged(name="daily_loss", active=True, reason="limit"))
    bus.close()

    assert [type(e) for e in await take(fills)] == [Fill, HaltChanged]
    assert len(await take(everything)) == 3


async def test_publish_is_sync_and_usable_as_event_sink() -> None:
    bus = EventBus()
    sub = bus.subscribe("s")
    sink = bus.publish

    sink(FeedRecovered(stream="trade"))
    bus(FeedRecovered(stream="ticker"))
    bus.close()

    assert [e.stream for e in await take(sub) if isinstance(e, FeedRecovered)] == [
        "trade",
        "ticker",
    ]


async def test_slow_subscriber_blocks_neither_publish_nor_others() -> None:
    bus = EventBus()
    slow = bus.subscribe("slow", maxsize=5)  # never read until the end
    fast = bus.subscribe("fast", maxsize=5)
    seen: list[int] = []

    async def reader() -> None:
        async for event in fast:
            assert isinstance(event, Tick)
            seen.append(event.n)

    task = asyncio.create_task(reader())
    for n in range(100):
        bus.publish(Tick(n=n))  # returns at once although "slow" is full
        await asyncio.sleep(0)
    bus.close()
    await asyncio.wait_for(task, 1)

    assert seen == list(range(100))
    assert ns(await take(slow)) == [95, 96, 97, 98, 99]


async def test_non_critical_dropped_oldest_first_and_counted() -> None:
    bus = EventBus()
    sub = bus.subscribe("s", maxsize=3)

    for n in range(10):
        bus.publish(Tick(n=n))

    (stats,) = bus.stats()
    assert (stats.queued, stats.backlog, stats.dropped, stats.delivered) == (3, 0, 7, 0)
    bus.close()
    assert ns(await take(sub)) == [7, 8, 9]
    assert bus.stats()[0].delivered == 3


async def test_drop_is_logged_once_not_per_event(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    bus.subscribe("s", maxsize=1)
    with caplog.at_level(logging.WARNING, logger="trading.bus"):
        for n in range(50):
            bus.publish(Tick(n=n))
    assert len(caplog.records) == 1
    assert "'s'" in caplog.records[0].getMessage()


async def test_critical_never_dropped_under_flood_and_kept_in_order() -> None:
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=10)

    for n in range(10_000):
        bus.publish(Fill(n=n) if n % 2 else Tick(n=n))

    stats = bus.stats()[0]
    # 5000 fills kept; ticks stay bounded at the 5 that fit beside the first fills
    assert (stats.queued, stats.backlog, stats.dropped) == (10, 4_995, 4_995)
    bus.close()
    events = await take(sub)
    assert [e.n for e in events if isinstance(e, Fill)] == list(range(1, 10_000, 2))
    assert [e.n for e in events if isinstance(e, Tick)] == [9_990, 9_992, 9_994, 9_996, 9_998]
    assert ns(events) == sorted(ns(events))  # one stream in publish order
    assert stats.dropped + len(events) == 10_000


async def test_all_critical_flood_into_tiny_queue() -> None:
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=10)

    for n in range(10_000):
        bus.publish(Fill(n=n))

    stats = bus.stats()[0]
    assert (stats.queued, stats.backlog, stats.dropped) == (10, 9_990, 0)
    bus.publish(Tick(n=-1))  # full of criticals: the newcomer is the only one to drop
    assert bus.stats()[0].dropped == 1
    bus.close()
    assert ns(await take(sub)) == list(range(10_000))


async def test_close_drains_then_ends_iteration() -> None:
    bus = EventBus()
    sub = bus.subscribe("s")
    got: list[int] = []

    async def reader() -> None:
        async for event in sub:
            assert isinstance(event, Tick)
            got.append(event.n)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)  # reader is now waiting on an empty queue
    for n in range(5):
        bus.publish(Tick(n=n))
    bus.close()
    bus.publish(Tick(n=99))  # after close: counted, ignored

    await asyncio.wait_for(task, 1)
    assert got == [0, 1, 2, 3, 4]
    assert bus.after_close == 1
    with pytest.raises(RuntimeError, match="closed"):
        bus.subscribe("late")


async def test_subscription_close_detaches_and_frees_name() -> None:
    bus = EventBus()
    sub = bus.subscribe("s")
    bus.publish(Tick(n=1))
    sub.close()
    bus.publish(Tick(n=2))

    assert ns(await take(sub)) == [1]
    assert bus.stats() == []
    bus.subscribe("s")  # the name is free again
    with pytest.raises(ValueError, match="already exists"):
        bus.subscribe("s")


async def test_close_without_drain_discards() -> None:
    bus = EventBus()
    sub = bus.subscribe("s")
    bus.publish(Fill(n=1))
    sub.close(drain=False)
    assert await take(sub) == []


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        EventBus().subscribe("s", maxsize=0)


async def test_callback_subscriber_isolates_errors(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    handled: list[int] = []

    async def handler(event: Event) -> None:
        assert isinstance(event, Tick)
        if event.n % 3 == 0:
            raise RuntimeError(f"boom {event.n}")
        handled.append(event.n)

    bus.subscribe_callback("notifier", handler, kinds=(Tick,))
    with caplog.at_level(logging.ERROR, logger="trading.bus"):
        for n in range(10):
            bus.publish(Tick(n=n))
        bus.publish(
            SignalRaised(
                market="KRW-BTC", action="enter", price=Decimal(1), strategy="x", reason="y"
            )
        )
        await bus.stop(grace_s=1)

    assert handled == [1, 2, 4, 5, 7, 8]
    (stats,) = bus.stats()
    assert (stats.errors, stats.delivered) == (4, 10)
    assert sum("boom" in r.getMessage() or r.exc_info is not None for r in caplog.records) == 4


async def test_stop_cancels_a_callback_that_does_not_drain() -> None:
    bus = EventBus()
    started = asyncio.Event()

    async def stuck(_event: Event) -> None:
        started.set()
        await asyncio.sleep(3600)

    bus.subscribe_callback("stuck", stuck)
    bus.publish(Tick(n=1))
    await started.wait()
    await asyncio.wait_for(bus.stop(grace_s=0.05), 1)
    assert bus.closed
