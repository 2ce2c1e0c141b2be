"""Objectives by name: what "better" means for a trial, always maximized.

- ``sharpe``, ``sortino``, ``calmar``: the backtest's ratios as reported in its summary.
- ``profit``: ``total_return_pct - penalty * max_drawdown_pct`` (both in percent, the drawdown
  as a positive number), so with ``penalty = 1`` a 10 % drawdown costs as much as 10 % return.

A trial with fewer than ``min_trades`` closed trades, or whose ratio is undefined (NaN, e.g.
no variance), scores ``BAD_SCORE + trades``: below any real score, yet still ordered by trade
count so the sampler is steered toward parameters that trade at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from trading.optimize.errors import OptimizeInputError

__all__ = ["BAD_SCORE", "OBJECTIVES", "Objective"]

OBJECTIVES = ("sharpe", "sortino", "calmar", "profit")
BAD_SCORE = -1_000_000.0
"""Score of a trial that does not count (too few trades, undefined ratio)."""


@dataclass(frozen=True, slots=True)
class Objective:
    """A named objective with its drawdown ``penalty`` (``profit`` only) and ``min_trades``."""

    name: str = "sharpe"
    penalty: float = 1.0
    min_trades: int = 10

    def __post_init__(self) -> None:
        if self.name not in OBJECTIVES:
            raise OptimizeInputError(
                f"unknown objective {self.name!r} (known: {', '.join(OBJECTIVES)})"
            )
        if not (math.isfinite(self.penalty) and self.penalty >= 0):
            raise OptimizeInputError(f"--penalty {self.penalty:g} must be a number >= 0")
        if self.min_trades < 0:
            raise OptimizeInputError(f"--min-trades {self.min_trades} must be >= 0")

    def raw(self, metrics: Mapping[str, float]) -> float:
        """The objective's value before the trade-count rule (may be NaN or infinite)."""
        if self.name == "profit":
            drawdown = abs(metrics["max_drawdown_pct"])
            return metrics["total_return_pct"] - self.penalty * drawdown
        return metrics[self.name]

    def score(self, metrics: Mapping[str, float]) -> float:
        """What the optimizer maximizes: ``raw``, or ``BAD_SCORE + trades`` if it doesn't count."""
        trades = int(metrics["trades"])
        value = self.raw(metrics)
        if trades < self.min_trades or not math.isfinite(value):
            return BAD_SCORE + trades
        return value

    def counts(self, score: float) -> bool:
        """Whether a score is a real one (not the too-few-trades stand-in)."""
        return score > BAD_SCORE / 2

    def describe(self) -> str:
        if self.name == "profit":
            return f"profit: total_return_pct - {self.penalty:g} x max_drawdown_pct"
        return self.name
