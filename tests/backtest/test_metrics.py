"""Metric definitions, checked against numbers worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pytest

from trading.backtest import compute_metrics

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_hand_computed_metrics() -> None:
    # one-day candles; equity 100 -> 110 -> 99 -> 108.9 (returns +10 %, -10 %, +10 %)
    equity = np.array([110.0, 99.0, 108.9])
    m = compute_metrics(
        pnls=[D(30), D(-10), D(-5), D(15)],
        fees_krw=D(8),
        equity=equity,
        start_krw=100.0,
        timeframe_s=86_400,
        exposure_bars=2,
        buy_and_hold_pct=12.5,
    )
    assert m.trades == 4
    assert m.win_rate == 50.0
    assert m.total_return_pct == pytest.approx(8.9)
    # 3 days of 365: (1.089 ** (365 / 3) - 1) * 100
    assert m.annualized_return_pct == pytest.approx((1.089 ** (365 / 3) - 1) * 100)
    assert m.max_drawdown_pct == pytest.approx(10.0)  # 110 -> 99
    # returns 0.1, -0.1, 0.1: mean 1/30, sample std sqrt(((2/30)^2 * 2 + (4/30)^2) / 2)
    mean, std = 1 / 30, math.sqrt(((2 / 30) ** 2 * 2 + (4 / 30) ** 2) / 2)
    assert m.sharpe == pytest.approx(mean / std * math.sqrt(365))
    downside = math.sqrt(0.01 / 3)  # only -0.1 counts, over all 3 returns
    assert m.sortino == pytest.approx(mean / downside * math.sqrt(365))
    assert m.calmar == pytest.approx(m.annualized_return_pct / 10.0)
    assert m.profit_factor == pytest.approx(45 / 15)
    assert m.exposure_pct == pytest.approx(200 / 3)
    assert m.fees_krw == 8.0
    assert m.final_equity_krw == pytest.approx(108.9)
    assert m.buy_and_hold_return_pct == 12.5


def test_undefined_ratios_are_none_in_json() -> None:
    m = compute_metrics(
        pnls=[D(5)],
        fees_krw=D(2),
        equity=np.array([100.0, 100.0]),
        start_krw=100.0,
        timeframe_s=60,
        exposure_bars=0,
        buy_and_hold_pct=0.0,
    )
    data = m.as_dict()
    assert data["profit_factor"] is None  # no losing trade
    assert data["calmar"] is None  # no drawdown
    assert data["sharpe"] is None  # flat equity
    assert data["sortino"] is None
    assert data["max_drawdown_pct"] == 0.0
    assert all(v is None or isinstance(v, int | float) for v in data.values())


def test_no_trades() -> None:
    m = compute_metrics(
        pnls=[],
        fees_krw=D(0),
        equity=np.array([100.0, 101.0]),
        start_krw=100.0,
        timeframe_s=3600,
        exposure_bars=0,
        buy_and_hold_pct=1.0,
    )
    assert (m.trades, m.win_rate, m.fees_krw, m.profit_factor) == (0, 0.0, 0.0, None)
