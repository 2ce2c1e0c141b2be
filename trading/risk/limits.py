"""The risk layer's frozen value: the user's ``RiskSettings`` plus what the bot itself knows.

``trading`` never imports ``bot``, so the bot hands over the ``[risk]`` section (already a
``RiskSettings``) plus ``timezone``; a live ``/set`` makes a new ``RiskLimits`` through
``trading.settings.change`` and gives it to ``RiskGate.update_limits``. The bounds are the
settings' own, so the engine cannot hold a value the config file would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from trading.risk.settings import (
    MIN_ORDER_KRW,
    RiskSettings,
    SlippageMode,
    VolatilityMeasure,
)
from trading.settings import problems

__all__ = ["RiskLimits", "SlippageMode", "VolatilityMeasure"]


class RiskLimits(RiskSettings):
    """Risk limits; percentages are percent (5 = 5%), money is KRW, 0 turns a limit off.

    ``fee_rate`` and ``min_order_krw`` are the exchange's, ``timezone`` is ``bot.timezone``
    (trading days and halt windows): not risk settings a user changes with ``/set``.
    """

    fee_rate: Decimal = Field(Decimal("0.0005"), ge=0, lt=Decimal("0.05"))
    min_order_krw: Decimal = Field(MIN_ORDER_KRW, gt=0)
    timezone: str = "Asia/Seoul"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {value!r} is not an IANA zone") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    @property
    def settings(self) -> RiskSettings:
        """Only the user's settings (what the config file and ``/set`` speak)."""
        return RiskSettings.model_validate(
            {k: getattr(self, k) for k in RiskSettings.model_fields}
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskLimits:
        """Build from config-shaped data (``RiskSettings.model_dump()`` plus ``timezone``).

        Raises ``ValueError`` naming each bad key; unknown keys are refused.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            found = "; ".join(p.message for p in problems(cls, exc))
            raise ValueError(f"invalid risk limits: {found}") from None

    def replace(self, **changes: Any) -> RiskLimits:
        """A validated copy with ``changes``."""
        return type(self).model_validate({**self.model_dump(), **changes})
