"""Per-group request pacing that queues callers instead of failing them.

Each Upbit group has its own budget per second. The limiter keeps a sliding one-second log of
its own sends (with a small margin for network jitter, since Upbit counts arrivals), trusts the
``Remaining-Req`` header when the server has seen more traffic than we sent (another process on
the same key), backs a group off after a 429, and blocks it entirely while a 418 ban lasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trading.errors import Banned
from trading.events import EventSink, RateLimitBanLifted, RateLimitBanned, ignore_event
from trading.upbit.constants import HEADER_GROUP_ALIASES, RATE_LIMITS

_HEADER = re.compile(r"group=([A-Za-z\-]+);\s*min=(\d+);\s*sec=(\d+)")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RemainingReq:
    group: str
    sec: int


def parse_remaining_req(value: str | None) -> RemainingReq | None:
    """``group=default; min=1800; sec=29`` -> RemainingReq('default', 29); ``min`` is ignored."""
    if not value:
        return None
    match = _HEADER.search(value)
    if not match:
        return None
    group = HEADER_GROUP_ALIASES.get(match.group(1), match.group(1))
    return RemainingReq(group, int(match.group(3)))


class GroupLimiter:
    """Sliding-window pacing for one group.

    A request holds its slot while in flight and is logged at the moment its response came
    back: the server counted it at arrival, which is never later, so our window can only be
    stricter than Upbit's, however long the request waited in the connection pool.
    """

    def __init__(
        self,
        group: str,
        rate_per_s: float,
        *,
        window_s: float = 1.0,
        margin_s: float = 0.01,
        clock: Clock = time.monotonic,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate for {group} must be positive")
        self.group = group
        self.rate = rate_per_s
        # a budget below 1/s (order-cancel-all: 1 per 2 s) becomes 1 per longer window
        self.capacity = max(1, int(rate_per_s)) if rate_per_s >= 1 else 1
        self.window = window_s if rate_per_s >= 1 else window_s / rate_per_s
        self.window += margin_s
        self._clock = clock
        self._done: deque[float] = deque()
        self.in_flight = 0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()
        self.blocked_until = 0.0  # monotonic; set by 429 backoff and 418 bans
        self.banned_until: datetime | None = None
        self.consecutive_429 = 0
        self.remaining: int | None = None  # last ``sec`` seen from the server
        self.waits = 0

    def _prune(self, now: float) -> None:
        while self._done and now - self._done[0] >= self.window:
            self._done.popleft()

    def delay(self, now: float) -> float | None:
        """Seconds until one more request may go out: 0 now, None when only a release helps."""
        self._prune(now)
        wait = max(0.0, self.blocked_until - now)
        excess = len(self._done) + self.in_flight - self.capacity
        if excess >= 0:
            if excess >= len(self._done):
                return None
            wait = max(wait, self._done[excess] + self.window - now)
        return wait

    async def acquire(self, max_wait_s: float) -> None:
        """Wait for a slot (callers queue in FIFO order behind the lock)."""
        async with self._lock:
            while True:
                now = self._clock()
                wait = self.delay(now)
                if wait is not None and wait <= 0:
                    self.in_flight += 1
                    return
                if self.banned_until is not None and (wait or 0) > max_wait_s:
                    raise Banned(
                        f"Upbit blocked the {self.group} group until "
                        f"{self.banned_until.isoformat()}",
                        group=self.group,
                        until=self.banned_until,
                        name="rate_limit_ban",
                    )
                self.waits += 1
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), wait)

    def release(self) -> None:
        """The response (or the failure) is back: the request now counts from this moment."""
        self.in_flight -= 1
        self._done.append(self._clock())
        self._released.set()

    def observe(self, remaining: int) -> None:
        """Align with the server: it may count requests this process did not send."""
        self.remaining = remaining
        now = self._clock()
        self._prune(now)
        local_free = self.capacity - len(self._done) - self.in_flight
        for _ in range(max(0, local_free - remaining)):
            self._done.append(now)
        if remaining > 0 or self.consecutive_429:
            self.consecutive_429 = 0

    def on_429(self) -> float:
        """Back off: the rest of this window, then longer on repeats, with jitter."""
        self.consecutive_429 += 1
        backoff: float = min(self.window * 2.0 ** (self.consecutive_429 - 1), 10.0)
        backoff *= 1 + random.random() * 0.2
        self.blocked_until = max(self.blocked_until, self._clock() + backoff)
        return backoff

    def on_ban(self, until: datetime) -> None:
        seconds = max(0.0, (until - datetime.now(UTC)).total_seconds())
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)
        self.banned_until = until


class RateLimiter:
    """All groups of one Upbit account (exchange groups) and IP (quotation groups)."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        max_wait_s: float = 30.0,
        on_event: EventSink = ignore_event,
        clock: Clock = time.monotonic,
    ) -> None:
        merged = {**RATE_LIMITS, **(rates or {})}
        self.groups = {g: GroupLimiter(g, r, clock=clock) for g, r in merged.items()}
        self.max_wait_s = max_wait_s
        self._on_event = on_event
        self._lift_tasks: dict[str, asyncio.Task[None]] = {}

    def group(self, name: str) -> GroupLimiter:
        if name not in self.groups:
            self.groups[name] = GroupLimiter(name, RATE_LIMITS["default"])
        return self.groups[name]

    @contextlib.asynccontextmanager
    async def slot(self, group: str) -> AsyncIterator[None]:
        """Hold a request slot of ``group`` for the duration of one HTTP exchange."""
        limiter = self.group(group)
        await limiter.acquire(self.max_wait_s)
        try:
            yield
        finally:
            limiter.release()

    def observe_header(self, value: str | None, fallback_group: str) -> None:
        parsed = parse_remaining_req(value)
        if parsed is not None:
            self.group(parsed.group if parsed.group in self.groups else fallback_group).observe(
                parsed.sec
            )

    def on_429(self, group: str) -> float:
        return self.group(group).on_429()

    def on_ban(self, group: str, until: datetime, message: str) -> None:
        limiter = self.group(group)
        already = limiter.banned_until is not None
        limiter.on_ban(until)
        if not already:
            self._on_event(RateLimitBanned(group=group, until=until, message=message))
        old = self._lift_tasks.pop(group, None)
        if old is not None:
            old.cancel()
        self._lift_tasks[group] = asyncio.get_running_loop().create_task(
            self._lift_after(group, until), name=f"upbit-ban-lift-{group}"
        )

    async def _lift_after(self, group: str, until: datetime) -> None:
        await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()))
        limiter = self.group(group)
        limiter.banned_until = None
        limiter.consecutive_429 = 0
        self._lift_tasks.pop(group, None)
        self._on_event(RateLimitBanLifted(group=group))

    async def close(self) -> None:
        tasks = list(self._lift_tasks.values())
        self._lift_tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def ban_remaining(self, group: str) -> timedelta | None:
        until = self.group(group).banned_until
        return None if until is None else until - datetime.now(UTC)
