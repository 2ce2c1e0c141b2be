"""The ``risk`` section: sizing, loss limits, stops, cooldowns and scheduled halts.

Money is Decimal KRW (never float) so limits compare exactly with fills. ``HaltWindow`` is
``trading.risk.halts.HaltWindow``: the engine and the ``/schedule`` commands validate windows
with the same model, so a window the file accepts is one the engine understands.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

from bot.config.sections import Section, cross_error
from trading.risk.halts import WEEKDAYS, HaltWindow, Weekday

__all__ = ["WEEKDAYS", "HaltWindow", "RiskConfig", "Weekday"]


class RiskConfig(Section):
    """Pre-trade checks, loss limits, ATR stops, take profit, cooldowns and halts."""

    position_size_krw: Decimal = Field(
        Decimal(100000), ge=5000, description="KRW spent per entry (Upbit minimum 5000)"
    )
    max_open_positions: int = Field(3, ge=1, le=50, description="markets held at once")
    max_slippage_bps: int = Field(
        50, ge=0, le=1000, description="reject entries priced this far past the last trade"
    )
    daily_loss_limit_krw: Decimal = Field(
        Decimal(50000), ge=0, description="pause new entries after this realized loss; 0 = off"
    )
    max_drawdown_pct: Decimal = Field(
        Decimal(20),
        ge=0,
        le=100,
        description="pause when equity falls this far from peak; 0 = off",
    )
    atr_period: int = Field(14, ge=1, le=500, description="candles in the ATR for stops")
    atr_stop_mult: Decimal = Field(
        Decimal(2), ge=0, le=20, description="stop distance in ATRs below entry; 0 = no ATR stop"
    )
    stop_fallback_pct: Decimal = Field(
        Decimal(2),
        ge=Decimal("0.1"),
        le=50,
        description="stop this far below entry until the ATR is ready",
    )
    stop_min_distance_pct: Decimal = Field(
        Decimal("0.2"),
        ge=Decimal("0.05"),
        le=10,
        description="a stop stays this far (and a tick) below the price it trails from",
    )
    take_profit_pct: Decimal = Field(
        Decimal(0), ge=0, le=1000, description="take profit this far above entry; 0 = off"
    )
    volatility_halt_pct: Decimal = Field(
        Decimal(5), ge=0, le=100, description="halt entries when a candle moves this much; 0 = off"
    )
    cooldown_candles: int = Field(1, ge=0, le=10000, description="candles between trades")
    stop_cooldown_candles: int = Field(
        5, ge=0, le=10000, description="candles to wait after a stop-loss exit"
    )
    halt_windows: tuple[HaltWindow, ...] = Field(
        (), description="scheduled halts: { name, start, end, days }"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> RiskConfig:
        names = [w.name for w in self.halt_windows]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise cross_error(
                f"risk.halt_windows: names must be unique ({', '.join(repr(d) for d in dupes)})"
            )
        return self
