"""Slack-like rate limits: per-method tiers (per token, per minute) plus chat.postMessage's
"about one message per second per channel, short bursts allowed" (a token bucket)."""

from __future__ import annotations

import math
import time
from collections import deque

# Requests per minute per tier (Slack documents "1+", "20+", "50+", "100+" per minute and
# tolerates bursts; the fake allows exactly this many in any 60-second window).
TIERS = {1: 20, 2: 20, 3: 50, 4: 100}

# apps.connections.open is Tier 1 at Slack; the fake lets 20/min through so reconnect tests work.
METHOD_TIERS = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.postMessage": 0,  # special: per channel bucket below
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "users.info": 4,
    "conversations.open": 3,
    "conversations.info": 3,
}


class RateLimiter:
    def __init__(
        self,
        *,
        enabled: bool = True,
        per_channel_rate: float = 1.0,
        per_channel_burst: int = 4,
        tiers: dict[int, int] | None = None,
    ) -> None:
        self.enabled = enabled
        self.per_channel_rate = per_channel_rate
        self.per_channel_burst = per_channel_burst
        self.tiers = dict(tiers or TIERS)
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, last)
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def reset(self) -> None:
        self._buckets.clear()
        self._windows.clear()

    def check(self, method: str, token: str, channel: str | None) -> int | None:
        """``None`` if allowed (and counted), else the Retry-After seconds."""
        if not self.enabled:
            return None
        now = time.monotonic()
        if method == "chat.postMessage" and channel:
            tokens, last = self._buckets.get(channel, (float(self.per_channel_burst), now))
            refill = (now - last) * self.per_channel_rate
            tokens = min(float(self.per_channel_burst), tokens + refill)
            if tokens < 1.0:
                self._buckets[channel] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / self.per_channel_rate))
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        tier = METHOD_TIERS.get(method, 3)
        if tier == 0:
            return None
        limit = self.tiers[tier]
        window = self._windows.setdefault((method, token), deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(60.0 - (now - window[0])))
        window.append(now)
        return None
