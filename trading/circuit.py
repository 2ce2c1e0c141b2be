"""A circuit breaker: after N consecutive failures, refuse calls fast until a probe succeeds.

closed --N failures--> open --reset_s elapsed--> half_open --probe ok--> closed
                                                    \\--probe fails--> open
Only transient failures (network, timeouts, 5xx) count; a rejected order is the exchange
working normally.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from enum import Enum

from trading.errors import CircuitOpen
from trading.events import CircuitStateChanged, EventSink, ignore_event


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(eq=False, slots=True)
class CircuitBreaker:
    name: str = "upbit-rest"
    _: KW_ONLY
    failure_threshold: int = 5
    reset_s: float = 30.0
    on_event: EventSink = ignore_event
    clock: Callable[[], float] = time.monotonic
    state: CircuitState = field(default=CircuitState.CLOSED, init=False)
    failures: int = field(default=0, init=False)
    _opened_at: float = field(default=0.0, init=False)
    _probe_in_flight: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")

    def before_call(self) -> None:
        """Raise ``CircuitOpen`` unless a call may go out now."""
        if self.state is CircuitState.OPEN:
            if self.clock() - self._opened_at < self.reset_s:
                raise CircuitOpen(
                    f"{self.name} circuit is open after {self.failures} consecutive failures",
                    name="circuit_open",
                )
            self._move(CircuitState.HALF_OPEN, "reset timeout elapsed, probing")
        if self.state is CircuitState.HALF_OPEN:
            if self._probe_in_flight:
                raise CircuitOpen(
                    f"{self.name} circuit is half-open, probe in flight", name="circuit_open"
                )
            self._probe_in_flight = True

    def record_success(self) -> None:
        self._probe_in_flight = False
        self.failures = 0
        if self.state is not CircuitState.CLOSED:
            self._move(CircuitState.CLOSED, "probe succeeded")

    def record_failure(self, reason: str) -> None:
        self._probe_in_flight = False
        self.failures += 1
        if self.state is CircuitState.HALF_OPEN or (
            self.state is CircuitState.CLOSED and self.failures >= self.failure_threshold
        ):
            self._opened_at = self.clock()
            self._move(CircuitState.OPEN, reason)

    def record_neutral(self) -> None:
        """A call that proved nothing either way (e.g. 429): just release a probe slot."""
        self._probe_in_flight = False

    def _move(self, new: CircuitState, reason: str) -> None:
        old, self.state = self.state, new
        self.on_event(
            CircuitStateChanged(name=self.name, old=old.value, new=new.value, reason=reason)
        )
