"""Moving-average crossover: the classic trend follower and the bot's default strategy.

Enter when the fast average of closes crosses above the slow one (the recent trend turned
up), exit when it crosses back below. Only the crossing bar signals, so a position closed by
a risk stop is not re-entered until the trend turns again.

``kind="sma"`` is exact under any rolling window of ``warmup()`` bars. ``kind="ema"`` reacts
faster, but an EMA remembers its seed, so its warm-up adds ``EMA_SETTLE * slow`` bars, after
which the seed weighs under e^-8 (0.03 %) and live and backtest agree except on crossings
closer than that.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from trading import indicators
from trading.strategies._signals import crossed_above, crossed_below
from trading.strategies.base import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies.params import StrategyParams

EMA_SETTLE = 4
"""Extra warm-up for EMAs, in multiples of the slow period: (1 - 2/(n+1))^(4n) < e^-8."""


class MaCrossParams(StrategyParams):
    fast: int = Field(72, ge=2, le=200, description="fast moving average length, in bars")
    slow: int = Field(180, ge=3, le=500, description="slow moving average length, in bars")
    kind: Literal["sma", "ema"] = Field("sma", description="average type: sma or ema")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast >= self.slow:
            raise PydanticCustomError(
                "rule_fast_below_slow",
                "fast ({fast}) must be less than slow ({slow})",
                {"fast": self.fast, "slow": self.slow},
            )
        return self


class MaCross(Strategy[MaCrossParams]):
    """Fast/slow SMA or EMA crossover on closes."""

    name: ClassVar[str] = "ma_cross"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[MaCrossParams]] = MaCrossParams

    def warmup(self) -> int:
        slow = self.params.slow
        settle = EMA_SETTLE * slow if self.params.kind == "ema" else 0
        return slow + 1 + settle  # a crossing compares bar i with bar i - 1

    def signals(self, frame: CandleFrame) -> Signals:
        p = self.params
        average = indicators.ema if p.kind == "ema" else indicators.sma
        fast = average(frame.close, p.fast)
        slow = average(frame.close, p.slow)
        label = p.kind.upper()
        return Signals(
            entry=crossed_above(fast, slow),
            exit=crossed_below(fast, slow),
            entry_reason=f"{label}({p.fast}) crossed above {label}({p.slow})",
            exit_reason=f"{label}({p.fast}) crossed below {label}({p.slow})",
        )
