"""Backtesting on the live code path: the strategy, risk gate, stops, cooldowns and paper fill
model that paper trading uses, run over candle arrays (see docs/backtest.md).

``synthetic.random_walk`` (test data on the tick grid its caller gives) is imported from its
module, not re-exported here: the engine's assembly imports this package, which stays as light
as it can (importing it must not load a venue adapter: tests/adapter_recipe/ checks it)."""

from trading.backtest.data import Gaps, fill_gaps, find_gaps, load_frame, slice_frame
from trading.backtest.metrics import compute_metrics
from trading.backtest.result import BacktestResult, BuyAndHold, Metrics, Trade
from trading.backtest.runner import run_backtest
from trading.backtest.spec import BacktestSpec

__all__ = [
    "BacktestResult",
    "BacktestSpec",
    "BuyAndHold",
    "Gaps",
    "Metrics",
    "Trade",
    "compute_metrics",
    "fill_gaps",
    "find_gaps",
    "load_frame",
    "run_backtest",
    "slice_frame",
]
