"""Fault injection for :class:`FakeTelegram` (``tg.faults``).

* ``fail_next(method, status, retry_after=None, count=1, description=None)`` -- the next
  ``count`` calls of ``method`` (case-insensitive; ``"*"`` = any method) are answered with a Bot
  API error of HTTP ``status`` without running the method.  ``retry_after`` adds
  ``parameters.retry_after`` (a 429 always carries one, default 1) -> PTB raises ``RetryAfter``.
* ``delay_next(method, seconds, count=1)`` -- sleep before handling (the call still happens).
* ``down(seconds | None, mode="502")`` -- the server is unreachable for ``seconds`` (``None``:
  until ``up()``/``clear()``).  Modes:

  - ``"502"`` (default): every request, including a pending long poll, is answered
    ``502 Bad Gateway`` with nginx's HTML page (not JSON) -- what Telegram's front end really
    sends when the backend is down.  PTB raises ``telegram.error.NetworkError``.
  - ``"reset"``: the connection is closed without a response -> PTB ``NetworkError``.
  - ``"hang"``: the request is held until the outage ends (then the connection is closed), so
    the client runs into its own read timeout -> PTB ``telegram.error.TimedOut``.

  The token check happens after this, i.e. a down server never says 401.
* ``up()`` ends an outage; ``clear()`` removes every pending fault and ends an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DOWN_MODES = ("502", "reset", "hang")


@dataclass
class FaultRule:
    kind: str  # "fail" | "delay"
    method: str
    count: int
    status: int = 0
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0

    def matches(self, method: str) -> bool:
        return self.method == "*" or self.method.lower() == method.lower()


class FaultInjector:
    def __init__(self, on_change: Callable[[], None], clock: Callable[[], float]) -> None:
        self._rules: list[FaultRule] = []
        self._on_change = on_change
        self._clock = clock
        self._down_until: float | None = None
        self._down_forever = False
        self.down_mode = "502"

    def fail_next(
        self,
        method: str,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        *,
        description: str | None = None,
    ) -> None:
        if status == 429 and retry_after is None:
            retry_after = 1
        self._rules.append(
            FaultRule("fail", method, count, status, retry_after, description=description)
        )

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        self._rules.append(FaultRule("delay", method, count, seconds=seconds))

    def down(self, seconds: float | None = None, mode: str = "502") -> None:
        if mode not in DOWN_MODES:
            raise ValueError(f"mode must be one of {DOWN_MODES}")
        self.down_mode = mode
        if seconds is None:
            self._down_forever, self._down_until = True, None
        else:
            self._down_forever, self._down_until = False, self._clock() + seconds
        self._on_change()

    def up(self) -> None:
        self._down_forever, self._down_until = False, None
        self._on_change()

    def clear(self) -> None:
        self._rules.clear()
        self.up()

    @property
    def is_down(self) -> bool:
        if self._down_forever:
            return True
        return self._down_until is not None and self._clock() < self._down_until

    def down_remaining(self) -> float | None:
        """Seconds left of the outage (None = indefinite, 0 = not down)."""
        if self._down_forever:
            return None
        if self._down_until is None:
            return 0.0
        return max(0.0, self._down_until - self._clock())

    def take(self, kind: str, method: str) -> FaultRule | None:
        for rule in self._rules:
            if rule.kind == kind and rule.matches(method):
                rule.count -= 1
                if rule.count <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    @property
    def pending(self) -> list[FaultRule]:
        return list(self._rules)
