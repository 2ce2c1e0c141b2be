"""Events the chat layer publishes: what only it can say, in the asker's language.

They travel the same bus and notification queue as the engine's events (``trading.events``),
which carry data only; the texts here are already in the catalog's words of one chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trading.events import Event, Level


@dataclass(frozen=True, slots=True, kw_only=True)
class ResearchFinished(Event):
    """A chat-started ``/backtest`` or ``/optimize`` ended: its result for the one chat that
    asked (``transport``, ``chat_id``), not for every notify chat, rendered by the command in
    the asker's language; ``chart_png`` is the PNG as base64 text so the event stays plain
    data in the notification queue ("" = no chart)."""

    kind: ClassVar[str] = "report"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    job: str
    by: str
    transport: str
    chat_id: str
    ok: bool
    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    chart_png: str = ""
    chart_name: str = ""
    chart_caption: str = ""
