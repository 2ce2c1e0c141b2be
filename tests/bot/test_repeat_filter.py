"""A repeated warning is rate-limited: a few lines a window, then one that counts the rest."""

from __future__ import annotations

import logging

from bot.logs import RepeatFilter, RepeatLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("asyncio", level, __file__, 1, msg, args or None, None)


def test_a_burst_goes_out_then_the_rest_are_counted_until_the_window_ends():
    clock = Clock()
    limiter = RepeatLimiter(burst=2, window_s=60, clock=clock)
    assert [limiter.admit("k") for _ in range(5)] == [0, 0, None, None, None]
    clock.now = 59.9
    assert limiter.admit("k") is None
    clock.now = 60.0
    assert limiter.admit("k") == 4  # the first out after the window says how many were lost
    assert limiter.admit("k") == 0
    assert limiter.admit("other") == 0  # each kind has its own window


def test_it_forgets_the_least_recently_seen_kinds_first():
    limiter = RepeatLimiter(burst=1, window_s=60, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        assert limiter.admit(key) == 0
    assert limiter.admit("a") == 0  # forgotten, so new again
    assert limiter.admit("c") is None


def test_the_filter_limits_repeated_warnings_only_and_says_how_many_it_dropped():
    clock = Clock()
    rf = RepeatFilter(RepeatLimiter(burst=3, window_s=60, clock=clock))
    accept = "socket.accept() out of system resource\nsocket: <fd=6>"
    passed = [rf.filter(record(accept)) for _ in range(1000)]
    assert passed.count(True) == 3
    # debug and info are asked for: never dropped
    assert all(rf.filter(record("tick", level=logging.DEBUG)) for _ in range(100))
    # the same template with other arguments is another line (two orders, two warnings)
    assert rf.filter(record("order %s refused", "A"))
    assert rf.filter(record("order %s refused", "B"))
    clock.now = 61
    late = record(accept)
    assert rf.filter(late)
    assert late.getMessage().endswith("[997 more like this suppressed]")


def test_the_same_line_with_another_exception_is_another_kind():
    rf = RepeatFilter(RepeatLimiter(burst=1, window_s=60, clock=Clock()))

    def failed(exc: Exception) -> logging.LogRecord:
        line = record("request failed")
        line.exc_info = (type(exc), exc, None)
        return line

    assert rf.filter(failed(OSError(24, "Too many open files")))
    assert not rf.filter(failed(OSError(24, "Too many open files")))
    assert rf.filter(failed(ValueError("another cause")))
