"""The risk settings: every knob of the risk layer a user may set, defined once.

This model is the ``[risk]`` section of the config file (``bot.config.risk.RiskConfig``), the
base of the engine's ``RiskLimits``, what ``/set risk.<key>`` validates against, what the
restore on start re-checks, and what ``docs/settings.md`` and the JSON API list. Bounds are
the ones users can rely on; ``live=False`` marks what is read at start only.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from trading.risk.halts import HaltWindow
from trading.settings import setting

SlippageMode = Literal["refuse", "limit"]
VolatilityMeasure = Literal["atr", "realized"]
#: Upbit's order total window for KRW markets (reference §9.3): a size outside it is refused
MIN_ORDER_KRW = Decimal(5000)
MAX_ORDER_KRW = Decimal(1_000_000_000)
MAX_KRW = Decimal(10) ** 12
MAX_MINUTES = 525_600  # a year
MAX_ROI_PCT = Decimal(1000)


#: The values that switch every risk feature off: every exit but the strategy's own signal,
#: the halts and the protections (``upbit-bot backtest --plain``, the speed benchmarks' plain
#: baseline). One list, so a new default-on feature cannot leak into "plain" in one place only.
PLAIN_RISK: dict[str, object] = {
    "atr_stop_mult": 0,
    "take_profit_pct": 0,
    "stop_loss_pct": 0,
    "trailing_stop": False,
    "minimal_roi": (),
    "max_holding_minutes": 0,
    "use_exit_signal": True,
    "exit_profit_only": False,
    "volatility_halt_pct": 0,
    "volatility_resume_pct": None,
    "volatility_halt_percentile": 0,
    "daily_loss_limit_krw": 0,
    "max_drawdown_pct": 0,
    "halt_windows": (),
    "stoploss_guard_trades": 0,
    "drawdown_guard_pct": 0,
    "low_profit_trades": 0,
}


class RiskSettings(BaseModel):
    """Pre-trade checks, loss limits, exits (stops, trailing, ROI, time), cooldowns and halts."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    position_size_krw: Decimal = setting(
        Decimal(100000),
        ge=MIN_ORDER_KRW,
        le=MAX_ORDER_KRW,
        description="KRW spent per entry, by a signal or /buy (Upbit minimum 5000)",
    )
    manual_buy_max_krw: Decimal = setting(
        Decimal(0),
        ge=0,
        le=MAX_ORDER_KRW,
        live=False,
        description="admins may /buy up to this per order; 0 = /buy is held to"
        " position_size_krw like a signal (operators always are)",
    )
    max_open_positions: int = setting(3, ge=1, le=50, description="markets held at once")
    max_slippage_bps: int = setting(
        50, ge=0, le=1000, description="entries priced this far past the last trade are limited"
    )
    slippage_mode: SlippageMode = setting(
        "refuse",
        description='over max_slippage_bps: "refuse" the entry or place a "limit" buy at the'
        " limit",
    )
    daily_loss_limit_krw: Decimal = setting(
        Decimal(50000),
        ge=0,
        le=MAX_KRW,
        description="pause new entries after this loss in a trading day; 0 = off",
    )
    max_drawdown_pct: Decimal = setting(
        Decimal(20),
        ge=0,
        le=100,
        description="pause when equity falls this far from peak; 0 = off",
    )
    atr_period: int = setting(14, ge=1, le=500, description="candles in the ATR for stops")
    atr_stop_mult: Decimal = setting(
        Decimal("2.66"),
        ge=0,
        le=20,
        description="initial stop this many ATRs below the entry, fixed at the entry (it moves"
        " only with trailing_stop); with stop_loss_pct also set the higher stop wins; 0 = no"
        " ATR stop",
    )
    stop_loss_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=50,
        description="initial stop this far below the entry, fixed at the entry; with"
        " atr_stop_mult also set the higher stop wins; 0 = off",
    )
    stop_fallback_pct: Decimal = setting(
        Decimal(2),
        ge=Decimal("0.1"),
        le=50,
        description="the ATR stop's stand-in this far below the entry until the ATR is ready",
    )
    stop_min_distance_pct: Decimal = setting(
        Decimal("1.85"),
        ge=Decimal("0.05"),
        le=10,
        description="every stop stays at least this far (and a tick) below the entry, or below"
        " the close a trailing stop trails from: 1.85 % is over 9x the 0.2 % round-trip costs",
    )
    trailing_stop: bool = setting(
        False,
        description="true: the stop trails the highest close since the entry (freqtrade's"
        " trailing_stop), at the initial stop's distance until trailing_stop_positive_pct"
        " applies; false: the initial stop stays where it was set",
    )
    trailing_stop_positive_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=50,
        description="trailing: once the highest close is above the entry by more than"
        " trailing_stop_positive_offset_pct, trail this far below it; 0 = keep the initial"
        " distance",
    )
    trailing_stop_positive_offset_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=1000,
        description="profit (highest close over the entry, %) after which"
        " trailing_stop_positive_pct applies; 0 = as soon as in profit",
    )
    trailing_only_offset_is_reached: bool = setting(
        False,
        description="trailing: leave the initial stop alone until the offset is reached",
    )
    take_profit_pct: Decimal = setting(
        Decimal("1.06"), ge=0, le=1000, description="take profit this far above entry; 0 = off"
    )
    minimal_roi: tuple[tuple[int, Decimal], ...] = setting(
        (),
        description="time-based take-profit (freqtrade's minimal_roi): pairs [minutes held,"
        " profit %] with minutes rising and profit not rising, e.g. [[0, 3], [60, 1], [240,"
        " 0.5]] (chat: 0:3,60:1,240:0.5); sells once the price is that far above the entry;"
        " empty = off",
    )
    max_holding_minutes: int = setting(
        4052, ge=0, le=MAX_MINUTES, description="sell a position held this many minutes; 0 = off"
    )
    use_exit_signal: bool = setting(
        True, description="false: the strategy's exit signal is ignored (other exits only)"
    )
    exit_profit_only: bool = setting(
        True,
        description="true: an exit signal counts only while the last close is above the entry"
        " by more than exit_profit_offset_pct",
    )
    exit_profit_offset_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=100,
        description="with exit_profit_only: the profit (%, before fees) an exit signal needs",
    )
    volatility_halt_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=100,
        description="absolute volatility halt: halt entries into a market while its volatility"
        " is above this percent (the same number on every timeframe); 0 = off",
    )
    volatility_resume_pct: Decimal | None = setting(
        None,
        ge=0,
        le=100,
        description="resume entries below this volatility; none = 80% of volatility_halt_pct",
    )
    volatility_halt_percentile: Decimal = setting(
        Decimal("97.6"),
        ge=0,
        le=100,
        decimal_places=2,
        description="relative volatility halt: halt entries into a market while its volatility"
        " is at or above this percentile of its own last volatility_window_candles values (the"
        " same meaning on every timeframe); 0 = off. Either halt (this or volatility_halt_pct)"
        " stops entries; they resume once every halt that is on is below its resume level",
    )
    volatility_resume_percentile: Decimal = setting(
        Decimal(95),
        ge=1,
        le=100,
        decimal_places=2,
        description="resume entries once the volatility is below this percentile of the window"
        " (at most volatility_halt_percentile)",
    )
    volatility_window_candles: int = setting(
        1440,
        ge=20,
        le=20000,
        description="candles of past volatility the percentile is taken over (1440 = a day of"
        " minutes, 60 days of hours); the relative halt waits until the window is full",
    )
    volatility_measure: VolatilityMeasure = setting(
        "atr", description='"atr" (ATR as % of close) or "realized" (stdev of returns, %)'
    )
    volatility_period: int = setting(
        14, ge=2, le=500, description="candles in the volatility measure"
    )
    cooldown_candles: int = setting(1, ge=0, le=10000, description="candles between trades")
    stop_cooldown_candles: int = setting(
        18, ge=0, le=10000, description="candles to wait after a stop-loss exit"
    )
    # -- protections (freqtrade's StoplossGuard, MaxDrawdown, LowProfitPairs): windows are
    # minutes of market time before a closed trade's exit; cooldowns are the *_cooldown_candles
    stoploss_guard_trades: int = setting(
        2,
        ge=0,
        le=100,
        description="pause entries after this many losing stop exits (stop or trailing) within"
        " stoploss_guard_lookback_minutes; 0 = off",
    )
    stoploss_guard_lookback_minutes: int = setting(
        1440,
        ge=1,
        le=43200,
        description="minutes of closed trades the stoploss guard counts (those its last trip"
        " counted excluded)",
    )
    stoploss_guard_pause_minutes: int = setting(
        240, ge=1, le=43200, description="minutes the stoploss guard pauses entries for"
    )
    stoploss_guard_per_market: bool = setting(
        False,
        description="true: count stops and pause entries per market; false: all markets together",
    )
    drawdown_guard_pct: Decimal = setting(
        Decimal(0),
        ge=0,
        le=100,
        description="pause all entries when the returns of the trades closed within"
        " drawdown_guard_lookback_minutes, summed, end this far below their best; 0 = off"
        " (not max_drawdown_pct, which watches equity from its all-time peak)",
    )
    drawdown_guard_trades: int = setting(
        3,
        ge=1,
        le=1000,
        description="the drawdown guard judges only this many closed trades or more",
    )
    drawdown_guard_lookback_minutes: int = setting(
        1440,
        ge=1,
        le=43200,
        description="minutes of closed trades the drawdown guard sums (those its last trip"
        " counted excluded)",
    )
    drawdown_guard_pause_minutes: int = setting(
        240, ge=1, le=43200, description="minutes the drawdown guard pauses all entries for"
    )
    low_profit_trades: int = setting(
        0,
        ge=0,
        le=1000,
        description="pause a market whose trades closed within low_profit_lookback_minutes (this"
        " many or more) return less than low_profit_pct in sum; 0 = off",
    )
    low_profit_pct: Decimal = setting(
        Decimal(0),
        ge=-100,
        le=100,
        description="the summed return in % a market's recent trades must reach",
    )
    low_profit_lookback_minutes: int = setting(
        1440,
        ge=1,
        le=43200,
        description="minutes of a market's closed trades the guard sums (those its last trip on"
        " the market counted excluded)",
    )
    low_profit_pause_minutes: int = setting(
        240, ge=1, le=43200, description="minutes the low-profit guard pauses the market for"
    )
    exit_before_delisting_days: int = setting(
        0,
        ge=0,
        le=365,
        description="sell a held market this many days before Upbit delists it; 0 = off"
        " (entries into it are refused either way)",
    )
    halt_windows: tuple[HaltWindow, ...] = setting(
        (),
        live=False,
        description="scheduled halts: { name, start, end, days } (live: /schedule)",
    )

    @property
    def resume_pct(self) -> Decimal:
        """Volatility below which a volatility halt lifts.

        The gap to the halt level (hysteresis) keeps a market hovering at the threshold from
        flapping the halt on and off every candle.
        """
        if self.volatility_resume_pct is not None:
            return self.volatility_resume_pct
        return self.volatility_halt_pct * Decimal("0.8")

    @field_validator("minimal_roi", mode="before")
    @classmethod
    def _roi_text(cls, value: object) -> object:
        """Chat and ``/undo`` give text: ``0:3,60:1`` (what ``show`` prints), ``none`` or
        ``[[0, 3], [60, 1]]``; an environment override the same text split at its commas;
        the file gives a list of pairs."""
        if isinstance(value, str):
            return parse_roi(value)
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            return parse_roi(",".join(value))  # an environment override split at the commas
        return value

    @model_validator(mode="after")
    def _rules(self) -> RiskSettings:
        found = roi_problem(self.minimal_roi)
        if found:
            code, values = found  # problem_code: chat words the problem from its catalog
            problem = _ROI_PROBLEMS[code].format(**values)
            raise PydanticCustomError(
                "rule_minimal_roi",
                "minimal_roi: {problem}",
                {"problem": problem, "problem_code": code, **values},
            )
        positive, offset = self.trailing_stop_positive_pct, self.trailing_stop_positive_offset_pct
        if positive > 0 and offset > 0 and offset < positive:
            raise PydanticCustomError(
                "rule_trailing_offset",
                "trailing_stop_positive_offset_pct ({offset}) must not be below"
                " trailing_stop_positive_pct ({positive})",
                {"offset": str(offset), "positive": str(positive)},
            )
        if self.volatility_resume_pct is not None and (
            self.volatility_resume_pct > self.volatility_halt_pct
        ):
            raise PydanticCustomError(
                "rule_volatility_resume",
                "volatility_resume_pct ({resume}) must not be above volatility_halt_pct ({halt})",
                {"resume": str(self.volatility_resume_pct), "halt": str(self.volatility_halt_pct)},
            )
        if self.volatility_halt_percentile > 0 and (
            self.volatility_resume_percentile > self.volatility_halt_percentile
        ):
            raise PydanticCustomError(
                "rule_volatility_resume_percentile",
                "volatility_resume_percentile ({resume}) must not be above"
                " volatility_halt_percentile ({halt})",
                {
                    "resume": str(self.volatility_resume_percentile),
                    "halt": str(self.volatility_halt_percentile),
                },
            )
        names = [w.name for w in self.halt_windows]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PydanticCustomError(
                "rule_unique_halt_names",
                "halt_windows: names must be unique ({names})",
                {"names": ", ".join(repr(d) for d in dupes)},
            )
        return self


