"""Fault injection for the fake Slack (``slack.faults``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class PlannedFailure:
    method: str  # Web API method, "*" for any, "upload" (upload_url POST) or "response_url"
    error: str | None
    status: int | None
    retry_after: int | None
    remaining: int


class Faults:
    """``fail_next`` / ``down`` / ``drop_socket`` / ``clear``.

    * ``fail_next("chat.postMessage", error="channel_not_found")`` -> HTTP 200 ``ok: false``.
    * ``fail_next("chat.postMessage", status=429, retry_after=2)`` -> HTTP 429, ``Retry-After: 2``,
      body ``{"ok": false, "error": "ratelimited"}`` (status 429 implies error ratelimited).
    * ``fail_next("response_url", status=429, retry_after=3)`` -> the next post to any
      response_url is answered HTTP 429 ``rate_limited`` with ``Retry-After: 3``.
    * ``fail_next("auth.test", status=500)`` -> HTTP 500 ``{"ok": false, "error": "fatal_error"}``.
    * ``down(5)`` / ``down(None)``: every HTTP endpoint (Web API, upload, response_url, the socket
      upgrade) answers 503 for 5 s / until ``up()``/``clear()``; ``down(..., refuse=True)`` drops
      the TCP connection without answering instead.  Open sockets stay open unless
      ``drop_sockets=True``.
    * ``drop_socket()`` closes every Socket Mode connection now (returns how many); the client has
      to call ``apps.connections.open`` again and reconnect.
    """

    def __init__(self, on_drop: Callable[[], int]) -> None:
        self._on_drop = on_drop
        self.planned: list[PlannedFailure] = []
        self.down_until: float | None = None
        self.down_forever = False
        self.refuse = False

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        if error is None and status is None:
            error = "internal_error"
        if status == 429 and error is None:
            error = "ratelimited"
        if status == 429 and retry_after is None:
            retry_after = 1
        self.planned.append(PlannedFailure(method, error, status, retry_after, count))

    def take(self, method: str) -> PlannedFailure | None:
        for p in self.planned:
            if (
                p.method in (method, "*")
                and p.remaining > 0
                and not (p.method == "*" and method in ("upload", "response_url"))
            ):
                p.remaining -= 1
                if p.remaining == 0:
                    self.planned.remove(p)
                return p
        return None

    def down(
        self, seconds: float | None = None, *, refuse: bool = False, drop_sockets: bool = False
    ) -> None:
        self.refuse = refuse
        if seconds is None:
            self.down_forever = True
            self.down_until = None
        else:
            self.down_forever = False
            self.down_until = time.monotonic() + seconds
        if drop_sockets:
            self._on_drop()

    def up(self) -> None:
        self.down_forever = False
        self.down_until = None
        self.refuse = False

    @property
    def is_down(self) -> bool:
        if self.down_forever:
            return True
        return self.down_until is not None and time.monotonic() < self.down_until

    def drop_socket(self) -> int:
        return self._on_drop()

    def clear(self) -> None:
        self.planned.clear()
        self.up()
