"""Larry Williams' volatility breakout, the strategy most Korean Upbit bots start from.

A bar's target is its open plus ``k`` times the previous bar's range (high - low): a move that
large within one bar is taken as the start of a trend rather than noise. Enter when the close
(``trigger="close"``) or the high (``trigger="high"``) exceeds the target; leave after
``hold_bars`` bars (counted from the latest breakout, so a fresh breakout extends the hold),
or earlier at a bar that closes below its open when ``exit_below_open`` is set.

With ``1d`` candles this is the classic version (Upbit's day starts 09:00 KST = 00:00 UTC,
where our day candles start). The classic buys intraday the moment the target is hit; this
bot acts on candle close, so on day candles it buys at the close of the breakout day. Use
shorter candles (1h, 4h) for earlier entries. ``trigger="high"`` enters at that close even if
the price fell back, like the backtests of the popular bots that assume a fill at the target.
The optional filter ``ma_bars`` only buys above the simple average of the last ``ma_bars``
closes (the "moving-average noise filter": no breakouts bought in a downtrend).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from trading import indicators
from trading.strategies.base import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies.params import StrategyParams


class VolatilityBreakoutParams(StrategyParams):
    k: float = Field(0.5, ge=0.1, le=1.0, description="fraction of the previous bar's range")
    trigger: Literal["close", "high"] = Field(
        "close", description="price that must exceed the target: close or high"
    )
    hold_bars: int = Field(1, ge=1, le=100, description="bars to hold after the last breakout")
    exit_below_open: bool = Field(True, description="also exit on a bar closing below its open")
    ma_bars: int = Field(
        0, ge=0, le=200, description="only enter above the SMA of this many closes; 0 = off"
    )

    @model_validator(mode="after")
    def _filter_length(self) -> Self:
        if self.ma_bars == 1:
            raise ValueError("ma_bars must be 0 (off) or at least 2")
        return self


class VolatilityBreakout(Strategy[VolatilityBreakoutParams]):
    """Open + k * previous range breakout with a time stop."""

    name: ClassVar[str] = "volatility_breakout"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[VolatilityBreakoutParams]] = VolatilityBreakoutParams

    def warmup(self) -> int:
        # an entry needs the previous bar (and the filter's window); a time exit looks back
        # hold_bars bars at entries
        return max(2, self.params.ma_bars) + self.params.hold_bars

    def signals(self, frame: CandleFrame) -> Signals:
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
