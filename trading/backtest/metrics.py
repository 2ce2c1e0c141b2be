"""Metric definitions (see docs/backtest.md): returns per bar of the marked equity curve.

Crypto trades around the clock, so a year is 365 days and Sharpe/Sortino are annualized by
``sqrt(bars per year)`` of the timeframe. Returns are simple, risk-free rate 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from trading.backtest.result import Metrics

YEAR_S = 365 * 86_400


def _ratio(num: float, den: float) -> float | None:
    if den == 0 or not math.isfinite(den):
        return None
    value = num / den
    return value if math.isfinite(value) else None


def compute_metrics(
    *,
    pnls: Sequence[Decimal],
    fees_krw: Decimal,
    equity: NDArray[np.float64],
    start_krw: float,
    timeframe_s: int,
    exposure_bars: int,
    buy_and_hold_pct: float,
) -> Metrics:
    """``equity[i]`` is the marked equity after bar i; ``start_krw`` the equity before bar 0;
    ``pnls`` the PnL of each trade (the ones still open at the end marked at the last close)."""
    bars = len(equity)
    final = float(equity[-1]) if bars else start_krw
    total = (final / start_krw - 1.0) * 100.0
    years = bars * timeframe_s / YEAR_S
    growth = final / start_krw
    annual = (growth ** (1.0 / years) - 1.0) * 100.0 if years > 0 and growth > 0 else -100.0
    if bars:
        curve = np.concatenate(([start_krw], equity))
        peak = np.maximum.accumulate(curve)
        np.divide(curve, peak, out=peak)  # fraction of the running peak
        max_dd = (1.0 - float(peak.min())) * 100.0
        returns = np.diff(curve)
        returns /= curve[:-1]
    else:
        max_dd, returns = 0.0, np.zeros(0)
    per_year = math.sqrt(YEAR_S / timeframe_s)
    sharpe = sortino = None
    count = len(returns)
    if count > 1:
        mean = float(returns.sum()) / count
        centered = returns - mean
        centered *= centered  # plain numpy: no BLAS threads for one dot product
        std = math.sqrt(float(centered.sum()) / (count - 1))
        sharpe = _ratio(mean * per_year, std) if std > 0 else None
        np.minimum(returns, 0.0, out=returns)
        returns *= returns
        downside = math.sqrt(float(returns.sum()) / count)
        sortino = _ratio(mean * per_year, downside) if downside > 0 else None
    trades = len(pnls)
    wins = sum(1 for p in pnls if p > 0)
    gross_win = float(sum((p for p in pnls if p > 0), Decimal(0)))
    gross_loss = float(-sum((p for p in pnls if p < 0), Decimal(0)))
    return Metrics(
        trades=trades,
        win_rate=wins / trades * 100.0 if trades else 0.0,
        total_return_pct=total,
        annualized_return_pct=annual,
        max_drawdown_pct=max_dd,
        sharpe=sharpe,
        sortino=sortino,
        calmar=_ratio(annual, max_dd) if max_dd > 0 else None,
        profit_factor=_ratio(gross_win, gross_loss) if gross_loss > 0 else None,
        exposure_pct=exposure_bars / bars * 100.0 if bars else 0.0,
        fees_krw=float(fees_krw),
        final_equity_krw=final,
        buy_and_hold_return_pct=buy_and_hold_pct,
    )
