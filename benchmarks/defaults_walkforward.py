"""Choose defaults by walk-forward: optimize on the past, judge on the next window, repeat.

``python -m benchmarks --only defaults`` (or ``python -m benchmarks.defaults_walkforward``).

For each dataset of the shared real data (``/work/shared/data``, see its README; the bundled
KRW-BTC minutes when it is missing) the optimizer (``trading.optimize``, the same code as
``upbit-bot optimize``) searches the default strategy's parameters plus the risk settings
listed in ``SEARCHED_RISK``, with ``FOLDS`` rolling walk-forward folds: each fold fits on its
in-sample window (``TRIALS`` seeded TPE trials, objective ``profit`` = return - drawdown) and
its choice is backtested on the out-of-sample window right after, which no trial saw. The
out-of-sample windows are back to back, so their returns compound to the return a user would
have had re-optimizing before each window. The same windows are backtested with today's
defaults (``AppConfig()``: the embedded default config, risk layer on) and held, for scale.

Everything else is the embedded default config's (stake, fee, slippage, cooldowns, stops not
searched). Seeded: the same code and data print the same figures. Method and results:
``docs/optimize.md`` ("Choosing the defaults").
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cli_backtest import spec_fields
from bot.config import AppConfig
from trading.backtest.data import fill_gaps, load_frame, slice_frame
from trading.optimize import Objective, OptimizeSettings, build_space, optimize
from trading.optimize.risk_space import RISK_PREFIX
from trading.optimize.worker import Plan, evaluate_after_warm_up, resolve_strategy
from trading.strategies import CandleFrame
from trading.timeframes import timeframe_seconds

#: the risk settings searched besides the strategy's parameters, each ``name: "lo..hi"`` within
#: its bounds in ``trading/risk/settings.py``; add a line to search a new exit or protection
SEARCHED_RISK: dict[str, str] = {
    "atr_stop_mult": "0..5",
    "stop_min_distance_pct": "0.2..3",
    "take_profit_pct": "0..10",
    "max_holding_minutes": "0..10080",
    "trailing_stop": "",  # a bool: both values
    "trailing_stop_positive_pct": "0..5",
    "trailing_stop_positive_offset_pct": "0..10",
    "exit_profit_only": "",
    "stop_cooldown_candles": "0..30",
    "volatility_halt_percentile": "95..99.9",  # at or above the resume percentile (95)
    "stoploss_guard_trades": "0..5",
}

SHARED = Path("/work/shared/data")
BUNDLED = Path(__file__).parents[1] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
FOLDS = 3
SPLIT = 0.7
TRIALS = 40
QUICK_TRIALS = 10
SEED = 42
OBJECTIVE = Objective("profit", penalty=1.0, min_trades=5)


@dataclass(frozen=True, slots=True)
class Dataset:
    label: str
    file: str
    market: str
    timeframe: str
    start: str | None = None  # ISO date, UTC, inclusive
    end: str | None = None  # exclusive


DATASETS = (
    # segment A only: the 749-day gap to segment B is not a market, it is missing data
    Dataset("KRW-BTC 1m 2018", "upbit_KRW-BTC_1m.csv", "KRW-BTC", "1m", None, "2018-02-02"),
    Dataset("KRW-ETH 15m 2024", "upbit_KRW-ETH_15m.csv.gz", "KRW-ETH", "15m"),
    Dataset("KRW-ETH 1h 2024", "upbit_KRW-ETH_1h.csv", "KRW-ETH", "1h"),
    Dataset("KRW-BTC 1d 2017-2026", "upbit_KRW-BTC_1d.csv", "KRW-BTC", "1d"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One dataset: out-of-sample returns (compounded over the folds) and the choices."""

    label: str
    bars: int
    filled: int
    chosen_pct: float
    default_pct: float
    hold_pct: float
    chosen_trades: int
    default_trades: int
    choices: tuple[dict[str, object], ...]
    seconds: float
    plan: Plan  # to backtest other values on the same out-of-sample windows
    windows: tuple[tuple[int, int], ...]  # the out-of-sample windows, back to back