def parse_roi(text: str) -> object:
    """``0:3,60:1`` or ``0:3 60:1`` -> ``[(0, "3"), (60, "1")]``; ``none``/``off``/empty -> ``()``;
    JSON text (``[[0, 3], [60, 1]]``, as an environment variable gives it) is decoded.
    Anything else is returned as is, for pydantic to refuse."""
    raw = text.strip()
    if raw.lower() in ("", "none", "off", "()", "[]"):
        return ()
    if raw.startswith("["):
        import json

        try:
            return json.loads(raw, parse_float=Decimal)
        except ValueError:
            return text
    pairs: list[tuple[str, str]] = []
    for part in raw.replace(",", " ").split():
        minutes, sep, pct = part.partition(":")
        if not sep:
            return text
        pairs.append((minutes, pct))
    return pairs


#: an ROI table's problems: code -> the English sentence (chat reads ``invalid.<code>``)
_ROI_PROBLEMS = {
    "roi_minutes_range": "minutes {minutes} outside 0..{max}",
    "roi_profit_range": "profit {profit} % outside 0..{max}",
    "roi_minutes_rise": "minutes must rise ({first} then {then})",
    "roi_profit_rise": "the profit must not rise with time ({p1} % at {m1}, {p2} % at {m2})",
}


def roi_problem(table: tuple[tuple[int, Decimal], ...]) -> tuple[str, dict[str, str]] | None:
    """Why ``table`` is no ROI table, as a code and its values (None: it is one): minutes
    within 0..a year and rising, profits within 0..1000 % and not rising (a longer hold never
    asks for more)."""
    for minutes, pct in table:
        if not 0 <= minutes <= MAX_MINUTES:
            return "roi_minutes_range", {"minutes": str(minutes), "max": str(MAX_MINUTES)}
        if not 0 <= pct <= MAX_ROI_PCT:
            return "roi_profit_range", {"profit": str(pct), "max": str(MAX_ROI_PCT)}
    for (m1, p1), (m2, p2) in pairwise(table):
        if m2 <= m1:
            return "roi_minutes_rise", {"first": str(m1), "then": str(m2)}
        if p2 > p1:
            values = {"p1": str(p1), "m1": str(m1), "p2": str(p2), "m2": str(m2)}
            return "roi_profit_rise", values
    return None
