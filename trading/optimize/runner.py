"""The optimization run: studies per fold, workers in parallel processes, then the verdict.

Each fold has its own study (``NAME`` for a plain split, ``NAME.fold1`` .. ``NAME.foldK`` for
walk-forward), so a fold's best parameters are chosen from its in-sample trials only. The
chosen parameters are then backtested once more in-sample and once out-of-sample; the two
sets of metrics side by side show how much of the in-sample edge was fitted noise.

``jobs > 1`` spawns that many worker processes (the ``spawn`` start method: safe with threads
and identical on every OS); ``jobs = 1`` runs the one worker here, which is what the seeded
reproducibility promise covers (parallel workers finish trials in no fixed order).
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from numpy.typing import NDArray
from optuna.trial import TrialState

from trading.optimize.errors import OptimizeError, OptimizeInputError
from trading.optimize.folds import Fold, make_folds
from trading.optimize.objective import Objective
from trading.optimize.risk_space import RISK_PREFIX, split_values
from trading.optimize.space import SearchSpace
from trading.optimize.storage import prepare_study, storage_at
from trading.optimize.worker import (
    ERROR_ATTR,
    Plan,
    evaluate,
    evaluate_after_warm_up,
    resolve_strategy,
    run_worker,
    shares,
    window,
)
from trading.strategies.base import CandleFrame, Strategy
from trading.strategies.params import parse_params
from trading.timeframes import timeframe_seconds

__all__ = [
    "FoldResult",
    "OptimizeResult",
    "OptimizeSettings",
    "optimize",
    "study_names",
]

_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class OptimizeSettings:
    """What to optimize and how. ``spec`` is ``BacktestSpec``'s fields except ``strategy``."""

    strategy: str
    space: SearchSpace
    objective: Objective
    spec: Mapping[str, Any]
    storage: str
    study: str
    trials: int = 100
    jobs: int = 1
    seed: int | None = 42
    split: float = 0.7
    walk_forward: int = 1
    strategy_file: str = ""


@dataclass(frozen=True, slots=True)
class TrialCounts:
    complete: int
    pruned: int
    failed: int
    first_error: str = ""  # of a failed trial, to show why some failed


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fold: its windows (epoch seconds, half-open), best parameters and both results.

    ``best_params`` are the strategy's; ``best_risk`` the searched or fixed risk settings
    (bare names, e.g. ``atr_stop_mult``), empty when the space has none.
    """

    fold: Fold
    train: tuple[int, int]
    test: tuple[int, int]
    best_params: dict[str, object]
    best_score: float
    in_sample: dict[str, float]
    out_of_sample: dict[str, float]
    in_score: float
    out_score: float
    trials: TrialCounts
    best_risk: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    strategy: str
    objective: Objective
    folds: tuple[FoldResult, ...]
    studies: tuple[str, ...]
    trials_run: int
    elapsed_s: float

    @property
    def best_params(self) -> dict[str, object]:
        """The last fold's choice: fitted on the most recent in-sample data."""
        return self.folds[-1].best_params

    @property
    def best_risk(self) -> dict[str, object]:
        """The last fold's risk settings (bare names), empty when none were searched."""
        return self.folds[-1].best_risk


def study_names(study: str, folds: int) -> tuple[str, ...]:
    return (study,) if folds == 1 else tuple(f"{study}.fold{i + 1}" for i in range(folds))


def _time_axis(frames: Mapping[str, CandleFrame]) -> NDArray[np.int64]:
    """Every candle start of any market, sorted: the axis the folds are cut on."""
    starts = [frame.start for frame in frames.values() if len(frame)]
    if not starts:
        raise OptimizeInputError("no candles to optimize on")
    return np.unique(np.concatenate(starts))


def _bounds(axis: NDArray[np.int64], fold: Fold, step: int) -> tuple[int, int, int, int]:
    def at(i: int) -> int:
        return int(axis[i]) if i < len(axis) else int(axis[-1]) + step

    return at(fold.train_start), at(fold.train_stop), at(fold.test_start), at(fold.test_stop)


def _setup(settings: OptimizeSettings, bounds: tuple[int, int, int, int]) -> dict[str, object]:
    return {
        "strategy": settings.strategy_file or settings.strategy,
        "objective": settings.objective.describe(),
        "min_trades": settings.objective.min_trades,
        "space": settings.space.describe(),
        "spec": {k: str(v) for k, v in settings.spec.items()},
        "train": [bounds[0], bounds[1]],
    }


