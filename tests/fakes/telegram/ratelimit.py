"""Flood limits modelled on Telegram's documented ones (https://core.telegram.org/bots/faq).

* per chat: a token bucket of ``per_chat_rate`` messages/s with a burst of ``per_chat_burst``
  (Telegram: "avoid sending more than one message per second" but tolerates short bursts);
* per group (chat id < 0): at most ``group_per_minute`` messages in any 60 s window;
* whole bot: at most ``global_per_second`` messages in any 1 s window.

Only message-creating methods (``send*``, ``copyMessage``, ``forwardMessage``) are counted;
edits, callback answers, chat actions and deletions are free.  A refused call is not counted.
``retry_after`` is whole seconds, rounded up, at least 1.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimits:
    per_chat_rate: float = 1.0
    per_chat_burst: float = 3.0
    group_per_minute: int = 20
    global_per_second: int = 30
    enabled: bool = True


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    _chats: dict[int | str, _Bucket] = field(default_factory=dict)
    _groups: dict[int | str, deque[float]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def reset(self) -> None:
        self._chats.clear()
        self._groups.clear()
        self._global.clear()

    def check(self, chat_id: int | str, is_group: bool) -> int:
        """0 if the message may go out now (and count it), else ``retry_after`` seconds."""
        lim = self.limits
        if not lim.enabled:
            return 0
        now = self.clock()
        waits: list[float] = []
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = self._chats[chat_id] = _Bucket(lim.per_chat_burst, now)
        bucket.tokens = min(
            lim.per_chat_burst, bucket.tokens + (now - bucket.stamp) * lim.per_chat_rate
        )
        bucket.stamp = now
        if bucket.tokens < 1:
            waits.append((1 - bucket.tokens) / lim.per_chat_rate)
        window = self._groups.setdefault(chat_id, deque()) if is_group else None
        if window is not None:
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= lim.group_per_minute:
                waits.append(window[0] + 60 - now)
        while self._global and self._global[0] <= now - 1:
            self._global.popleft()
        if len(self._global) >= lim.global_per_second:
            waits.append(self._global[0] + 1 - now)
        if waits:
            return max(1, math.ceil(max(waits) - 1e-9))
        bucket.tokens -= 1
        if window is not None:
            window.append(now)
        self._global.append(now)
        return 0
