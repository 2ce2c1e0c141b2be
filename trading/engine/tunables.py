"""What ``/set`` may change: the strategy's parameters and the risk settings, as one value.

Pure, so the facade (live ``/set``, ``/undo``, the restore on start) and ``check-config``
(which shows what a start would re-apply) judge stored and typed values the same way.
Keys are ``strategy.<param>`` and ``risk.<setting>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trading import settings
from trading.risk.limits import RiskLimits
from trading.risk.settings import RiskSettings
from trading.settings import SettingRefused, SettingSpec, change, show, specs
from trading.strategies import Strategy


@dataclass(frozen=True, slots=True)
class SettingView:
    key: str  # ``risk.position_size_krw``
    value: str
    spec: SettingSpec


@dataclass(frozen=True, slots=True)
class Rejected:
    """A stored override that no longer validates, with the value in force instead."""

    key: str
    stored: str
    applies: str
    refusal: SettingRefused


@dataclass(frozen=True, slots=True)
class Replayed:
    tunables: Tunables
    kept: dict[str, str] = field(default_factory=dict)
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True, slots=True)
class Tunables:
    strategy: Strategy[Any]
    limits: RiskLimits

    def views(self) -> list[SettingView]:
        """Every setting, with its value and spec; halt windows have ``/schedule`` instead."""
        params = self.strategy.params
        out = [
            SettingView(f"strategy.{s.name}", show(getattr(params, s.name)), s)
            for s in specs(type(params))
        ]
        out += [
            SettingView(f"risk.{s.name}", show(getattr(self.limits, s.name)), s)
            for s in specs(RiskSettings)
            if s.kind != "other"
        ]
        return out

    def values(self) -> dict[str, str]:
        return {view.key: view.value for view in self.views()}

    def get(self, key: str) -> str:
        values = self.values()
        if key not in values:
            raise settings.unknown(key, sorted(values))
        return values[key]

    def changed(self, key: str, text: str) -> Tunables:
        """A copy with ``key`` set from ``text``; ``SettingRefused`` names key, value, range."""
        section, _, name = key.partition(".")
        if section == "strategy" and name in type(self.strategy.params).model_fields:
            params = change(self.strategy.params, name, text, key=key)
            return Tunables(type(self.strategy)(params), self.limits)
        if section == "risk" and name in RiskSettings.model_fields:
            return Tunables(self.strategy, change(self.limits, name, text, key=key))
        raise settings.unknown(key, sorted(self.values()))

    def replay(self, stored: Mapping[str, object]) -> Replayed:
        """Apply stored overrides in order; one that no longer validates is left out."""
        current, kept, rejected = self, {}, []
        for key, value in stored.items():
            try:
                current = current.changed(key, str(value))
            except SettingRefused as exc:
                applies = current.values().get(key, "-")
                rejected.append(Rejected(key, str(value), applies, exc))
                continue
            kept[key] = current.get(key)
        return Replayed(current, kept, tuple(rejected))
