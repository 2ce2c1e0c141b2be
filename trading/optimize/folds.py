"""In-sample / out-of-sample windows: one train/test split, or a rolling walk-forward.

Walk-forward with K folds cuts the bars into one training window of length ``L`` followed by
K test windows of length ``T``, with ``L / T = split / (1 - split)``. Fold i trains on the
``L`` bars just before its test window: the training windows roll forward by ``T`` (and
overlap each other), the test windows are back to back and never overlap, so together they
form one continuous out-of-sample stretch that no chosen parameter ever saw. ``K = 1`` is the
plain split. Windows are half-open index ranges ``[start, stop)`` into the candles.
"""

from __future__ import annotations

from dataclasses import dataclass

from trading.optimize.errors import OptimizeInputError

__all__ = ["MIN_WINDOW_BARS", "Fold", "make_folds"]

MIN_WINDOW_BARS = 100
"""A window shorter than this cannot hold a meaningful backtest (or even a warm-up)."""

MAX_FOLDS = 50


@dataclass(frozen=True, slots=True)
class Fold:
    """Fold ``index`` (0-based): train on ``[train_start, train_stop)``, test right after."""

    index: int
    train_start: int
    train_stop: int
    test_start: int
    test_stop: int

    @property
    def train_bars(self) -> int:
        return self.train_stop - self.train_start

    @property
    def test_bars(self) -> int:
        return self.test_stop - self.test_start


def make_folds(bars: int, *, split: float = 0.7, walk_forward: int = 1) -> list[Fold]:
    """The folds over ``bars`` candles; ``OptimizeInputError`` if a window gets too short."""
    if not 0.05 <= split <= 0.95:
        raise OptimizeInputError(f"--split {split:g} is out of range; use 0.05..0.95")
    if not 1 <= walk_forward <= MAX_FOLDS:
        raise OptimizeInputError(
            f"--walk-forward {walk_forward} is out of range; use 1..{MAX_FOLDS}"
        )
    ratio = split / (1.0 - split)
    test = int(bars / (walk_forward + ratio))
    train = bars - walk_forward * test
    if test < MIN_WINDOW_BARS or train < MIN_WINDOW_BARS:
        raise OptimizeInputError(
            f"{bars} candles are too few for split {split:g} with {walk_forward} fold(s): "
            f"{train} in-sample and {test} out-of-sample per fold, "
            f"each needs at least {MIN_WINDOW_BARS}"
        )
    return [
        Fold(
            index=i,
            train_start=i * test,
            train_stop=i * test + train,
            test_start=i * test + train,
            test_stop=(i + 1) * test + train,
        )
        for i in range(walk_forward)
    ]
