"""Objectives by name, the profit-with-penalty formula and the too-few-trades rule."""

from __future__ import annotations

import math

import pytest

from trading.optimize import BAD_SCORE, Objective, OptimizeInputError

METRICS = {
    "trades": 25.0,
    "total_return_pct": 12.0,
    "max_drawdown_pct": 4.0,
    "sharpe": 1.5,
    "sortino": 2.5,
    "calmar": 3.0,
}


@pytest.mark.parametrize(("name", "value"), [("sharpe", 1.5), ("sortino", 2.5), ("calmar", 3.0)])
def test_ratios(name: str, value: float) -> None:
    assert Objective(name).score(METRICS) == value


def test_profit_minus_penalty_times_drawdown() -> None:
    assert Objective("profit", penalty=0.5).score(METRICS) == 12.0 - 0.5 * 4.0
    assert Objective("profit", penalty=0).score(METRICS) == 12.0
    assert Objective("profit", penalty=2).describe() == (
        "profit: total_return_pct - 2 x max_drawdown_pct"
    )


def test_too_few_trades_and_undefined_ratios_score_bad() -> None:
    objective = Objective("sharpe", min_trades=30)
    score = objective.score(METRICS)
    assert score == BAD_SCORE + 25
    assert not objective.counts(score)
    assert objective.score({**METRICS, "trades": 3.0}) < score  # more trades is less bad
    undefined = Objective("sharpe", min_trades=0).score({**METRICS, "sharpe": math.nan})
    assert undefined == BAD_SCORE + 25
    assert Objective("sharpe", min_trades=0).counts(1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "omega"}, "unknown objective 'omega' (known: sharpe, sortino, calmar, profit)"),
        ({"penalty": -1.0}, "--penalty -1 must be a number >= 0"),
        ({"min_trades": -2}, "--min-trades -2 must be >= 0"),
    ],
)
def test_bad_objectives(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(OptimizeInputError) as info:
        Objective(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
