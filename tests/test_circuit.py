from __future__ import annotations

import pytest

from trading.circuit import CircuitBreaker, CircuitState
from trading.errors import CircuitOpen
from trading.events import CircuitStateChanged


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def make(events):
    clock = Clock()
    return clock, CircuitBreaker(
        failure_threshold=3, reset_s=10, on_event=events.append, clock=clock
    )


def test_opens_after_threshold_and_rejects_fast():
    events: list[CircuitStateChanged] = []
    _, breaker = make(events)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure("HTTP 500")

    with pytest.raises(CircuitOpen, match="open after 3 consecutive failures"):
        breaker.before_call()
    assert breaker.state is CircuitState.OPEN
    assert [(e.old, e.new) for e in events] == [("closed", "open")]


def test_success_resets_the_count():
    _, breaker = make([])
    breaker.record_failure("x")
    breaker.record_failure("x")
    breaker.record_success()
    breaker.record_failure("x")

    assert breaker.state is CircuitState.CLOSED


def test_half_open_allows_one_probe_then_closes():
    events: list[CircuitStateChanged] = []
    clock, breaker = make(events)
    for _ in range(3):
        breaker.record_failure("x")
    clock.now = 10.5

    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen, match="probe in flight"):
        breaker.before_call()
    breaker.record_success()

    assert breaker.state is CircuitState.CLOSED
    assert [(e.old, e.new) for e in events] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_failed_probe_reopens():
    clock, breaker = make([])
    for _ in range(3):
        breaker.record_failure("x")
    clock.now = 11
    breaker.before_call()
    breaker.record_failure("still down")

    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()
