"""Events the chat layer publishes: what only it knows, such as which chat asked.

They travel the same bus and notification queue as the engine's events (``trading.events``)
and, like them, carry data only: the bot renders them when it delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trading.command_api import BacktestOutcome, Event, JobFailed, Level, OptimizeOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class ResearchFinished(Event):
    """A chat-started ``/backtest`` or ``/optimize`` ended: its outcome for the one chat that
    asked (``transport``, ``chat_id``), not for every notify chat, rendered in that chat's
    language (``lang``) when delivered; the outcome holds the chart's PNG."""

    kind: ClassVar[str] = "report"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    job: str
    by: str
    transport: str
    chat_id: str
    lang: str
    outcome: BacktestOutcome | OptimizeOutcome | JobFailed

    @property
    def ok(self) -> bool:
        return not isinstance(self.outcome, JobFailed)
