"""``Pacer.send``: the one path into a chat, for command replies and pushes alike."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.notify.pacing import Limits, Pacer
from bot.notify.sender import RetryAfter, TransientSendError

FREE = Limits(min_interval_s=0.0, per_chat_max=0, global_max=0)


async def test_a_retry_after_is_waited_out_exactly_then_the_message_is_sent_again():
    # Arrange: the platform refuses the first try with "retry after 0.2 s"
    pacer = Pacer(FREE)
    tries: list[tuple[float, float]] = []  # (when, flood delay given)
    waits: list[float] = []

    async def attempt(flood_delay: float) -> str:
        tries.append((time.monotonic(), flood_delay))
        if len(tries) == 1:
            raise RetryAfter(0.2)
        return "sent"

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    # Act
    result = await pacer.send("c", attempt, on_wait=on_wait)

    # Assert: sent once more, not before the wait was over, and told it was held up
    assert result == "sent"
    assert waits == [0.2]
    (first, _), (second, delay) = tries
    assert second - first >= 0.2
    assert delay >= 0.2


async def test_a_sender_queued_behind_a_wait_waits_too_and_knows_why():
    pacer = Pacer(FREE)
    pacer.block("c", 0.2)
    blocked_at = time.monotonic()
    delays: list[float] = []

    async def attempt(flood_delay: float) -> None:
        delays.append(flood_delay)

    await asyncio.gather(pacer.send("c", attempt), pacer.send("c", attempt))
    await pacer.send("other", attempt)  # another chat never waited

    assert time.monotonic() - blocked_at >= 0.2
    assert delays[0] > 0
    assert delays[1] > 0
    assert delays[2] == 0


async def test_senders_to_one_chat_get_their_slots_in_order():
    pacer = Pacer(Limits(min_interval_s=0.01, per_chat_max=0, global_max=0))
    order: list[int] = []

    async def attempt(n: int, _flood_delay: float) -> None:
        order.append(n)

    await asyncio.gather(*(pacer.send("c", lambda d, n=n: attempt(n, d)) for n in range(5)))

    assert order == [0, 1, 2, 3, 4]


async def test_a_refused_try_does_not_count_against_the_chats_window():
    pacer = Pacer(Limits(min_interval_s=0.0, per_chat_max=1, per_chat_window_s=60, global_max=0))
    tries = 0

    async def attempt(_flood_delay: float) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise RetryAfter(0.05)

    await pacer.send("c", attempt)  # refused once, then sent: one message in the window

    assert tries == 2
    assert len(pacer.chats["c"].window.times) == 1


async def test_other_errors_are_the_callers_and_the_try_counts():
    pacer = Pacer(Limits(min_interval_s=0.0, per_chat_max=1, per_chat_window_s=60, global_max=0))

    async def attempt(_flood_delay: float) -> None:
        raise TransientSendError("down")

    with pytest.raises(TransientSendError):
        await pacer.send("c", attempt)

    assert pacer.delay("c") > 0  # the failed try may have reached the chat: it counts


async def test_a_shorter_retry_after_never_shortens_an_earlier_wait():
    pacer = Pacer(FREE)
    pacer.block("c", 30)
    pacer.block("c", 1)

    assert pacer.delay("c") > 29
