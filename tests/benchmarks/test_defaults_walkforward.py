"""The defaults benchmark: a seeded walk-forward on real minutes, choices within the bounds."""

from __future__ import annotations

from pathlib import Path

from benchmarks.defaults_walkforward import SEARCHED_RISK, Dataset, report, run_dataset
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
            low, _, high = text.partition("..")
            value = choice[RISK_PREFIX + name]
            assert isinstance(value, int | float)
            assert float(low) <= value <= float(high)
    assert (outcome.chosen_pct, outcome.choices) == (again.chosen_pct, again.choices)  # seeded
    lines = report([outcome])
    assert "walk-forward" in lines[0]
    assert "defaults" in lines[0]
    assert lines[1].startswith("      fold 1: fast=")
