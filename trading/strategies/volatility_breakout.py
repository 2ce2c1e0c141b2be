"""Larry Williams' volatility breakout, the strategy most Korean Upbit bots start from.

The day's target is its open plus ``k`` times the previous day's range (high - low): a move
that large within one day is taken as the start of a trend rather than noise.

``trigger="cross"`` (the default) is the rule as traders run it: buy *during* the day, on the
first trade print at or above the target, and sell at the next day's open. Days are UTC days:
Upbit's day candle starts at 09:00 KST = 00:00 UTC, and so do ours. The target is an
``entry_trigger`` level (``Signals``): live, the engine arms it when a candle opens and buys
on the print that crosses it (``trading.engine.triggers``); the backtester finds the first
candle of the day whose high reaches it and fills at the target, or at the candle's open if
it opened above it (``trading.backtest.triggers``). On day candles that candle is the day
itself; on shorter candles (1h, 15m) the previous day's range and the day's open are read
from that day's candles, and the exit signal is the last candle of each UTC day. One entry
a day: once a candle of the day has reached the target, the later ones are not armed.
``ma_bars`` here counts days: only buy when the day opens above the average of the last
``ma_bars`` daily closes (the "moving-average noise filter").

``trigger="close"`` and ``trigger="high"`` are the older candle-close rules, per bar: enter
at the next open after a bar whose close (or high) exceeded its own open + ``k`` x the
previous bar's range; leave after ``hold_bars`` bars (counted from the latest breakout), or
earlier at a bar closing below its open when ``exit_below_open`` is set; ``ma_bars`` counts
bars. On day candles they buy a day late, at the open after the breakout day.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from trading import indicators
from trading.strategies.base import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies.params import StrategyParams

DAY_S = 86_400


class VolatilityBreakoutParams(StrategyParams):
    k: float = Field(
        0.5,
        ge=0.1,
        le=1.0,
        description="fraction of the previous range: the day's (cross), the bar's (close/high)",
    )
    trigger: Literal["cross", "close", "high"] = Field(
        "cross",
        description=(
            "cross: buy intraday when the price crosses the target, sell at the next day's"
            " open; close/high: buy at the next open after a bar whose close/high broke it"
        ),
    )
    hold_bars: int = Field(
        1, ge=1, le=100, description="close/high only: bars to hold after the last breakout"
    )
    exit_below_open: bool = Field(
        True, description="close/high only: also exit on a bar closing below its open"
    )
    ma_bars: int = Field(
        0,
        ge=0,
        le=200,
        description="only enter above the SMA of this many closes (days for cross); 0 = off",
    )

    @model_validator(mode="after")
    def _filter_length(self) -> Self:
        if self.ma_bars == 1:
            raise PydanticCustomError("rule_ma_bars", "ma_bars must be 0 (off) or at least 2")
        return self


class VolatilityBreakout(Strategy[VolatilityBreakoutParams]):
    """Open + k * previous range breakout: intraday on the cross, or on candle closes."""

    name: ClassVar[str] = "volatility_breakout"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[VolatilityBreakoutParams]] = VolatilityBreakoutParams

    def warmup(self) -> int:
        if self.params.trigger == "cross":
            return self.warmup_for(DAY_S)
        # an entry needs the previous bar (and the filter's window); a time exit looks back
        # hold_bars bars at entries
        return max(2, self.params.ma_bars) + self.params.hold_bars

    def warmup_for(self, timeframe_s: int) -> int:
        if self.params.trigger != "cross":
            return self.warmup()
        # the current day and the previous one (or the filter's days) in whole days of candles
        per_day = max(1, DAY_S // timeframe_s)
        return (max(1, self.params.ma_bars) + 1) * per_day

    def signals(self, frame: CandleFrame) -> Signals:
        if self.params.trigger == "cross":
            return self._cross(frame)
        return self._on_close(frame)

    def _cross(self, frame: CandleFrame) -> Signals:
        p = self.params
        n = len(frame)
        trigger = np.full(n, np.nan)
        exit_ = np.zeros(n, dtype=np.bool_)
        reason = f"price crossed the day's open + {p.k:g} x previous day's range"
        if p.ma_bars:
            reason += f", day opened above SMA({p.ma_bars}) of daily closes"
        signals = Signals(
            entry=np.zeros(n, dtype=np.bool_),
            exit=exit_,
            entry_reason=reason,
            exit_reason="the next UTC day's open",
            entry_trigger=trigger,
        )
        if n < 2:
            return signals  # the candle length is read from the starts
        start = frame.start
        tf = int(np.diff(start).min())
        exit_[:] = (start + tf) % DAY_S == 0  # the last candle of its UTC day
        day = start // DAY_S
        first = np.flatnonzero(np.concatenate(([True], day[1:] != day[:-1])))
        last = np.concatenate((first[1:] - 1, [n - 1]))
        day_of = np.repeat(np.arange(len(first)), np.diff(np.concatenate((first, [n]))))
        # a day is whole in the frame when its first candle opens it and its last ends it
        opens_day = start[first] % DAY_S == 0
        whole = opens_day & exit_[last]
        high = np.maximum.reduceat(frame.high, first)
        low = np.minimum.reduceat(frame.low, first)
        span = np.full(len(first), np.nan)
        consecutive = np.diff(day[first]) == 1
        span[1:] = np.where(whole[:-1] & consecutive, high[:-1] - low[:-1], np.nan)
        target = np.where(opens_day, frame.open[first] + p.k * span, np.nan)
        if p.ma_bars:
            closes = np.where(exit_[last], frame.close[last], np.nan)
            average = np.full(len(first), np.nan)
            average[1:] = indicators.sma(closes, p.ma_bars)[:-1]
            days_back = np.full(len(first), False)
            if len(first) > p.ma_bars:
                # the window's days are calendar-consecutive
                days_back[p.ma_bars :] = (
                    day[first][p.ma_bars :] - day[first][: -p.ma_bars] == p.ma_bars
                )
            target = np.where(days_back & (frame.open[first] > average), target, np.nan)
        level = target[day_of]
        # one entry a day: a candle of the day already reached the target, none after it
        reached = np.cumsum(frame.high >= level)  # NaN never reaches
        before = np.concatenate(([0], reached[:-1]))
        before_day = np.where(first > 0, reached[np.maximum(first - 1, 0)], 0)[day_of]
        trigger[:] = np.where(before - before_day > 0, np.nan, level)
        return signals

    def _on_close(self, frame: CandleFrame) -> Signals:
        p = self.params
        target = frame.open + indicators.breakout_range(frame.high, frame.low, p.k)
        price = frame.high if p.trigger == "high" else frame.close
        entry = price > target
        if p.ma_bars:
            entry &= frame.close > indicators.sma(frame.close, p.ma_bars)

        index = np.arange(len(entry))
        last_entry = np.maximum.accumulate(np.where(entry, index, -1))
        exit_ = (last_entry >= 0) & (index - last_entry == p.hold_bars)
        exit_reason = f"held {p.hold_bars} bar(s) after the breakout"
        if p.exit_below_open:
            exit_ |= frame.close < frame.open
            exit_reason += ", or closed below the open"
        filtered = f" above SMA({p.ma_bars})" if p.ma_bars else ""
        return Signals(
            entry=entry,
            exit=exit_,
            entry_reason=f"{p.trigger} broke open + {p.k:g} x previous range{filtered}",
            exit_reason=exit_reason,
        )
