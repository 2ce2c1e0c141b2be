"""Flood waits as the platforms enforce them, for the chat fakes (``tg.flood``, ``slack.flood``).

Once a fake answers 429 for a chat (Telegram ``parameters.retry_after``, Slack ``Retry-After``),
that chat is closed for exactly that long. A send into it before the wait is over is what a
well-behaved bot never does: it is answered 429 again with the time left, like Telegram and
Slack do, and recorded in ``early`` so a test can assert there was none. Every send into a chat,
allowed or not, is recorded in ``sends`` with its time (``time.monotonic()``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Wait:
    """The fake told ``chat`` to wait from ``start`` to ``end`` (monotonic seconds)."""

    chat: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Send:
    """A send into ``chat`` (``what``: the method, or ``response_url``) received at ``at``;
    ``early``: it fell inside a wait the fake had announced for that chat."""

    chat: str
    what: str
    at: float
    early: bool


@dataclass
class FloodWaits:
    clock: Callable[[], float] = time.monotonic
    waits: list[Wait] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)

    @property
    def early(self) -> list[Send]:
        """Sends into a chat inside its wait: a well-behaved bot makes none."""
        return [s for s in self.sends if s.early]

    def check(self, chat: object, what: str) -> int:
        """Record a send into ``chat``; 0 if it may go on, else the whole seconds still to wait
        (the fake answers 429 with them)."""
        now = self.clock()
        key = str(chat)
        left = max((w.end - now for w in self.waits if w.chat == key), default=0.0)
        self.sends.append(Send(key, what, now, left > 0))
        return max(1, math.ceil(left)) if left > 0 else 0

    def announce(self, chat: object, seconds: float) -> None:
        """The fake has just answered 429 ``seconds`` for ``chat``."""
        now = self.clock()
        self.waits.append(Wait(str(chat), now, now + seconds))

    def sends_to(self, chat: object) -> list[Send]:
        return [s for s in self.sends if s.chat == str(chat)]
