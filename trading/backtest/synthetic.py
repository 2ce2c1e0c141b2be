"""A seeded random walk of candles for tests and benchmarks: no files, no network.

Prices are whole units on the tick grid the caller gives (``ticks``: a venue's (lower bound,
tick) rows, highest first, as ``MarketRules.tick_bands`` returns them), so a walk on Upbit's
KRW table looks like real Upbit candles; the OHLC is valid. The table is a parameter, not an
import, so this module stays venue-neutral: the wiring (``bot.venue``) or a test names the venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from trading.strategies import CandleFrame

START = 1_704_067_200  # 2024-01-01 00:00 UTC


TickBands = Sequence[tuple[Decimal, Decimal]]


class _Grid:
    """``ticks`` as two arrays, built once per walk: the snapping stays vectorised."""

    __slots__ = ("bounds", "ticks")

    def __init__(self, ticks: TickBands) -> None:
        if not ticks:
            raise ValueError("ticks must have at least one (lower bound, tick) row")
        self.bounds = np.array([float(lower) for lower, _ in ticks])  # descending
        self.ticks = np.array([max(float(tick), 1.0) for _, tick in ticks])

    def tick(self, price: NDArray[np.float64]) -> NDArray[np.float64]:
        """The tick for each price, at least 1 (whole units)."""
        index = np.argmax(price[:, None] >= self.bounds[None, :], axis=1)
        return np.asarray(self.ticks[index], dtype=np.float64)


def _snap(grid: _Grid, price: NDArray[np.float64], rounding: str) -> NDArray[np.float64]:
    tick = grid.tick(np.maximum(price, 1.0))
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
    ticks: TickBands,
    start_price: float = 50_000_000.0,
    timeframe_s: int = 60,
    volatility: float = 0.001,
    start: int = START,
) -> CandleFrame:
    """``bars`` contiguous candles from ``start`` (epoch s): log-normal closes, each open the
    previous close, highs and lows a little outside both, every price snapped to ``ticks``."""
    if bars < 1:
        raise ValueError("bars must be >= 1")
    grid = _Grid(ticks)
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, volatility, bars)
    close = _snap(grid, start_price * np.exp(np.cumsum(steps)), "nearest")
    open_ = np.empty(bars)
    open_[0] = _snap(grid, np.array([start_price]), "nearest")[0]
    open_[1:] = close[:-1]
    wick = np.abs(rng.normal(0.0, volatility / 2, (2, bars)))
    high = _snap(grid, np.maximum(open_, close) * (1.0 + wick[0]), "up")
    low = _snap(grid, np.minimum(open_, close) * (1.0 - wick[1]), "down")
    volume = np.round(rng.exponential(1.0, bars), 8)
    return CandleFrame(
        start=start + np.arange(bars, dtype=np.int64) * timeframe_s,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
    )
