"""Backtesting on the live code path: the strategy, risk gate, stops, cooldowns and paper fill
model that paper trading uses, run over candle arrays (see docs/backtest.md)."""

from trading.backtest.data import Gaps, fill_gaps, find_gaps, load_frame, slice_frame
from trading.backtest.metrics import compute_metrics
from trading.backtest.result import BacktestResult, BuyAndHold, Metrics, Trade
from trading.backtest.runner import run_backtest
from trading.backtest.spec import BacktestSpec
from trading.backtest.synthetic import random_walk

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
    "random_walk",
    "run_backtest",
    "slice_frame",
]