def _epoch(day: str | None) -> int | None:
    if day is None:
        return None
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def load(dataset: Dataset) -> tuple[CandleFrame, int]:
    """The dataset's candles in its range, missing candles filled flat; and how many were."""
    path = SHARED / dataset.file
    if not path.is_file() and dataset.file == BUNDLED.name:
        path = BUNDLED
    frame = slice_frame(load_frame(path), _epoch(dataset.start), _epoch(dataset.end))
    return fill_gaps(frame, timeframe_seconds(dataset.timeframe))


def _compound(returns_pct: Sequence[float]) -> float:
    growth = math.prod(1.0 + r / 100.0 for r in returns_pct)
    return (growth - 1.0) * 100.0


def _plan(cfg: AppConfig, fields: Mapping[str, Any], frames: dict[str, CandleFrame]) -> Plan:
    return Plan(
        strategy=cfg.strategy.name,
        strategy_file="",
        space=build_space(resolve_strategy(cfg.strategy.name, "")),
        objective=OBJECTIVE,
        spec=fields,
        frames=frames,
        folds=(),
        bounds=(),
        storage="",
        studies=(),
        seed=None,
    )


def out_of_sample(
    plan: Plan, values: Mapping[str, object], windows: Sequence[tuple[int, int]]
) -> list[dict[str, float]]:
    """``values`` (strategy parameters and ``risk.*``) traded on each window, warmed up."""
    cls = resolve_strategy(plan.strategy, "")
    return [evaluate_after_warm_up(plan, cls, dict(values), *window) for window in windows]


def today(cfg: AppConfig) -> dict[str, object]:
    """The embedded defaults as values: the strategy's parameters and the searched risk."""
    cls = resolve_strategy(cfg.strategy.name, "")
    params: dict[str, object] = cls.Params.model_validate(dict(cfg.strategy.params)).model_dump()
    return params | {RISK_PREFIX + k: getattr(cfg.risk, k) for k in SEARCHED_RISK}


def run_dataset(dataset: Dataset, trials: int, storage_dir: Path) -> Outcome:
    started = time.perf_counter()
    storage_dir.mkdir(parents=True, exist_ok=True)
    cfg = AppConfig()
    frame, filled = load(dataset)
    frames = {dataset.market: frame}
    fields = spec_fields(cfg, dataset.timeframe, plain=False)
    cls = resolve_strategy(cfg.strategy.name, "")
    narrow = {RISK_PREFIX + name: text for name, text in SEARCHED_RISK.items()}
    settings = OptimizeSettings(
        strategy=cfg.strategy.name,
        space=build_space(cls, {}, narrow),
        objective=OBJECTIVE,
        spec=fields,
        storage=f"sqlite:///{storage_dir / 'optuna.db'}",
        study=dataset.label.replace(" ", "_"),
        trials=trials,
        seed=SEED,
        split=SPLIT,
        walk_forward=FOLDS,
    )
    result = optimize(settings, frames)
    plan = _plan(cfg, fields, frames)
    windows = tuple(fold.test for fold in result.folds)
    defaults = out_of_sample(plan, today(cfg), windows)
    chosen = [fold.out_of_sample for fold in result.folds]
    return Outcome(
        label=dataset.label,
        bars=len(frame),
        filled=filled,
        chosen_pct=_compound([m["total_return_pct"] for m in chosen]),
        default_pct=_compound([m["total_return_pct"] for m in defaults]),
        hold_pct=_compound([m["buy_and_hold_return_pct"] for m in chosen]),
        chosen_trades=int(sum(m["trades"] for m in chosen)),
        default_trades=int(sum(m["trades"] for m in defaults)),
        choices=tuple(
            fold.best_params | {RISK_PREFIX + k: v for k, v in fold.best_risk.items()}
            for fold in result.folds
        ),
        seconds=time.perf_counter() - started,
        plan=plan,
        windows=windows,
    )


