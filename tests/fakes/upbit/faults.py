"""Fault injection for the fake Upbit server.

REST faults match on an optional HTTP ``method`` and a ``path`` prefix (e.g. ``"/v1/orders"``
also matches ``/v1/orders/open``; use ``"/v1/orders"`` with ``method="POST"`` for order
creation) and fire for the next ``count`` matching requests:

* ``fail_next(status)`` -- answer ``status`` without running the handler.  Default bodies are
  Upbit-like: 429 -> plain text ``Too many API requests.``; 418 -> a ban-style JSON error;
  others -> ``{"error": {"name": "internal_server_error" | "service_unavailable" | ...}}``.
  ``body`` may be a dict (sent as JSON) or a str (sent as text/plain).
* ``delay_next(seconds)`` -- sleep before handling (the request is still applied afterwards).
* ``lose_response_next()`` -- run the handler (the order is created) but never answer: the
  connection is held until the client gives up (or the server stops).  With ``close=True`` the
  transport is closed instead.
* ``act_next(action, when=...)`` -- run ``action()`` (e.g. a trade on the tape) when the next
  matching request arrives (``"before"`` its handler) or once its handler ran, before the
  answer leaves (``"after"``): the exchange moving on while a request is in flight.
* ``ban(group, seconds)`` -- every request of the rate-limit group gets 418 for ``seconds``.
* ``ws_drop()`` -- abruptly close every websocket; ``ws_silence(True)`` -- keep sockets open
  but send nothing (no data, no ``{"status":"UP"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class FaultRule:
    kind: str  # "fail" | "delay" | "lose" | "before" | "after"
    method: str | None
    path: str | None
    count: int
    status: int = 0
    body: dict[str, Any] | str | None = None
    seconds: float = 0.0
    close: bool = False
    action: Callable[[], object] | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


class FaultInjector:
    def __init__(
        self,
        *,
        on_ban: Callable[[str, float], None],
        on_ws_drop: Callable[[], None],
        on_ws_silence: Callable[[bool], None],
    ) -> None:
        self._rules: list[FaultRule] = []
        self._on_ban = on_ban
        self._on_ws_drop = on_ws_drop
        self._on_ws_silence = on_ws_silence
        self.silent = False

    def fail_next(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
        body: dict[str, Any] | str | None = None,
    ) -> None:
        self._rules.append(FaultRule("fail", method, path, count, status=status, body=body))

    def delay_next(
        self, seconds: float, *, method: str | None = None, path: str | None = None, count: int = 1
    ) -> None:
        self._rules.append(FaultRule("delay", method, path, count, seconds=seconds))

    def lose_response_next(
        self,
        *,
        method: str | None = "POST",
        path: str | None = "/v1/orders",
        count: int = 1,
        close: bool = False,
    ) -> None:
        self._rules.append(FaultRule("lose", method, path, count, close=close))

    def act_next(
        self,
        action: Callable[[], object],
        *,
        when: str = "before",
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
    ) -> None:
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        self._rules.append(FaultRule(when, method, path, count, action=action))

    def ban(self, group: str, seconds: float) -> None:
        self._on_ban(group, seconds)

    def ws_drop(self) -> None:
        self._on_ws_drop()

    def ws_silence(self, on: bool) -> None:
        self.silent = on
        self._on_ws_silence(on)

    def clear(self) -> None:
        self._rules.clear()
        if self.silent:
            self.ws_silence(False)

    def take(self, kind: str, method: str, path: str) -> FaultRule | None:
        """Consume one matching rule of ``kind`` (first registered first)."""
        for rule in self._rules:
            if rule.kind == kind and rule.matches(method, path):
                rule.count -= 1
                if rule.count <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    @property
    def pending(self) -> list[FaultRule]:
        return list(self._rules)
