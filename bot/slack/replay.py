"""Each signed Slack request runs once: what was accepted inside the signature window is kept.

Slack's signature proves who sent a request, not that it is new: the same bytes posted again
within the 5 minutes a timestamp stays valid pass the check again, and a captured ``/upbit
pause`` would run twice. Slack's own retries (``X-Slack-Retry-Num``) are the same body signed
anew, so the key is the body's SHA-256, which catches both; a slash command's or a button's
body is unique per invocation (``trigger_id``), so two real commands never share it.

Memory is bounded: an entry lives ``keep_s`` after it was last seen (its timestamp if that
is later): the 5 minutes its signature stays valid, and as long again for Slack's retries
(immediately, after 1 and after 5 minutes; each one seen extends it). At ``cap`` entries the
oldest is dropped, and a request no newer than a dropped one is refused from then on, since
it could be that one again: a full cache refuses, it never forgets into a replay.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

#: how long Slack's signature check accepts a request timestamp (slack_sdk: 5 minutes)
SIGNATURE_WINDOW_S = 300.0
#: the signature window, then as long again for a retry Slack sends 5 minutes later
KEEP_S = 2 * SIGNATURE_WINDOW_S
CAP = 10_000


class Seen(StrEnum):
    NEW = "new"  # run it
    AGAIN = "again"  # accepted before: a replay or one of Slack's retries; do not run
    UNSURE = "unsure"  # older than what the cap made us forget: refuse, it may be a replay


@dataclass
class _Entry:
    expires: float
    timestamp: float


@dataclass
class ReplayGuard:
    """The bodies of accepted requests, until their signatures expire."""

    keep_s: float = KEEP_S
    cap: int = CAP
    clock: Callable[[], float] = time.time  # the signature check's clock: Unix seconds
    _seen: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    _forgot_up_to: float = float("-inf")  # the newest timestamp dropped by the cap

    def __post_init__(self) -> None:
        if self.keep_s < SIGNATURE_WINDOW_S or self.cap < 1:
            raise ValueError("ReplayGuard must keep entries for the signature window, cap >= 1")

    def __len__(self) -> int:
        return len(self._seen)

    def check(self, body: bytes, timestamp: float) -> Seen:
        """Whether a correctly signed ``body`` (sent at ``timestamp``) is new, and remember it.

        Call it only after the signature was verified: unsigned junk must not fill the cache.
        """
        now = self.clock()
        self._expire(now)
        key = hashlib.sha256(body).hexdigest()
        expires = max(timestamp, now) + self.keep_s
        entry = self._seen.get(key)
        if entry is not None:  # a retry comes signed anew: keep it as long as the newest
            entry.expires = max(entry.expires, expires)
            entry.timestamp = max(entry.timestamp, timestamp)
            self._seen.move_to_end(key)
            return Seen.AGAIN
        if timestamp <= self._forgot_up_to:
            return Seen.UNSURE
        while len(self._seen) >= self.cap:
            _, dropped = self._seen.popitem(last=False)
            self._forgot_up_to = max(self._forgot_up_to, dropped.timestamp)
        self._seen[key] = _Entry(expires, timestamp)
        return Seen.NEW

    def _expire(self, now: float) -> None:
        """Drop the entries whose requests can no longer pass the signature check. Entries
        are in the order they were last seen, so the oldest expire first (a later one with a
        skewed timestamp waits behind them a few minutes at most, within the cap)."""
        while self._seen:
            key, entry = next(iter(self._seen.items()))
            if entry.expires > now:
                return
            del self._seen[key]
