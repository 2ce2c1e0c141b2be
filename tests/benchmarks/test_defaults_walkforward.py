"""The defaults benchmark: a seeded walk-forward on real minutes, choices within the bounds."""

from __future__ import annotations

from pathlib import Path

from benchmarks.defaults_walkforward import (
    SEARCHED_RISK,
    Dataset,
    consensus,
    leave_one_out,
    report,
    run_dataset,
)
from trading.optimize.risk_space import RISK_PREFIX


def test_a_small_walk_forward_prints_both_returns_and_the_choices(tmp_path: Path) -> None:
    # Arrange: three days of the bundled KRW-BTC minutes (read from the shared data if there)
    dataset = Dataset("KRW-BTC 1m", "upbit_KRW-BTC_1m.csv", "KRW-BTC", "1m", None, "2018-01-25")
    # Act
    outcome = run_dataset(dataset, trials=3, storage_dir=tmp_path)
    again = run_dataset(dataset, trials=3, storage_dir=tmp_path / "again")
    # Assert
    assert outcome.bars > 3000
    assert len(outcome.choices) == 3
    for choice in outcome.choices:
        for name, text in SEARCHED_RISK.items():
            value = choice[RISK_PREFIX + name]
            if not text:  # a bool or a choice: every value is searched
                assert isinstance(value, bool)
                continue
            low, _, high = text.partition("..")
            assert isinstance(value, int | float)
            assert float(low) <= value <= float(high)
    assert (outcome.chosen_pct, outcome.choices) == (again.chosen_pct, again.choices)  # seeded
    lines = report([outcome])
    assert "walk-forward" in lines[0]
    assert "defaults" in lines[0]
    assert lines[1].startswith("      fold 1: fast=")


def test_the_consensus_is_the_median_of_numbers_and_the_most_frequent_choice() -> None:
    # Arrange
    choices = [
        {"fast": 10, "kind": "ema", "risk.x": 1.0, "risk.on": True},
        {"fast": 40, "kind": "sma", "risk.x": 2.5, "risk.on": False},
        {"fast": 21, "kind": "sma", "risk.x": 9.0, "risk.on": False},
        {"fast": 30, "kind": "ema", "risk.x": 2.0, "risk.on": False},
    ]
    # Act
    picked = consensus(choices)
    # Assert: an int stays an int, a tie goes to the first seen
    assert picked == {"fast": 26, "kind": "ema", "risk.x": 2.25, "risk.on": False}


def test_leave_one_out_judges_each_dataset_with_the_others_choices(tmp_path: Path) -> None:
    # Arrange: two short slices of the bundled minutes as two "datasets"
    first = Dataset("A", "upbit_KRW-BTC_1m.csv", "KRW-BTC", "1m", None, "2018-01-25")
    second = Dataset("B", "upbit_KRW-BTC_1m.csv", "KRW-BTC", "1m", "2018-01-25", "2018-01-28")
    outcomes = [run_dataset(d, trials=3, storage_dir=tmp_path / d.label) for d in (first, second)]
    # Act
    checks = leave_one_out(outcomes)
    # Assert: A is judged with B's consensus and B with A's
    assert [c.label for c in checks] == ["A", "B"]
    assert checks[0].values == consensus(outcomes[1].choices)
    assert checks[1].values == consensus(outcomes[0].choices)
    assert all(c.trades >= 0 for c in checks)
