"""Every knob of the risk layer in one frozen value, filled by the bot from ``[risk]``.

``trading`` never imports ``bot``, so the bot hands over a plain mapping (the config section's
``model_dump()`` plus ``timezone``); a live ``/set`` builds a new ``RiskLimits`` and gives it to
``RiskGate.update_limits``. Invalid values raise ``ValueError`` naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trading.risk.halts import HaltWindow

SlippageMode = Literal["refuse", "limit"]
VolatilityMeasure = Literal["atr", "realized"]

#: ``[risk]`` keys that other parts of the engine own (cooldowns live in the strategy runner).
FOREIGN_KEYS = frozenset({"cooldown_candles", "stop_cooldown_candles"})

_DECIMALS = (
    "position_size_krw",
    "daily_loss_limit_krw",
    "max_drawdown_pct",
    "atr_stop_mult",
    "stop_fallback_pct",
    "stop_min_distance_pct",
    "take_profit_pct",
    "volatility_halt_pct",
    "volatility_resume_pct",
    "fee_rate",
    "min_order_krw",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Risk limits; percentages are percent (5 = 5%), money is KRW, 0 turns a limit off.

    ``volatility_resume_pct`` None = 80% of ``volatility_halt_pct``: the gap (hysteresis) keeps
    a market hovering at the threshold from flapping the halt on and off every candle.
    """

    position_size_krw: Decimal = Decimal(100000)
    max_open_positions: int = 3
    max_slippage_bps: int = 50
    slippage_mode: SlippageMode = "refuse"
    daily_loss_limit_krw: Decimal = Decimal(50000)
    max_drawdown_pct: Decimal = Decimal(20)
    atr_period: int = 14
    atr_stop_mult: Decimal = Decimal(2)
    stop_fallback_pct: Decimal = Decimal(2)
    stop_min_distance_pct: Decimal = Decimal("0.2")
    take_profit_pct: Decimal = Decimal(0)
    volatility_halt_pct: Decimal = Decimal(5)
    volatility_resume_pct: Decimal | None = None
    volatility_measure: VolatilityMeasure = "atr"
    volatility_period: int = 14
    fee_rate: Decimal = Decimal("0.0005")
    min_order_krw: Decimal = Decimal(5000)
    halt_windows: tuple[HaltWindow, ...] = field(default=())
    timezone: str = "Asia/Seoul"

    def __post_init__(self) -> None:
        for name in _DECIMALS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
                raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
        _require(self.position_size_krw > 0, "position_size_krw must be > 0")
        _require(self.max_open_positions >= 1, "max_open_positions must be >= 1")
        _require(self.max_slippage_bps >= 0, "max_slippage_bps must be >= 0")
        _require(self.slippage_mode in ("refuse", "limit"), 'slippage_mode: "refuse" or "limit"')
        _require(self.daily_loss_limit_krw >= 0, "daily_loss_limit_krw must be >= 0")
        _require(0 <= self.max_drawdown_pct <= 100, "max_drawdown_pct must be 0..100")
        _require(self.atr_period >= 1, "atr_period must be >= 1")
        _require(self.atr_stop_mult >= 0, "atr_stop_mult must be >= 0 (0 = no ATR stop)")
        _require(
            Decimal("0.1") <= self.stop_fallback_pct <= 50, "stop_fallback_pct must be 0.1..50"
        )
        _require(
            Decimal("0.05") <= self.stop_min_distance_pct <= 10,
            "stop_min_distance_pct must be 0.05..10",
        )
        _require(self.take_profit_pct >= 0, "take_profit_pct must be >= 0")
        _require(self.volatility_halt_pct >= 0, "volatility_halt_pct must be >= 0")
        _require(
            self.volatility_measure in ("atr", "realized"),
            'volatility_measure: "atr" or "realized"',
        )
        _require(self.volatility_period >= 2, "volatility_period must be >= 2")
        _require(
            0 <= self.resume_pct <= self.volatility_halt_pct,
            "volatility_resume_pct must be between 0 and volatility_halt_pct",
        )
        _require(0 <= self.fee_rate < Decimal("0.05"), "fee_rate must be in [0, 0.05)")
        _require(self.min_order_krw > 0, "min_order_krw must be > 0")
        names = [w.name for w in self.halt_windows]
        _require(len(set(names)) == len(names), "halt_windows: names must be unique")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA zone") from None

    @property
    def resume_pct(self) -> Decimal:
        """Volatility below which a volatility halt lifts."""
        if self.volatility_resume_pct is not None:
            return self.volatility_resume_pct
        return self.volatility_halt_pct * Decimal("0.8")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskLimits:
        """Build from config-shaped data; numbers go through ``str`` so floats never leak in.

        Unknown keys raise, except ``FOREIGN_KEYS`` that other components consume.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known - FOREIGN_KEYS)
        if unknown:
            raise ValueError(f"unknown risk keys: {', '.join(unknown)}")
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for name in _DECIMALS:
            if kwargs.get(name) is not None:
                kwargs[name] = _decimal(name, kwargs[name])
        if "halt_windows" in kwargs:
            kwargs["halt_windows"] = tuple(
                w if isinstance(w, HaltWindow) else HaltWindow.model_validate(w)
                for w in kwargs["halt_windows"]
            )
        return cls(**kwargs)

    def replace(self, **changes: Any) -> RiskLimits:
        """A validated copy with ``changes``, for live ``/set``."""
        return dataclasses.replace(self, **changes)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        parsed = None if isinstance(value, bool) else Decimal(str(value))
    except InvalidOperation:
        parsed = None
    if parsed is None:
        raise ValueError(f"{name} must be a number, got {value!r}")
    return parsed
