"""Which pushes go where: per event kind and per transport, ``on``, ``silent`` or ``off``.

``silent`` is delivered without a sound where the platform can. Levels come from, first match
wins: ``notify.<transport>`` (``notify.console`` and one table per transport kind, e.g.
``{ feed = "off" }``), then ``notify.events`` (every transport), then the kind's default
(``bot.notify.kinds.KINDS``).
``notify.min_severity`` turns off messages below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.notify.kinds import KINDS, LEVELS, Level
from handlers.reply import Severity

if TYPE_CHECKING:
    from bot.config.sections import NotifyBase

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def check_levels(table: Mapping[str, str], where: str = "notify.events") -> dict[str, Level]:
    """``table`` as kind -> level, or ValueError naming the unknown kind or level."""
    out: dict[str, Level] = {}
    for kind, level in table.items():
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown event kind {kind!r} (known: {', '.join(KINDS)})")
        if level not in LEVELS:
            raise ValueError(f"{where}.{kind} = {level!r}: must be on, silent or off")
        out[kind] = level
    return out


@dataclass(frozen=True)
class NotifyPolicy:
    events: Mapping[str, Level] = field(default_factory=dict)
    transports: Mapping[str, Mapping[str, Level]] = field(default_factory=dict)
    min_severity: Severity = Severity.INFO

    def __post_init__(self) -> None:
        check_levels(self.events)
        for name, table in self.transports.items():
            check_levels(table, f"notify.{name}")

    @classmethod
    def from_config(cls, cfg: NotifyBase) -> NotifyPolicy:
        """Every table of ``[notify]`` but ``events`` is a transport's (``notify.console``
        and one per transport kind of the registry)."""
        tables = {
            name: dict(value)
            for name, value in cfg
            if name != "events" and isinstance(value, Mapping)
        }
        return cls(
            events=dict(cfg.events), transports=tables, min_severity=Severity(cfg.min_severity)
        )

    def level(self, kind: str, transport: str, severity: Severity = Severity.INFO) -> Level:
        if kind not in KINDS:
            raise KeyError(f"unknown event kind {kind!r}")
        if _RANK[severity] < _RANK[self.min_severity]:
            return "off"
        per_transport = self.transports.get(transport, {})
        if kind in per_transport:
            return per_transport[kind]
        return self.events.get(kind, KINDS[kind])