def consensus(choices: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """One value per key from many folds' choices: the median of a number (an int stays an
    int, a float keeps 3 significant digits), the most frequent of a choice (a tie: the first
    seen). Not a hand pick: the rule is fixed before the figures are seen."""
    keys = dict.fromkeys(k for choice in choices for k in choice)
    out: dict[str, object] = {}
    for key in keys:
        seen = [c[key] for c in choices if key in c]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
            middle = statistics.median(float(v) for v in seen)  # type: ignore[arg-type]
            if all(isinstance(v, int) for v in seen):
                out[key] = round(middle)
            else:
                out[key] = float(f"{middle:.3g}")
        else:
            counts = Counter(seen)
            out[key] = max(counts, key=lambda v: (counts[v], -seen.index(v)))
    return out


@dataclass(frozen=True, slots=True)
class Check:
    """One dataset judged with the consensus of the *other* datasets' choices."""

    label: str
    values: dict[str, object]
    return_pct: float
    trades: int


def leave_one_out(outcomes: Sequence[Outcome]) -> list[Check]:
    """For each dataset, the consensus of every other dataset's fold choices, traded on its
    out-of-sample windows: what the adopted defaults can be expected to do on data they
    were not chosen on."""
    checks = []
    for o in outcomes:
        others = [c for other in outcomes if other is not o for c in other.choices]
        values = consensus(others)
        metrics = out_of_sample(o.plan, values, o.windows)
        checks.append(
            Check(
                label=o.label,
                values=values,
                return_pct=_compound([m["total_return_pct"] for m in metrics]),
                trades=int(sum(m["trades"] for m in metrics)),
            )
        )
    return checks


def _value(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def report(outcomes: Sequence[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        lines.append(
            f"  {o.label:22s} {o.bars:>6,} bars ({o.filled} filled)  out-of-sample: "
            f"walk-forward {o.chosen_pct:+7.2f} % ({o.chosen_trades} trades)  "
            f"defaults {o.default_pct:+7.2f} % ({o.default_trades} trades)  "
            f"hold {o.hold_pct:+7.2f} %  [{o.seconds:.0f} s]"
        )
        for index, choice in enumerate(o.choices):
            values = ", ".join(f"{k}={_value(v)}" for k, v in choice.items())
            lines.append(f"      fold {index + 1}: {values}")
    return lines


def run(trials: int = TRIALS, only: Sequence[str] = ()) -> list[Outcome]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    chosen = [d for d in DATASETS if not only or any(o in d.label for o in only)]
    print(
        f"defaults by walk-forward: {FOLDS} folds (split {SPLIT}), {trials} trials per fold, "
        f"seed {SEED}, objective {OBJECTIVE.describe()}, min {OBJECTIVE.min_trades} trades;"
    )
    cfg = AppConfig()
    print(
        f"  searched: strategy parameters + risk {', '.join(SEARCHED_RISK)}; the rest is the "
        f"embedded default config (stake {cfg.risk.position_size_krw:,} of "
        f"{cfg.paper.start_krw:,} KRW, at most {cfg.risk.max_open_positions} open): returns "
        "are of the whole account, holding is the market's own change"
    )
    outcomes = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="defaults-wf-") as tmp:
        for dataset in chosen:
            outcome = run_dataset(dataset, trials, Path(tmp))
            outcomes.append(outcome)
            for line in report([outcome]):
                print(line, flush=True)
    if len(outcomes) > 1:
        print("  leave one dataset out: the consensus of the other datasets' choices")
        for check, o in zip(leave_one_out(outcomes), outcomes, strict=True):
            print(
                f"  {check.label:22s} consensus {check.return_pct:+7.2f} % ({check.trades} "
                f"trades)  defaults {o.default_pct:+7.2f} % ({o.default_trades} trades)"
            )
        adopted = consensus([c for o in outcomes for c in o.choices])
        print("  consensus of every choice (the defaults to adopt):")
        print("      " + ", ".join(f"{k}={_value(v)}" for k, v in adopted.items()))
    print(f"  total {time.perf_counter() - started:.0f} s")
    return outcomes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.defaults_walkforward")
    parser.add_argument("--trials", type=int, default=TRIALS, help="trials per fold")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRIALS} trials per fold")
    parser.add_argument("--only", action="append", default=[], help="datasets whose label has")
    args = parser.parse_args(argv)
    run(QUICK_TRIALS if args.quick else args.trials, args.only)


if __name__ == "__main__":
    main()
