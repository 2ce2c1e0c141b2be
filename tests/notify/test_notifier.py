"""Delivery: ordered, paced, retried, coalesced, persistent across restarts, marked late."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from datetime import UTC, datetime

from bot.notify import PermanentSendError, RetryAfter, TransientSendError
from tests.notify.conftest import (
    AT,
    FAST,
    FakeClock,
    FakeSender,
    field,
    fill,
    make_notifier,
    until,
)
from trading import events as ev
from trading.bus import EventBus


def published_in_order(sender: FakeSender, chat: str) -> list[str]:
    return [field(s.reply, "Order") for s in sender.to(chat)]


async def test_every_fill_of_a_scenario_arrives_in_order(store) -> None:
    bus = EventBus()
    sender = FakeSender()
    # windows far longer than the work they hold: a busy CI machine must not split a merge
    notifier = make_notifier(
        store, {"telegram": sender}, {"telegram": ["7", "-100"]}, coalesce_s=0.5
    )
    notifier.subscribe(bus)
    await notifier.start()

    for order in range(8):
        for n in range(4):
            bus.publish(fill(f"o{order}", n, complete=n == 3, at=datetime.now(UTC)))
        await asyncio.sleep(0.8)  # the next order comes after this one's coalescing window
    await until(lambda: notifier.pending == 0 and notifier.stats.enqueued == 64)
    await notifier.stop()
    await bus.stop()

    for chat in ("7", "-100"):
        assert published_in_order(sender, chat) == [f"o{i}" for i in range(8)]
        assert all(field(s.reply, "Fills") == "4" for s in sender.to(chat))
        assert all(field(s.reply, "Volume") == "0.004" for s in sender.to(chat))
    assert notifier.stats.merged == 16 * 3
    assert await store.pending_notifications() == 0


async def test_retry_after_is_honoured_exactly(store) -> None:
    sender = FakeSender()
    sender.script.extend([RetryAfter(0.3)])
    notifier = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]}, coalesce_s=0)
    await notifier.start()
    await notifier.on_event(ev.RiskBreached(check="daily_loss", market=None, reason="limit"))
    await until(lambda: len(sender.sent) == 1)
    await notifier.stop()

    (_, first), (_, second) = sender.calls
    assert 0.3 <= second - first < 0.5
    assert sender.sent[0].reply.title == "[PAPER] Risk alert · daily_loss"


async def test_a_chat_outage_loses_nothing_and_never_blocks_publish(store) -> None:
    bus = EventBus()
    sender = FakeSender()
    sender.down = True
    notifier = make_notifier(
        store, {"telegram": sender}, {"telegram": ["7"]}, retry_max=1, coalesce_s=0
    )
    notifier.subscribe(bus)
    await notifier.start()

    started = time.perf_counter()
    for i in range(40):
        bus.publish(fill(f"o{i}", 0, complete=True))
        bus.publish(ev.RiskBreached(check="max_open", market="KRW-BTC", reason=f"r{i}"))
    publish_s = time.perf_counter() - started
    tried_inline = len(sender.calls)  # publishing is synchronous: nothing was sent meanwhile
    await until(lambda: notifier.stats.enqueued == 80)
    await asyncio.sleep(0.5)  # down for a while: many failed tries, far past retry_max
    assert sender.sent == []
    assert len(sender.calls) > 5
    sender.down = False
    await until(lambda: notifier.pending == 0)
    await notifier.stop()
    await bus.stop()

    assert tried_inline == 0
    assert publish_s < 10  # a hang, not a speed: a busy CI machine may be slow
    fills = [s for s in sender.sent if "Filled" in s.reply.title]
    assert sorted(field(s.reply, "Order") for s in fills) == sorted(f"o{i}" for i in range(40))
    risk_lines = sum(
        len(s.reply.lines) if "in all" in s.reply.title else 1
        for s in sender.sent
        if "Risk alert" in s.reply.title
    )
    assert risk_lines == 40
    assert notifier.stats.dropped == 0
    assert await store.pending_notifications() == 0


async def test_non_critical_gives_up_after_retry_max_and_permanent_errors_drop(store) -> None:
    sender = FakeSender()
    sender.script.extend([TransientSendError("x")] * 3 + [PermanentSendError("chat not found")])
    notifier = make_notifier(
        store, {"slack": sender}, {"slack": ["C1"]}, retry_max=2, coalesce_s=0
    )
    await notifier.start()
    await notifier.on_event(ev.FeedStalled(stream="public", silent_for_s=31))
    await until(lambda: notifier.stats.dropped == 1)
    await notifier.on_event(
        ev.OrderRejected(intent_id="i", market="KRW-BTC", name="n", reason="r")
    )
    await until(lambda: notifier.stats.dropped == 2)
    await notifier.on_event(ev.FeedRecovered(stream="public"))
    await until(lambda: len(sender.sent) == 1)
    await notifier.stop()

    audit = await store.audit_log()
    assert [(a.command, a.outcome) for a in reversed(audit)] == [
        ("notify:feed", "dropped"),
        ("notify:rejected", "dropped"),
    ]
    assert "chat not found" in (audit[0].detail or "")
    assert sender.sent[0].reply.title == "[PAPER] Market feed recovered · public"
    assert await store.pending_notifications() == 0


async def test_a_burst_of_1000_events_is_delivered_within_the_limits(store) -> None:
    bus = EventBus()
    telegram, slack = FakeSender(), FakeSender()
    chats = {"telegram": ["-1001", "42"], "slack": ["C1"]}
    notifier = make_notifier(store, {"telegram": telegram, "slack": slack}, chats)
    notifier.subscribe(bus)
    await notifier.start()

    for i in range(1000):
        match i % 10:
            case 0 | 1 | 2 | 3:  # 400 fills: 40 orders of 10 partial fills
                order = i // 25
                bus.publish(fill(f"o{order}", i, complete=False))
            case 4 | 5 | 6:  # 300 risk refusals (critical)
                bus.publish(ev.RiskBreached(check="max_open", market=None, reason=f"r{i % 7}"))
            case _:  # 300 feed warnings (may be merged or shed)
                bus.publish(ev.FeedStalled(stream="public", silent_for_s=float(i)))
    await until(lambda: notifier.stats.enqueued == 3000, limit_s=60)
    await until(lambda: notifier.pending == 0, limit_s=60)
    await notifier.stop()
    await bus.stop()

    assert notifier.stats.dropped == 0
    assert notifier.stats.shed == 0
    assert notifier.stats.sent + notifier.stats.merged == 3000
    for sender, chat in ((telegram, "-1001"), (telegram, "42"), (slack, "C1")):
        got = sender.to(chat)
        fills = [s for s in got if "Filled" in s.reply.title]
        assert sum(int(dict(s.reply.fields).get("Fills", "1")) for s in fills) == 400
        assert sorted({field(s.reply, "Order") for s in fills}) == sorted(
            {f"o{k}" for k in range(40)}
        )
        assert any("Risk alert" in s.reply.title for s in got)
        times = [s.at for s in got]
        assert all(b - a >= FAST.min_interval_s * 0.99 for a, b in itertools.pairwise(times))
        assert max_in_window(times, FAST.per_chat_window_s) <= FAST.per_chat_max
    all_telegram = sorted(s.at for s in telegram.sent)
    assert max_in_window(all_telegram, FAST.global_window_s) <= FAST.global_max
    assert await store.pending_notifications() == 0


def max_in_window(times: list[float], span: float) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_a_long_queue_sheds_non_critical_messages_only(store) -> None:
    sender = FakeSender()
    notifier = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]}, max_queue=10)
    for i in range(30):
        await notifier.on_event(ev.FeedStalled(stream="public", silent_for_s=float(i)))
        await notifier.on_event(fill(f"o{i}", 0, complete=True))

    assert notifier.stats.shed == 25  # feed warnings once 10 messages wait
    assert await store.pending_notifications() == 35  # 5 feed + every one of the 30 fills


async def test_a_new_notifier_delivers_what_the_last_one_left(store) -> None:
    down = FakeSender()
    down.down = True
    first = make_notifier(store, {"telegram": down}, {"telegram": ["7"]}, coalesce_s=0)
    await first.start()
    for i in range(5):
        await first.on_event(fill(f"o{i}", 0, complete=True))
    await until(lambda: len(down.calls) >= 2)
    await first.stop(grace_s=0.1)  # "crash": nothing delivered, claimed rows given back
    assert await store.pending_notifications() == 5

    up = FakeSender()
    second = make_notifier(store, {"telegram": up}, {"telegram": ["7"]}, coalesce_s=0)
    await second.start()
    await until(lambda: len(up.sent) == 5)
    await second.stop()

    assert published_in_order(up, "7") == [f"o{i}" for i in range(5)]
    assert await store.pending_notifications() == 0


async def test_stop_flushes_within_the_grace_period_and_keeps_the_rest(store) -> None:
    sender = FakeSender()
    notifier = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]}, coalesce_s=0)
    await notifier.start()
    for i in range(3):
        await notifier.on_event(fill(f"o{i}", 0, complete=True))
    await notifier.stop(grace_s=2)
    assert len(sender.sent) == 3

    sender.hang = True
    again = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]}, coalesce_s=0)
    await again.start()
    await again.on_event(fill("o9", 0, complete=True))
    await until(lambda: len(sender.calls) == 4)
    started = time.monotonic()
    await again.stop(grace_s=0.2)
    assert time.monotonic() - started < 1
    assert await store.pending_notifications() == 1


async def test_messages_delivered_late_say_so(store) -> None:
    clock = FakeClock(AT)
    sender = FakeSender()
    notifier = make_notifier(
        store,
        {"telegram": sender},
        {"telegram": ["7"]},
        clock=clock,
        late_after_s=60,
        coalesce_s=0,
    )
    await notifier.on_event(fill("o1", 0, complete=True))  # queued while the bot is down
    clock.advance(600)
    await notifier.start()
    await notifier.on_event(fill("o2", 0, complete=True))
    await until(lambda: len(sender.sent) == 2)
    await notifier.stop()

    titles = [s.reply.title for s in sender.sent]
    assert titles == [
        "[PAPER] Filled · KRW-BTC buy (late: 12:03 KST)",
        "[PAPER] Filled · KRW-BTC buy",
    ]


async def test_korean_pushes_and_reports_through_push(store) -> None:
    from handlers.reply import Image, Reply

    sender = FakeSender()
    notifier = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]}, language="ko")
    await notifier.start()
    await notifier.push(Reply("[모의] 일일 리포트", image=Image("e.png", b"\x89PNG", "곡선")))
    await notifier.on_event(fill("o1", 0, complete=True))
    await until(lambda: len(sender.sent) == 2)
    await notifier.stop()

    by_title = defaultdict(list)
    for s in sender.sent:
        by_title[s.reply.title].append(s)
    assert by_title["[모의] 일일 리포트"][0].reply.image.data == b"\x89PNG"  # type: ignore[union-attr]
    assert "[모의] 체결 · KRW-BTC 매수" in by_title
