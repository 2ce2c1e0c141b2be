"""One optimizer worker: its share of the trials of each fold, in this process or a spawned one.

A worker gets the whole ``Plan`` once (the candles travel with it, so data is loaded once per
process, not per trial), opens its own storage connection, and runs each trial's backtest
in-process. Trials report through ``on_trial``; in a spawned worker that is a queue the parent
reads for the progress bar.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, Trial, TrialState

from trading.backtest import BacktestSpec, run_backtest
from trading.optimize.errors import OptimizeError
from trading.optimize.folds import Fold
from trading.optimize.objective import Objective
from trading.optimize.risk_space import split_values, with_risk
from trading.optimize.space import SearchSpace
from trading.optimize.storage import storage_at
from trading.strategies.base import CandleFrame, Strategy
from trading.strategies.params import ParamError, parse_params
from trading.strategies.registry import get_strategy, load_strategy_file

__all__ = [
    "Plan",
    "evaluate",
    "flat_metrics",
    "resolve_strategy",
    "run_worker",
    "shares",
    "window",
]

METRICS_ATTR = "metrics"
WORKER_ATTR = "worker"
ERROR_ATTR = "error"
MAX_FAILED_IN_A_ROW = 10
"""A worker stops after this many trials in a row raised: a broken strategy or data, not bad
luck, and every further trial would only repeat the same traceback."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a worker needs; picklable (the strategy travels by name or file path).

    ``spec`` holds ``BacktestSpec``'s fields except ``strategy``. ``bounds`` are each fold's
    time windows in epoch seconds, ``(train_from, train_to, test_from, test_to)``, half-open.
    """

    strategy: str
    strategy_file: str
    space: SearchSpace
    objective: Objective
    spec: Mapping[str, Any]
    frames: Mapping[str, CandleFrame]
    folds: tuple[Fold, ...]
    bounds: tuple[tuple[int, int, int, int], ...]
    storage: str
    studies: tuple[str, ...]
    seed: int | None


def resolve_strategy(name: str, file: str) -> type[Strategy[Any]]:
    return load_strategy_file(Path(file)) if file else get_strategy(name)


def shares(total: int, workers: int) -> list[int]:
    """``total`` trials split as evenly as possible over ``workers``; the shares sum to it."""
    return [total // workers + (1 if i < total % workers else 0) for i in range(workers)]


def window(frames: Mapping[str, CandleFrame], start: int, stop: int) -> dict[str, CandleFrame]:
    """Each market's candles with ``start <= start time < stop`` (markets with none dropped)."""
    out = {}
    for market, frame in frames.items():
        lo, hi = np.searchsorted(frame.start, [start, stop], side="left")
        if hi > lo:
            out[market] = frame[int(lo) : int(hi)]
    return out


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def flat_metrics(metrics: Any) -> dict[str, float]:
    """The backtest summary as plain floats; an undefined ratio (``None``) becomes NaN."""
    raw = metrics.as_dict() if hasattr(metrics, "as_dict") else dataclasses.asdict(metrics)
    out = {}
    for key, value in raw.items():
        number = float("nan") if value is None else _number(value)
        if number is not None:  # not a number at all (no such metric today): left out
            out[key] = number
    return out


def evaluate(
    plan: Plan,
    cls: type[Strategy[Any]],
    values: Mapping[str, object],
    frames: Mapping[str, CandleFrame],
) -> dict[str, float]:
    """Backtest ``values`` (strategy parameters and ``risk.NAME`` settings) on ``frames``;
    raises ``ParamError`` for an invalid combination."""
    params, risk = split_values(values)
    spec = BacktestSpec(
        strategy=cls(parse_params(cls.Params, params)), **with_risk(plan.spec, risk)
    )
    return flat_metrics(run_backtest(spec, frames).metrics)


def evaluate_after_warm_up(
    plan: Plan, cls: type[Strategy[Any]], values: Mapping[str, object], start: int, stop: int
) -> dict[str, float]:
    """Backtest ``[start, stop)`` with the strategy and ATR warmed up on the candles before
    ``start`` (which it never trades on): an out-of-sample window trades from its first bar,
    as a bot switched to these parameters at ``start`` would."""
    params, risk = split_values(values)
    strategy = cls(parse_params(cls.Params, params))
    spec = BacktestSpec(strategy=strategy, trade_from=start, **with_risk(plan.spec, risk))
    bars = max(strategy.warmup_for(spec.timeframe_s), spec.limits.atr_period + 1)
    frames = window(plan.frames, start - bars * spec.timeframe_s, stop)
    return flat_metrics(run_backtest(spec, frames).metrics)


def _json_safe(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


def _objective(
    plan: Plan, cls: type[Strategy[Any]], frames: Mapping[str, CandleFrame], tag: str
) -> Callable[[Trial], float]:
    def objective(trial: Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, tag)
        values = plan.space.suggest(trial)
        try:
            metrics = evaluate(plan, cls, values, frames)
        except ParamError as exc:  # a cross-field rule (fast < slow): not a result, skip it
            raise optuna.TrialPruned(str(exc)) from None
        except Exception as exc:
            trial.set_user_attr(ERROR_ATTR, f"{type(exc).__name__}: {exc}"[:500])
            raise
        trial.set_user_attr(METRICS_ATTR, _json_safe(metrics))
        return plan.objective.score(metrics)

    return objective


def run_worker(
    plan: Plan,
    index: int,
    trials: tuple[int, ...],
    on_trial: Callable[[], None] | None = None,
) -> None:
    """Run ``trials[i]`` trials of fold i as worker ``index``; its sampler is seeded with
    ``seed + 1009 * index + fold`` (distinct per worker and fold, fixed for a given seed)."""
    cls = resolve_strategy(plan.strategy, plan.strategy_file)
    tag = f"{socket.gethostname()}:{os.getpid()}:{index}"
    failed_in_a_row = 0

    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        nonlocal failed_in_a_row
        if on_trial is not None:
            on_trial()
        failed_in_a_row = failed_in_a_row + 1 if trial.state == TrialState.FAIL else 0
        if failed_in_a_row >= MAX_FAILED_IN_A_ROW:
            error = trial.user_attrs.get(ERROR_ATTR, "unknown error")
            raise OptimizeError(f"{failed_in_a_row} trials in a row failed; the last: {error}")

    with storage_at(plan.storage) as storage:
        for fold, bounds, name, count in zip(
            plan.folds, plan.bounds, plan.studies, trials, strict=True
        ):
            if count <= 0:
                continue
            frames = window(plan.frames, bounds[0], bounds[1])
            seed = None if plan.seed is None else plan.seed + 1009 * index + fold.index
            sampler = optuna.samplers.TPESampler(seed=seed)
            study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
            study.optimize(
                _objective(plan, cls, frames, tag),
                n_trials=count,
                catch=(Exception,),
                callbacks=[callback],
            )
