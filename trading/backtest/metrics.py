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
    curve = np.empty(len(equity) + 1)
    curve[0] = start_krw
    curve[1:] = equity
    return metrics_of_curve(
        pnls=pnls,
        fees_krw=fees_krw,
        curve=curve,
        timeframe_s=timeframe_s,
        exposure_bars=exposure_bars,
        buy_and_hold_pct=buy_and_hold_pct,
    )


def metrics_of_curve(
    *,
    pnls: Sequence[Decimal],
    fees_krw: Decimal,
    curve: NDArray[np.float64],
    timeframe_s: int,
    exposure_bars: int,
    buy_and_hold_pct: float,
    volatility_halted_pct: float = 0.0,
) -> Metrics:
    """``compute_metrics`` of ``curve`` = the start, then the equity after each bar (the
    backtester builds it in one buffer). Two scratch arrays, every pass in place."""
    start_krw = float(curve[0])
    bars = len(curve) - 1
    final = float(curve[-1])
    total = (final / start_krw - 1.0) * 100.0
    years = bars * timeframe_s / YEAR_S
    growth = final / start_krw
    annual = (growth ** (1.0 / years) - 1.0) * 100.0 if years > 0 and growth > 0 else -100.0
    per_year = math.sqrt(YEAR_S / timeframe_s)
    sharpe = sortino = None
    max_dd = 0.0
    if bars:
        scratch = np.maximum.accumulate(curve)  # the running peak
        np.divide(curve, scratch, out=scratch)  # fraction of the running peak
        max_dd = (1.0 - float(scratch.min())) * 100.0
        returns = scratch[:bars]
        np.subtract(curve[1:], curve[:-1], out=returns)
        returns /= curve[:-1]
        if bars > 1:
            mean = float(returns.sum()) / bars
            centered = np.subtract(returns, mean)
            centered *= centered  # plain numpy: no BLAS threads for one dot product
            std = math.sqrt(float(centered.sum()) / (bars - 1))
            sharpe = _ratio(mean * per_year, std) if std > 0 else None
            np.minimum(returns, 0.0, out=returns)
            returns *= returns
            downside = math.sqrt(float(returns.sum()) / bars)
            sortino = _ratio(mean * per_year, downside) if downside > 0 else None
    trades = len(pnls)
    wins = 0
    gross_win = gross_loss = Decimal(0)
    for pnl in pnls:  # one pass; each sum adds in trade order, as before
        if pnl > 0:
            wins += 1
            gross_win += pnl
        elif pnl < 0:
            gross_loss += pnl
    return Metrics(
        trades=trades,
        win_rate=wins / trades * 100.0 if trades else 0.0,
        total_return_pct=total,
        annualized_return_pct=annual,
        max_drawdown_pct=max_dd,
        sharpe=sharpe,
        sortino=sortino,
        calmar=_ratio(annual, max_dd) if max_dd > 0 else None,
        profit_factor=_ratio(float(gross_win), loss) if (loss := float(-gross_loss)) > 0 else None,
        exposure_pct=exposure_bars / bars * 100.0 if bars else 0.0,
        fees_krw=float(fees_krw),
        final_equity_krw=final,
        buy_and_hold_return_pct=buy_and_hold_pct,
        volatility_halted_pct=volatility_halted_pct,
    )
