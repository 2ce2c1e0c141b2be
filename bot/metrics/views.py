"""What the metrics read of the exchange adapter's parts, as structural types.

The metrics only read: one REST exchange's sample, the REST client's rate limiter and circuit
breaker, the WebSocket clients' counters. Naming those shapes here rather than the adapter's
classes keeps ``bot/metrics/`` off ``trading.upbit`` (the import contract in
``pyproject.toml``): Upbit's ``RequestSample``, ``UpbitRestClient``, ``RateLimiter`` and
``UpbitWebSocket`` are them as they are, and mypy checks it where the wiring hands them over
(``bot/app.py``: the request hook and ``attach_rest``; ``Trader.streams`` in ``attach_trader``).
Read-only properties, so a plain attribute, a property and a frozen dataclass field all fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from trading.circuit import CircuitBreaker


class RequestSampleView(Protocol):
    """One HTTP exchange: ``endpoint`` the path template, ``status`` the HTTP status or
    ``timeout``/``network`` when no answer came."""

    @property
    def endpoint(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def seconds(self) -> float: ...


class RateGroupView(Protocol):
    """One rate-limit group as the server last reported it."""

    @property
    def remaining(self) -> int | None:
        """Requests left in the current second; None until a response said."""
        ...

    @property
    def banned_until(self) -> datetime | None:
        """Set while the venue blocks the group (HTTP 418)."""
        ...


class RateLimiterView(Protocol):
    @property
    def groups(self) -> Mapping[str, RateGroupView]: ...


class RestClientView(Protocol):
    """The parts of a REST client read at scrape time."""

    @property
    def limiter(self) -> RateLimiterView: ...

    @property
    def circuit(self) -> CircuitBreaker: ...


class StreamStatsView(Protocol):
    @property
    def reconnects(self) -> int: ...

    @property
    def connected(self) -> bool: ...

    @property
    def last_message_at(self) -> datetime | None:
        """The last frame of any kind; None before the first."""
        ...


class StreamView(Protocol):
    """One WebSocket connection, named for the ``stream`` label."""

    @property
    def name(self) -> str: ...

    @property
    def stats(self) -> StreamStatsView: ...
