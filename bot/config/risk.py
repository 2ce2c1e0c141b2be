"""The ``risk`` section: sizing, loss limits, stops, cooldowns and scheduled halts.

Money is Decimal KRW (never float) so limits compare exactly with fills.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config import fields as f
from bot.config.sections import Section, cross_error

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HaltWindow(Section):
    """No new entries inside the window: daily ``"HH:MM"`` times or one-off ISO date-times.

    A daily window may wrap midnight (start 23:30, end 00:30); ``days`` are the days it starts
    on, empty = every day. One-off date-times without an offset are in ``bot.timezone``.
    """

    name: str = Field(min_length=1, max_length=64)
    start: time | datetime
    end: time | datetime
    days: tuple[Weekday, ...] = ()

    @field_validator("start", "end", mode="before")
    @classmethod
    def _moment(cls, value: object) -> time | datetime:
        return f.parse_moment(value)

    @field_validator("days", mode="before")
    @classmethod
    def _lower_days(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(d.lower() if isinstance(d, str) else d for d in value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> HaltWindow:
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            raise ValueError("start and end must both be HH:MM or both be date-times")
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            if self.days:
                raise ValueError("days applies only to daily HH:MM windows")
            if (self.start.tzinfo is None) != (self.end.tzinfo is None):
                raise ValueError("start and end must both have a UTC offset or neither")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        elif self.start == self.end:
            raise ValueError("end must differ from start")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days lists a day more than once")
        return self

    @property
    def recurring(self) -> bool:
        return not isinstance(self.start, datetime)

    def active_at(self, moment: datetime, zone: tzinfo) -> bool:
        """Whether the aware ``moment`` falls inside the window (start inclusive)."""
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            start = self.start if self.start.tzinfo else self.start.replace(tzinfo=zone)
            end = self.end if self.end.tzinfo else self.end.replace(tzinfo=zone)
            return start <= moment < end
        local = moment.astimezone(zone)
        now = local.time().replace(tzinfo=None)
        start_t, end_t = self._clock(self.start), self._clock(self.end)
        if start_t < end_t:
            return start_t <= now < end_t and self._on(local)
        if now >= start_t:
            return self._on(local)
        return now < end_t and self._on(local - timedelta(days=1))

    @staticmethod
    def _clock(value: time | datetime) -> time:
        return value.time() if isinstance(value, datetime) else value.replace(tzinfo=None)

    def _on(self, local: datetime) -> bool:
        return not self.days or WEEKDAYS[local.weekday()] in self.days


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
        Decimal(2), gt=0, le=20, description="stop distance in ATRs below entry"
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
