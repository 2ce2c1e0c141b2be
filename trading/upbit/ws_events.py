"""Counters the WebSocket client keeps for metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WsStats:
    """Counters for metrics; ``messages`` counts data messages, ``last_message_at`` any frame."""

    connects: int
    reconnects: int
    messages: int
    drops: int
    overflows: int
    errors: int
    parse_errors: int
    stale: int
    last_message_at: datetime | None
    connected: bool
