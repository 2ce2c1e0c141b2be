"""Momentum: buy a move that is already under way, sell when it fades.

Enter when the rate of change of the close over ``lookback`` bars rises above ``entry_pct``
(on the crossing bar only, so a stopped-out position is not bought back into the same stale
move); exit on every bar where it is below ``exit_pct`` (a level, so a position the engine
holds for any reason is still let go once momentum is gone). ``exit_pct < entry_pct`` gives
hysteresis: small wiggles around one threshold do not churn orders and fees.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from trading import indicators
from trading.strategies._signals import crossed_above
from trading.strategies.base import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies.params import StrategyParams


class MomentumParams(StrategyParams):
    lookback: int = Field(20, ge=1, le=500, description="bars over which the change is measured")
    entry_pct: float = Field(
        1.0, ge=0.0, le=100.0, description="enter when the change rises above this, in percent"
    )
    exit_pct: float = Field(
        0.0, ge=-100.0, le=100.0, description="exit when the change is below this, in percent"
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.exit_pct >= self.entry_pct:
            raise PydanticCustomError(
                "rule_exit_below_entry",
                "exit_pct ({exit}) must be less than entry_pct ({entry})",
                {"exit": f"{self.exit_pct:g}", "entry": f"{self.entry_pct:g}"},
            )
        return self


class Momentum(Strategy[MomentumParams]):
    """Rate-of-change threshold strategy with separate entry and exit levels."""

    name: ClassVar[str] = "momentum"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[MomentumParams]] = MomentumParams

    def warmup(self) -> int:
        return self.params.lookback + 2  # ROC needs lookback + 1 closes, a crossing one more

    def signals(self, frame: CandleFrame) -> Signals:
        p = self.params
        change = indicators.roc(frame.close, p.lookback)
        entry_level = np.full(len(change), p.entry_pct)
        return Signals(
            entry=crossed_above(change, entry_level),
            exit=change < p.exit_pct,
            entry_reason=f"{p.lookback}-bar change rose above {p.entry_pct:g}%",
            exit_reason=f"{p.lookback}-bar change fell below {p.exit_pct:g}%",
        )
