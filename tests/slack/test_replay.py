"""ReplayGuard on its own: what it remembers, for how long, and what it does when full."""

from __future__ import annotations

import pytest

from bot.slack.replay import KEEP_S, SIGNATURE_WINDOW_S, ReplayGuard, Seen


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_same_body_is_new_once_whatever_its_timestamp():
    clock = Clock()
    guard = ReplayGuard(clock=clock)

    assert guard.check(b"pause", clock.now) is Seen.NEW
    assert guard.check(b"pause", clock.now) is Seen.AGAIN  # a replay
    assert guard.check(b"pause", clock.now + 60) is Seen.AGAIN  # Slack's retry, signed anew
    assert guard.check(b"resume", clock.now) is Seen.NEW


def test_entries_expire_after_the_signature_window_and_the_retries():
    clock = Clock()
    guard = ReplayGuard(clock=clock)
    sent = clock.now
    guard.check(b"pause", sent)

    clock.now = sent + SIGNATURE_WINDOW_S + 1  # a replay fails the signature check by now
    assert guard.check(b"other", clock.now) is Seen.NEW
    assert guard.check(b"pause", sent + SIGNATURE_WINDOW_S) is Seen.AGAIN  # a late retry
    clock.now = sent + SIGNATURE_WINDOW_S + KEEP_S + 1
    assert guard.check(b"third", clock.now) is Seen.NEW

    assert len(guard) == 1  # "pause" and "other" are gone
    assert guard.check(b"pause", clock.now) is Seen.NEW


def test_a_full_cache_drops_the_oldest_and_refuses_what_it_cannot_tell():
    clock = Clock()
    guard = ReplayGuard(cap=3, clock=clock)
    for n in range(3):
        assert guard.check(f"cmd {n}".encode(), clock.now + n) is Seen.NEW

    assert guard.check(b"cmd 3", clock.now + 3) is Seen.NEW  # "cmd 0" is dropped

    assert len(guard) == 3
    assert guard.check(b"cmd 0", clock.now) is Seen.UNSURE  # maybe a replay: not run
    assert guard.check(b"cmd 1", clock.now + 1) is Seen.AGAIN
    assert guard.check(b"cmd 4", clock.now + 4) is Seen.NEW


@pytest.mark.parametrize(("keep_s", "cap"), [(60.0, 10), (KEEP_S, 0)])
def test_bad_settings_are_refused(keep_s, cap):
    with pytest.raises(ValueError, match="signature window"):
        ReplayGuard(keep_s=keep_s, cap=cap)
