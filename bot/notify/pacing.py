"""Per-chat and per-transport pacing at the platforms' published limits.

Telegram: at most one message a second in a chat, 20 a minute in a group, about 30 a second
across all chats of one bot. Slack ``chat.postMessage``: about one a second per channel. A
``RetryAfter`` from the platform blocks that chat for exactly the time asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


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


TELEGRAM_LIMITS = Limits(1.0, 20, 60.0, 30, 1.0)
SLACK_LIMITS = Limits(1.0, 60, 60.0, 0, 1.0)
CONSOLE_LIMITS = Limits(0.0, 0, 60.0, 0, 1.0)
DEFAULT_LIMITS = {"telegram": TELEGRAM_LIMITS, "slack": SLACK_LIMITS, "console": CONSOLE_LIMITS}


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


class Pacer:
    """One transport's pacing; ``acquire(chat)`` returns when a send to ``chat`` is allowed
    and books it. Single event loop: no await between the check and the booking."""

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

    async def acquire(self, chat: str) -> float:
        """Wait for a slot and book it; returns the booking for ``sent``."""
        while (wait := self.delay(chat)) > 0:  # noqa: ASYNC110 - a deadline, not a flag
            await asyncio.sleep(wait)
        now = self.monotonic()
        state = self._chat(chat)
        state.last = now
        state.window.record(now)
        self.window.record(now)
        return now

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

    def block(self, chat: str, seconds: float) -> None:
        """The platform said "retry after ``seconds``": nothing goes to ``chat`` before then.
        The refused attempt does not count as a send, so the wait is exactly ``seconds``."""
        state = self._chat(chat)
        state.blocked_until = self.monotonic() + seconds
        state.last = float("-inf")
