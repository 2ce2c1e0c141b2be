"""A seeded random walk of candles for tests and benchmarks: no files, no network.

Prices are whole KRW on Upbit's KRW tick grid (1,000 KRW steps above 1,000,000 and so on,
``trading.upbit.market_rules.KRW_TICKS``), as real Upbit candles are, and the OHLC is valid.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trading.strategies import CandleFrame
from trading.upbit.market_rules import KRW_TICKS

START = 1_704_067_200  # 2024-01-01 00:00 UTC


def _ticks(price: NDArray[np.float64]) -> NDArray[np.float64]:
    """Upbit's KRW tick for each price, at least 1 (whole KRW)."""
    bounds = np.array([float(lower) for lower, _ in KRW_TICKS])  # descending
    ticks = np.array([max(float(tick), 1.0) for _, tick in KRW_TICKS])
    index = np.argmax(price[:, None] >= bounds[None, :], axis=1)
    return np.asarray(ticks[index], dtype=np.float64)


def _snap(price: NDArray[np.float64], rounding: str) -> NDArray[np.float64]:
    tick = _ticks(np.maximum(price, 1.0))
    units = price / tick
    if rounding == "down":
        step = np.floor(units)
    elif rounding == "up":
        step = np.ceil(units)
    else:
        step = np.round(units)
    return np.asarray(np.maximum(step * tick, 1.0), dtype=np.float64)


def random_walk(
    bars: int,
    seed: int,
    *,
    start_price: float = 50_000_000.0,
    timeframe_s: int = 60,
    volatility: float = 0.001,
    start: int = START,
) -> CandleFrame:
    """``bars`` contiguous candles from ``start`` (epoch s): log-normal closes, each open the
    previous close, highs and lows a little outside both."""
    if bars < 1:
        raise ValueError("bars must be >= 1")
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, volatility, bars)
    close = _snap(start_price * np.exp(np.cumsum(steps)), "nearest")
    open_ = np.empty(bars)
    open_[0] = _snap(np.array([start_price]), "nearest")[0]
    open_[1:] = close[:-1]
    wick = np.abs(rng.normal(0.0, volatility / 2, (2, bars)))
    high = _snap(np.maximum(open_, close) * (1.0 + wick[0]), "up")
    low = _snap(np.minimum(open_, close) * (1.0 - wick[1]), "down")
    volume = np.round(rng.exponential(1.0, bars), 8)
    return CandleFrame(
        start=start + np.arange(bars, dtype=np.int64) * timeframe_s,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
    )
