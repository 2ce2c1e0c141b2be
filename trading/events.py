"""Frozen events that the Upbit adapter and the engine emit.

The engine's bus (issue 3) carries these; until then components take an ``EventSink``, a plain
callable that must not block. Events are past tense and carry data, never chat markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event; ``at`` is timezone-aware UTC."""

    at: datetime = field(default_factory=_now)


EventSink = Callable[[Event], None]


def ignore_event(_event: Event) -> None:
    """Default sink for components used on their own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitBanned(Event):
    """Upbit answered 418: every call of ``group`` waits until ``until``."""

    group: str
    until: datetime
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitBanLifted(Event):
    group: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitStateChanged(Event):
    """The REST circuit breaker moved between closed, open and half_open."""

    name: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderResubmitted(Event):
    """An order attempt was confirmed absent on the exchange and re-sent under a new identifier."""

    intent_id: str
    old_identifier: str
    new_identifier: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedConnected(Event):
    stream: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStale(Event):
    """No message for ``silent_for_s`` seconds; the connection is being replaced."""

    stream: str
    silent_for_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedGap(Event):
    """Messages between the two times may be missing: the engine resyncs over REST."""

    stream: str
    disconnected_at: datetime
    reconnected_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedError(Event):
    """Upbit refused the handshake (``name`` = ``"HTTP 401"``) or sent an error frame."""

    stream: str
    name: str
    message: str
