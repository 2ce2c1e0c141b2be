"""Per-group sliding-window rate limiter with Upbit's 429 -> 418 escalation.

Rules (see reference §7):

* Each group allows ``limit`` requests per second, counted over a sliding window: a request is
  accepted when fewer than ``capacity`` accepted requests happened in the last ``window``
  seconds.  For ``limit >= 1`` the window is 1 s and capacity ``int(limit)``; for slower groups
  (``order-cancel-all`` = 0.5/s) the window is ``1/limit`` s with capacity 1.
* ``Remaining-Req: group=<g>; min=<n>; sec=<left>`` where ``sec`` is what is left in the window
  after this request (0 on 429/418) and ``min`` is a fixed, meaningless number (limit * 60).
* An over-limit request gets 429.  The first ``max_429`` (5) of them within 10 s are answered
  429; the next one starts a ban of ``ban_seconds`` for that group and is answered 418, and so
  is every request of the group until the ban ends.
* 418 body (JSON): ``{"error": {"name": "too_many_requests_blocked",
  "message": "Too many requests. 3초 동안 차단됩니다."}}`` -- the number before ``초`` is the
  remaining ban time in whole seconds (rounded up).
* 429 body: the plain text ``Too many API requests.`` (``plain_text_429``) or
  ``{"error": {"name": "too_many_requests", "message": "Too many API requests."}}``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

DEFAULT_LIMITS: dict[str, float] = {
    "market": 10,
    "candles": 10,
    "trade": 10,
    "ticker": 10,
    "orderbook": 10,
    "default": 30,
    "order": 12,  # 8 before 2026-08-21
    "order-test": 8,
    "order-cancel-all": 0.5,
}
ALIASES = {"candle": "candles"}


@dataclass
class Decision:
    status: int  # 0 = allowed, else 429 / 418
    group: str
    remaining: int
    minute: int
    ban_left: float = 0.0


@dataclass
class _Group:
    limit: float
    hits: deque[float] = field(default_factory=deque)
    rejects: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0

    @property
    def window(self) -> float:
        return 1.0 if self.limit >= 1 else 1.0 / self.limit

    @property
    def capacity(self) -> int:
        return max(1, int(self.limit)) if self.limit >= 1 else 1


class RateLimiter:
    def __init__(
        self,
        overrides: dict[str, float] | None = None,
        *,
        ban_seconds: float = 3.0,
        max_429: int = 5,
        reject_window: float = 10.0,
    ) -> None:
        limits = dict(DEFAULT_LIMITS)
        for name, value in (overrides or {}).items():
            limits[ALIASES.get(name, name)] = value
        self._groups = {name: _Group(limit) for name, limit in limits.items()}
        self.ban_seconds = ban_seconds
        self.max_429 = max_429
        self.reject_window = reject_window
        self.enabled = True

    def _group(self, name: str) -> _Group:
        name = ALIASES.get(name, name)
        if name not in self._groups:
            self._groups[name] = _Group(DEFAULT_LIMITS["default"])
        return self._groups[name]

    def ban(self, group: str, seconds: float) -> None:
        self._group(group).banned_until = time.monotonic() + seconds

    def reset(self) -> None:
        for grp in self._groups.values():
            grp.hits.clear()
            grp.rejects.clear()
            grp.banned_until = 0.0

    def check(self, name: str) -> Decision:
        name = ALIASES.get(name, name)
        grp = self._group(name)
        now = time.monotonic()
        minute = max(1, int(grp.limit * 60))
        while grp.hits and now - grp.hits[0] >= grp.window:
            grp.hits.popleft()
        if now < grp.banned_until:
            return Decision(418, name, 0, minute, grp.banned_until - now)
        if not self.enabled:
            return Decision(0, name, grp.capacity, minute)
        if len(grp.hits) >= grp.capacity:
            while grp.rejects and now - grp.rejects[0] >= self.reject_window:
                grp.rejects.popleft()
            grp.rejects.append(now)
            if len(grp.rejects) > self.max_429:
                grp.rejects.clear()
                grp.banned_until = now + self.ban_seconds
                return Decision(418, name, 0, minute, self.ban_seconds)
            return Decision(429, name, 0, minute)
        grp.hits.append(now)
        return Decision(0, name, grp.capacity - len(grp.hits), minute)

    def peek(self, name: str) -> Decision:
        """The group's current state without charging a request."""
        name = ALIASES.get(name, name)
        grp = self._group(name)
        now = time.monotonic()
        used = sum(1 for hit in grp.hits if now - hit < grp.window)
        return Decision(0, name, max(0, grp.capacity - used), max(1, int(grp.limit * 60)))


def header_value(decision: Decision) -> str:
    return f"group={decision.group}; min={decision.minute}; sec={decision.remaining}"


def ban_message(seconds: float) -> str:
    return f"Too many requests. {max(1, math.ceil(seconds))}초 동안 차단됩니다."
