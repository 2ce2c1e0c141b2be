"""Per-chat and per-transport pacing at the platforms' published limits, and the one path
every message into a chat takes (``Pacer.send``): command replies, pushes and every later part
of a long message alike.

Each transport kind declares its platform's ``Limits`` (``TransportKind.limits``, e.g. one
message a second per chat); ``bot.transports.registry.pacers_from_config`` makes one pacer per
transport. A ``RetryAfter`` from the platform blocks that chat for exactly the time asked:
nothing, reply or push, goes into it before then, and the refused message is sent again after
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.notify.sender import RetryAfter

T = TypeVar("T")
Attempt = Callable[[float], Awaitable[T]]  # given the flood delay so far (0: none), sends once
OnWait = Callable[[float], Awaitable[None]]  # told each RetryAfter's seconds before the wait


@dataclass(frozen=True, slots=True)
class Limits:
    """``min_interval_s`` between two sends in one chat, at most ``per_chat_max`` sends in any
    ``per_chat_window_s`` in one chat, at most ``global_max`` in any ``global_window_s`` across
    the transport's chats (0 = no such limit)."""

    min_interval_s: float = 1.0
    per_chat_max: int = 20
    per_chat_window_s: float = 60.0
    global_max: int = 30
    global_window_s: float = 1.0


#: The console prints at once: no pace.
CONSOLE_LIMITS = Limits(0.0, 0, 60.0, 0, 1.0)


class Window:
    """At most ``limit`` events in any ``span`` seconds (sliding window); limit 0 = none."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        if self.limit <= 0:
            return 0.0
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.span - now

    def record(self, now: float) -> None:
        if self.limit > 0:
            self.times.append(now)


class _Chat:
    def __init__(self, limits: Limits) -> None:
        self.window = Window(limits.per_chat_max, limits.per_chat_window_s)
        self.last = float("-inf")
        self.blocked_until = float("-inf")
        self.blocks = 0  # RetryAfters so far: tells a waiting send it was held by one
        self.turn = asyncio.Lock()  # FIFO: senders to one chat get their slots in order


class Pacer:
    """One transport's pacing; ``send(chat, attempt)`` is how anything goes into ``chat``.
    Single event loop: no await between the check and the booking."""

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self.window = Window(limits.global_max, limits.global_window_s)
        self.chats: dict[str, _Chat] = {}

    def _chat(self, chat: str) -> _Chat:
        state = self.chats.get(chat)
        if state is None:
            state = self.chats[chat] = _Chat(self.limits)
        return state

    def delay(self, chat: str) -> float:
        now = self.monotonic()
        state = self._chat(chat)
        return max(
            0.0,
            state.blocked_until - now,
            state.last + self.limits.min_interval_s - now,
            state.window.wait(now),
            self.window.wait(now),
        )

    async def wait_turn(self, chat: str) -> None:
        """Wait until a send to ``chat`` would be allowed; books nothing."""
        while (wait := self.delay(chat)) > 0:  # noqa: ASYNC110 - a deadline, not a flag
            await asyncio.sleep(wait)

    async def acquire(self, chat: str) -> float:
        """Wait for a slot (in turn with other senders to ``chat``) and book it; returns the
        booking for ``sent``."""
        state = self._chat(chat)
        async with state.turn:
            await self.wait_turn(chat)
            now = self.monotonic()
            state.last = now
            state.window.record(now)
            self.window.record(now)
            return now

    async def send(self, chat: str, attempt: Attempt[T], *, on_wait: OnWait | None = None) -> T:
        """Send one message into ``chat`` at the platform's pace; on ``RetryAfter`` block the
        chat for exactly that long and send it again, until it goes out (or ``attempt`` fails
        otherwise, which is the caller's). ``attempt`` is given the seconds this message has
        been held up by flood control so far (0 if no ``RetryAfter`` held it), so a reply can
        say it is late."""
        state = self._chat(chat)
        start = self.monotonic()
        held = state.blocked_until > start
        blocks = state.blocks
        while True:
            booked = await self.acquire(chat)
            flooded = held or state.blocks != blocks
            try:
                result = await attempt(self.monotonic() - start if flooded else 0.0)
            except RetryAfter as exc:
                self.block(chat, exc.seconds, booked=booked)
                if on_wait is not None:
                    await on_wait(exc.seconds)
                continue
            except BaseException:
                self.sent(chat, booked)
                raise
            self.sent(chat, booked)
            return result

    def sent(self, chat: str, booked: float) -> None:
        """The send booked at ``booked`` has returned: count it from now instead, so the time
        spent sending can never squeeze more messages into a window than allowed."""
        now = self.monotonic()
        state = self._chat(chat)
        state.last = max(state.last, now)
        for window in (state.window, self.window):
            if window.limit > 0:
                with contextlib.suppress(ValueError):
                    window.times.remove(booked)
                window.times.append(now)

    def block(self, chat: str, seconds: float, *, booked: float | None = None) -> None:
        """The platform said "retry after ``seconds``": nothing goes to ``chat`` before then
        (a later, shorter answer never shortens an earlier wait). The refused attempt (booked
        at ``booked``) does not count as a send, so the wait is exactly ``seconds``."""
        state = self._chat(chat)
        state.blocked_until = max(state.blocked_until, self.monotonic() + seconds)
        state.last = float("-inf")
        state.blocks += 1
        if booked is not None:
            for window in (state.window, self.window):
                with contextlib.suppress(ValueError):
                    window.times.remove(booked)
