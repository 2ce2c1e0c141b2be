"""Train/test split and rolling walk-forward windows."""

from __future__ import annotations

import itertools

import pytest

from trading.optimize import OptimizeInputError, make_folds


def test_plain_split() -> None:
    (fold,) = make_folds(10_000, split=0.7)
    assert (fold.train_start, fold.train_stop, fold.test_start, fold.test_stop) == (
        0,
        7000,
        7000,
        10_000,
    )


@pytest.mark.parametrize(
    ("bars", "k", "split"), [(10_000, 4, 0.7), (6001, 3, 0.5), (99_999, 7, 0.8)]
)
def test_walk_forward_windows(bars: int, k: int, split: float) -> None:
    folds = make_folds(bars, split=split, walk_forward=k)
    assert [f.index for f in folds] == list(range(k))
    for fold in folds:
        assert fold.train_stop == fold.test_start  # out-of-sample follows in-sample at once
        assert fold.train_start < fold.train_stop < fold.test_stop
    for before, after in itertools.pairwise(folds):
        assert before.test_stop == after.test_start  # test windows back to back, no overlap
        assert after.train_start > before.train_start  # the training window rolls forward
    assert folds[-1].test_stop <= bars
    assert bars - folds[-1].test_stop < k + 1  # only rounding is left over
    ratio = folds[0].train_bars / folds[0].test_bars
    assert ratio == pytest.approx(split / (1 - split), rel=0.01)
    assert len({f.test_bars for f in folds}) == 1


@pytest.mark.parametrize(
    ("bars", "split", "k", "message"),
    [
        (10_000, 0.99, 1, "--split 0.99 is out of range; use 0.05..0.95"),
        (10_000, 0.0, 1, "--split 0 is out of range"),
        (10_000, 0.7, 0, "--walk-forward 0 is out of range; use 1..50"),
        (500, 0.7, 3, "500 candles are too few for split 0.7 with 3 fold(s)"),
    ],
)
def test_bad_folds(bars: int, split: float, k: int, message: str) -> None:
    with pytest.raises(OptimizeInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_folds(bars, split=split, walk_forward=k)