def _spawned(plan: Plan, index: int, trials: tuple[int, ...], reports: Any) -> None:
    """Entry point of a spawned worker: trials and the outcome go back through ``reports``."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are counted and reported
    try:
        run_worker(plan, index, trials, lambda: reports.put(("trial", index, "")))
    except BaseException as exc:
        reports.put(("error", index, f"{type(exc).__name__}: {exc}"))
        raise
    reports.put(("done", index, ""))


def _run_parallel(
    plan: Plan, jobs: int, per_worker: list[tuple[int, ...]], progress: Callable[[int], None]
) -> None:
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    workers = [
        context.Process(
            target=_spawned, args=(plan, i, per_worker[i], reports), name=f"optimize-{i}"
        )
        for i in range(jobs)
    ]
    for worker in workers:
        worker.start()
    finished: set[int] = set()
    errors: list[str] = []
    try:
        while len(finished) < jobs:
            try:
                kind, index, text = reports.get(timeout=_POLL_S)
            except queue.Empty:
                # a clean exit's "done" is already in the pipe; only a crash sends nothing
                for i, worker in enumerate(workers):
                    if i not in finished and worker.exitcode not in (None, 0):
                        finished.add(i)
                        errors.append(f"worker {i} exited with code {worker.exitcode}")
                continue
            if kind == "trial":
                progress(1)
            else:
                finished.add(index)
                if kind == "error":
                    errors.append(f"worker {index}: {text}")
    finally:
        for worker in workers:
            worker.join(timeout=5 if not errors else 0.5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        reports.close()
    if errors:
        raise OptimizeError("optimization failed: " + "; ".join(dict.fromkeys(errors)))


def _counts(study: optuna.Study) -> TrialCounts:
    trials = study.get_trials(deepcopy=False)
    errors = (str(t.user_attrs[ERROR_ATTR]) for t in trials if ERROR_ATTR in t.user_attrs)
    return TrialCounts(
        complete=sum(t.state == TrialState.COMPLETE for t in trials),
        pruned=sum(t.state == TrialState.PRUNED for t in trials),
        failed=sum(t.state == TrialState.FAIL for t in trials),
        first_error=next(errors, ""),
    )


def _best(study: optuna.Study, name: str) -> optuna.trial.FrozenTrial:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return study.best_trial
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    reason = next(
        (str(t.user_attrs[ERROR_ATTR]) for t in failed if ERROR_ATTR in t.user_attrs), ""
    )
    if reason:
        raise OptimizeError(f"study {name!r}: every trial failed; first error: {reason}")
    raise OptimizeError(
        f"study {name!r} has no valid trial (every parameter draw broke a rule of the strategy);"
        " widen or fix the search space"
    )


def _verdict(
    settings: OptimizeSettings,
    plan: Plan,
    cls: type[Strategy[Any]],
    fold: Fold,
    bounds: tuple[int, int, int, int],
    name: str,
    study: optuna.Study,
) -> FoldResult:
    """The fold's best trial, backtested again in-sample and then out-of-sample."""
    best = _best(study, name)
    chosen, risk = split_values({**settings.space.fixed, **best.params})
    params = parse_params(cls.Params, chosen).model_dump()
    values = params | {RISK_PREFIX + key: value for key, value in risk.items()}
    in_sample = evaluate(plan, cls, values, window(plan.frames, bounds[0], bounds[1]))
    out_sample = evaluate_after_warm_up(plan, cls, values, bounds[2], bounds[3])
    return FoldResult(
        fold=fold,
        train=(bounds[0], bounds[1]),
        test=(bounds[2], bounds[3]),
        best_params=params,
        best_score=float(best.value if best.value is not None else float("nan")),
        in_sample=in_sample,
        out_of_sample=out_sample,
        in_score=settings.objective.score(in_sample),
        out_score=settings.objective.score(out_sample),
        trials=_counts(study),
        best_risk=risk,
    )


def optimize(
    settings: OptimizeSettings,
    frames: Mapping[str, CandleFrame],
    progress: Callable[[int], None] | None = None,
) -> OptimizeResult:
    """Run the trials of every fold and evaluate each fold's best in- and out-of-sample.

    ``progress(n)`` is called as trials finish (for a progress bar). Raises
    ``OptimizeInputError`` for bad settings and ``OptimizeError`` when the run fails.
    """
    if settings.trials < 1:
        raise OptimizeInputError(f"--trials {settings.trials} must be at least 1")
    if settings.jobs < 1:
        raise OptimizeInputError(f"--jobs {settings.jobs} must be at least 1")
    cls = resolve_strategy(settings.strategy, settings.strategy_file)
    axis = _time_axis(frames)
    folds = tuple(make_folds(len(axis), split=settings.split, walk_forward=settings.walk_forward))
    step = timeframe_seconds(str(settings.spec["timeframe"]))
    bounds = tuple(_bounds(axis, fold, step) for fold in folds)
    names = study_names(settings.study, len(folds))
    plan = Plan(
        strategy=settings.strategy,
        strategy_file=settings.strategy_file,
        space=settings.space,
        objective=settings.objective,
        spec=dict(settings.spec),
        frames=dict(frames),
        folds=folds,
        bounds=bounds,
        storage=settings.storage,
        studies=names,
        seed=settings.seed,
    )
    with storage_at(settings.storage) as storage:
        studies = [
            prepare_study(storage, name, _setup(settings, b))
            for name, b in zip(names, bounds, strict=True)
        ]
        jobs = min(settings.jobs, settings.trials)
        split = shares(settings.trials, jobs)
        per_worker = [tuple(split[i] for _ in folds) for i in range(jobs)]
        report = progress or (lambda n: None)
        started = time.perf_counter()
        if jobs == 1:
            run_worker(plan, 0, per_worker[0], lambda: report(1))
        else:
            _run_parallel(plan, jobs, per_worker, report)
        elapsed = time.perf_counter() - started
        results = [
            _verdict(settings, plan, cls, fold, b, name, study)
            for fold, b, name, study in zip(folds, bounds, names, studies, strict=True)
        ]
    return OptimizeResult(
        strategy=cls.name,
        objective=settings.objective,
        folds=tuple(results),
        studies=names,
        trials_run=settings.trials * len(folds),
        elapsed_s=elapsed,
    )
