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
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.cli_backtest import spec_fields
from bot.config import AppConfig
from trading.backtest.data import fill_gaps, load_frame, slice_frame
from trading.optimize import Objective, OptimizeResult, OptimizeSettings, build_space, optimize
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


def _defaults_out_of_sample(
    cfg: AppConfig, fields: Mapping[str, Any], frames: dict[str, CandleFrame], r: OptimizeResult
) -> list[dict[str, float]]:
    cls = resolve_strategy(cfg.strategy.name, "")
    plan = Plan(
        strategy=cfg.strategy.name,
        strategy_file="",
        space=build_space(cls),
        objective=OBJECTIVE,
        spec=fields,
        frames=frames,
        folds=(),
        bounds=(),
        storage="",
        studies=(),
        seed=None,
    )
    params = cls.Params.model_validate(dict(cfg.strategy.params)).model_dump()
    return [evaluate_after_warm_up(plan, cls, params, *fold.test) for fold in r.folds]


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
    defaults = _defaults_out_of_sample(cfg, fields, frames, result)
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
    )


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
