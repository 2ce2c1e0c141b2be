"""The optimizer on a real slice: seeded, inside the bounds, invalid draws pruned, honest folds."""

from __future__ import annotations

import itertools
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from trading.optimize import (
    Objective,
    OptimizeError,
    OptimizeInputError,
    OptimizeSettings,
    build_space,
    optimize,
)
from trading.optimize.storage import storage_at
from trading.optimize.worker import METRICS_ATTR
from trading.strategies import CandleFrame
from trading.strategies.ma_cross import MaCross

TRIALS = 8


def settings(url: str, spec: dict[str, Any], study: str, **changes: Any) -> OptimizeSettings:
    values: dict[str, Any] = {
        "strategy": "ma_cross",
        "space": build_space(MaCross, {}, {"fast": "3:40", "slow": "20:120"}),
        "objective": Objective("sharpe", min_trades=1),
        "spec": spec,
        "storage": url,
        "study": study,
        "trials": TRIALS,
        "seed": 7,
    }
    return OptimizeSettings(**(values | changes))


def trials_of(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    with storage_at(url) as storage:
        return optuna.load_study(study_name=study, storage=storage).get_trials()


def test_seeded_runs_repeat_exactly(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    first = optimize(settings(sqlite_url, spec_fields, "a"), {"KRW-BTC": frame})
    second = optimize(settings(sqlite_url, spec_fields, "b"), {"KRW-BTC": frame})
    a, b = trials_of(sqlite_url, "a"), trials_of(sqlite_url, "b")
    assert len(a) == len(b) == TRIALS
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.value for t in a] == [t.value for t in b]
    assert first.best_params == second.best_params
    assert first.folds[0].out_of_sample == second.folds[0].out_of_sample
    other = optimize(settings(sqlite_url, spec_fields, "c", seed=8), {"KRW-BTC": frame})
    assert [t.params for t in trials_of(sqlite_url, "c")] != [t.params for t in a]
    assert other.trials_run == TRIALS


def test_bounds_respected_and_invalid_draws_pruned(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    # fast 10..60 against slow 20..70: many draws break fast < slow
    space = build_space(MaCross, {"kind": "ema"}, {"fast": "10:60", "slow": "20:70"})
    result = optimize(
        settings(sqlite_url, spec_fields, "s", space=space, trials=16), {"KRW-BTC": frame}
    )
    trials = trials_of(sqlite_url, "s")
    assert len(trials) == 16
    for t in trials:
        assert 10 <= t.params["fast"] <= 60
        assert 20 <= t.params["slow"] <= 70
        assert "kind" not in t.params  # fixed, not searched
        valid = t.params["fast"] < t.params["slow"]
        assert t.state == (TrialState.COMPLETE if valid else TrialState.PRUNED)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "the seed should draw at least one fast >= slow"
    assert result.folds[0].trials.pruned == len(pruned)
    best = result.best_params
    assert best["kind"] == "ema"
    assert best["fast"] < best["slow"]


def test_best_is_chosen_in_sample_and_checked_out_of_sample(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    result = optimize(settings(sqlite_url, spec_fields, "f", split=0.6), {"KRW-BTC": frame})
    (fold,) = result.folds
    complete = [t for t in trials_of(sqlite_url, "f") if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value or 0.0)
    assert fold.best_score == best.value
    assert fold.in_score == pytest.approx(best.value)  # re-run in-sample: the same backtest
    assert fold.in_sample["trades"] == best.user_attrs[METRICS_ATTR]["trades"]
    train_from, train_to = fold.train
    test_from, test_to = fold.test
    assert (train_from, train_to, test_from) == (
        int(frame.start[0]),
        int(frame.start[3600]),
        int(frame.start[3600]),
    )
    assert test_to == int(frame.start[-1]) + 60
    assert fold.out_of_sample != fold.in_sample


def test_walk_forward_folds_have_their_own_studies(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    result = optimize(
        settings(sqlite_url, spec_fields, "wf", walk_forward=3, trials=4), {"KRW-BTC": frame}
    )
    assert result.studies == ("wf.fold1", "wf.fold2", "wf.fold3")
    assert [len(trials_of(sqlite_url, s)) for s in result.studies] == [4, 4, 4]
    folds = result.folds
    for fold in folds:
        assert fold.train[1] == fold.test[0]
    for before, after in itertools.pairwise(folds):
        assert before.test[1] == after.test[0]
        assert before.train[0] < after.train[0]
    assert result.best_params == folds[-1].best_params
    assert result.trials_run == 12


def test_joining_a_study_needs_the_same_setup(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    optimize(settings(sqlite_url, spec_fields, "j", trials=2), {"KRW-BTC": frame})
    optimize(settings(sqlite_url, spec_fields, "j", trials=3, seed=9), {"KRW-BTC": frame})
    assert len(trials_of(sqlite_url, "j")) == 5  # joined: both runs' trials in one study
    with pytest.raises(OptimizeInputError, match=r"study 'j' was created for another setup \("):
        optimize(
            settings(sqlite_url, spec_fields, "j", objective=Objective("calmar")),
            {"KRW-BTC": frame},
        )


def test_no_valid_trial_is_a_clear_failure(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    space = build_space(MaCross, {}, {"fast": "100:120", "slow": "30:60"})  # never fast < slow
    with pytest.raises(OptimizeError, match="has no valid trial"):
        optimize(settings(sqlite_url, spec_fields, "x", space=space, trials=3), {"KRW-BTC": frame})


def test_too_few_trades_scores_bad_but_runs(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    objective = Objective("profit", penalty=1.0, min_trades=10_000)
    result = optimize(
        settings(sqlite_url, spec_fields, "few", objective=objective, trials=3), {"KRW-BTC": frame}
    )
    fold = result.folds[0]
    assert fold.best_score < -900_000
    assert not objective.counts(fold.in_score)


def test_out_of_sample_is_warmed_up_on_the_bars_before_it(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    """The reported out-of-sample figures are a backtest that trades from the window's first
    bar, its indicators warmed up on the in-sample bars before it."""
    from trading.backtest import BacktestSpec, run_backtest
    from trading.optimize.worker import flat_metrics, window

    result = optimize(settings(sqlite_url, spec_fields, "warm"), {"KRW-BTC": frame})
    fold = result.folds[0]
    start, stop = fold.test
    strategy = MaCross(MaCross.Params(**fold.best_params))
    spec = BacktestSpec(strategy=strategy, trade_from=start, **spec_fields)
    bars = max(strategy.warmup(), spec.limits.atr_period + 1)
    warm = run_backtest(spec, window({"KRW-BTC": frame}, start - bars * 60, stop))
    assert fold.out_of_sample == pytest.approx(flat_metrics(warm.metrics), nan_ok=True)
    assert int(warm.times[0]) == start  # the figures cover the test window only
    assert warm.equity[0] == pytest.approx(float(spec.start_krw), rel=0.01)
