"""What Upbit refused, remembered: no body is sent twice, no market keeps collecting refusals.

Upbit blocks API keys that keep making refused requests, and a loop that re-sends a refused
order is exactly that. ``RefusalGuard`` stands before every send:

- a body Upbit refused (market, side, type, price, volume, time in force) is not sent again
  within ``window_s``: it would be refused again, since nothing in it changed (what did change,
  a balance adopted by reconciliation, makes a different body);
- per market, at most ``limit`` refused order requests within ``window_s``; the one that
  reaches the bound suspends the market: nothing more is sent there until ``lift`` (an
  operator's ``/resume <market>``).

Only requests Upbit answered with a refusal count (they have an HTTP status); our own checks
before sending cost Upbit nothing. The clock is monotonic and injectable.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from trading.domain.orders import SubmitOrder
from trading.errors import (
    OrderingSuspended,
    OrderRejected,
    RefusedBefore,
    UpbitError,
    ValidationError,
)

#: The documented default bound: refused order requests per market and hour.
REFUSALS_PER_HOUR = 5
WINDOW_S = 3600


def body(intent: SubmitOrder) -> SubmitOrder:
    """The part of an order that decides Upbit's answer: all but its id and our reference."""
    return replace(intent, intent_id="", reference_price=None)


@dataclass(frozen=True, slots=True)
class Suspension:
    market: str
    refusals: int
    reasons: tuple[str, ...]


def sent_and_refused(exc: BaseException) -> bool:
    """Upbit itself refused the order (a 4xx naming the order's fault, not our keys)."""
    return isinstance(exc, OrderRejected | ValidationError) and exc.status is not None


@dataclass(eq=False, slots=True)
class RefusalGuard:
    limit: int = REFUSALS_PER_HOUR
    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _bodies: dict[SubmitOrder, tuple[float, str | int]] = field(default_factory=dict, init=False)
    _refusals: dict[str, deque[tuple[float, str]]] = field(default_factory=dict, init=False)
    suspended: dict[str, Suspension] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("the refusal bound must be at least 1")

    def check(self, intent: SubmitOrder) -> None:
        """Raise if ``intent`` must not be sent; call before anything is journalled."""
        market = intent.market
        if market in self.suspended:
            raise OrderingSuspended(
                f"{market}: orders are suspended after {self.suspended[market].refusals} "
                "refusals; an operator's /resume lifts it",
                market=market,
            )
        now = self.clock()
        seen = self._bodies.get(body(intent))
        if seen is not None and now - seen[0] < self.window_s:
            raise RefusedBefore(
                f"{market}: Upbit refused this very order ({seen[1]}) "
                f"{int(now - seen[0])} s ago; not sent again",
                refused_as=seen[1],
            )

    def refused(self, intent: SubmitOrder, exc: UpbitError) -> Suspension | None:
        """Count a refusal Upbit answered; returns the suspension it caused, if it did."""
        now = self.clock()
        self._forget(now)
        name = exc.name if exc.name != "" else type(exc).__name__
        self._bodies[body(intent)] = (now, name)
        log = self._refusals.setdefault(intent.market, deque())
        log.append((now, str(name)))
        if intent.market in self.suspended or len(log) < self.limit:
            return None
        suspension = Suspension(
            intent.market, len(log), tuple(sorted({reason for _, reason in log}))
        )
        self.suspended[intent.market] = suspension
        return suspension

    def lift(self, market: str | None = None) -> tuple[str, ...]:
        """Lift the suspension of ``market`` (None: all) and forget its refusals."""
        markets = list(self.suspended) if market is None else [market]
        lifted = tuple(m for m in markets if self.suspended.pop(m, None) is not None)
        for m in markets:
            self._refusals.pop(m, None)
            for refused in [b for b in self._bodies if b.market == m]:
                del self._bodies[refused]
        return lifted

    def restore(self, markets: Iterable[str]) -> None:
        """Suspensions kept across a restart (their refusals were counted by the last run)."""
        for market in markets:
            self.suspended.setdefault(market, Suspension(market, self.limit, ()))

    def _forget(self, now: float) -> None:
        cutoff = now - self.window_s
        for log in self._refusals.values():
            while log and log[0][0] <= cutoff:
                log.popleft()
        for refused in [b for b, (at, _) in self._bodies.items() if at <= cutoff]:
            del self._bodies[refused]
