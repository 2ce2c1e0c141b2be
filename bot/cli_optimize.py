"""``upbit-bot optimize``: tune a strategy's parameters by Bayesian optimization (optuna TPE).

Arguments are checked here so every mistake is one line on stderr and exit code 2; the work
is ``trading.optimize``. Output: a table of in-sample beside out-of-sample metrics per fold
(or ``--json``), the best parameters as a ``[strategy]`` TOML snippet (``--out DIR/best.toml``)
and as the ``/set`` commands that apply them to a running bot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bot import cli_backtest
from bot.cli_usage import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Subcommand,
    args_config,
    fail,
    say,
)
from handlers.parser import UsageError

if TYPE_CHECKING:
    from bot.config import AppConfig
    from trading.optimize import OptimizeResult, OptimizeSettings

NAME = "optimize"


COMMAND = Subcommand(
    NAME,
    summary="tune strategy parameters (Bayesian optimization, walk-forward)",
    description="Search a strategy's parameters within the bounds its parameter model "
    "declares, with optuna's TPE sampler, scoring each trial by a backtest of the "
    "in-sample window; the best parameters are then backtested out-of-sample too, and "
    "both are shown side by side. Risk settings, fee, slippage and stake come from "
    "--config ([risk], [paper]) exactly as for `upbit-bot backtest`.",
    epilog="Objectives: sharpe, sortino, calmar; profit = total_return_pct - PENALTY x "
    "max_drawdown_pct. A trial with fewer than --min-trades trades scores -1e6 + trades. "
    "Workers on several machines join one study with the same --storage URL, --study "
    "name and options. See docs/optimize.md.",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli_backtest.candle_arguments(
        parser,
        data_note=", as for `upbit-bot backtest`",
        fill_gaps="instead of refusing them (unlike `upbit-bot backtest`, the optimizer does"
        " not run over gaps: docs/optimize.md)",
        plain="every risk feature off, as `upbit-bot backtest --plain`: the strategy alone",
    )
    parser.add_argument("--from", dest="start", default=None, metavar="WHEN", help="UTC")
    parser.add_argument("--to", dest="end", default=None, metavar="WHEN", help="UTC, exclusive")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="fix a parameter"
    )
    parser.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KEY=LO:HI",
        help="narrow a parameter's range (inside its declared bounds); KEY=a,b for choices; "
        "risk.NAME=LO..HI searches a risk setting within its bounds in the settings model",
    )
    parser.add_argument(
        "--objective", default="sharpe", help="sharpe (default), sortino, calmar or profit"
    )
    parser.add_argument(
        "--penalty", type=float, default=1.0, help="drawdown weight of --objective profit"
    )
    parser.add_argument("--min-trades", type=int, default=10, help="fewer trades = a bad score")
    parser.add_argument("--trials", type=int, default=100, help="trials per fold (this run)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--seed", type=int, default=42, help="sampler seed (-1 = random)")
    parser.add_argument(
        "--split", type=float, default=0.7, help="in-sample share of each fold (0.05..0.95)"
    )
    parser.add_argument(
        "--walk-forward",
        type=int,
        default=1,
        metavar="K",
        help="K rolling folds, out-of-sample windows back to back (1 = one split)",
    )
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL of the study database (default: sqlite:///DIR/optuna.db with "
        "--out, else sqlite:///optuna.db); e.g. postgresql://user@host:5432/db",
    )
    parser.add_argument(
        "--study", default=None, help="study name; an existing one is joined (default: new)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="write best.toml, result.json"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# -- argument values ---------------------------------------------------------------------------


def _strategy(name: str) -> tuple[str, str]:
    """``(name, file)``: a path ending in ``.py`` is a user strategy file."""
    return ("", name) if name.endswith(".py") else (name, "")


# -- output ------------------------------------------------------------------------------------


def _progress(total: int, quiet: bool) -> tuple[Callable[[int], None], Callable[[], None]]:
    if quiet or not sys.stderr.isatty():
        return (lambda n: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="trial", file=sys.stderr, dynamic_ncols=True)
    return bar.update, bar.close


def _write_outputs(out: Path | None, snippet: str, summary: dict[str, object]) -> Path | None:
    if out is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    (out / "best.toml").write_text(snippet, encoding="utf-8")
    (out / "result.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return out / "best.toml"


def _print_text(
    result: OptimizeResult, snippet: str, commands: list[str], ordered: bool, toml: Path | None
) -> None:
    from trading.optimize.report import table

    for line in table(result):
        print(line)
    print()
    print(
        f"best parameters (last fold's in-sample choice), {result.trials_run} trial(s) run "
        f"in {result.elapsed_s:.1f} s:"
    )
    print(snippet.rstrip())
    if toml is not None:
        print(f"(written to {toml})")
    print()
    if commands:
        print("apply at runtime:" + ("" if ordered else " (no order keeps every step valid)"))
        for command in commands:
            print(f"  {command}")
    else:
        print("the best parameters are the strategy's defaults: nothing to /set")


# -- the command -------------------------------------------------------------------------------


def _settings(args: argparse.Namespace, cfg: AppConfig) -> OptimizeSettings:
    from trading.optimize import Objective, OptimizeSettings, build_space, parse_assignments
    from trading.strategies.registry import get_strategy, load_strategy_file

    strategy = args.strategy or cfg.strategy.file or cfg.strategy.name
    name, file = _strategy(strategy)
    cls = load_strategy_file(Path(file)) if file else get_strategy(name)
    timeframe = cli_backtest.check_timeframe(args.timeframe or cfg.strategy.timeframe)
    fixed = parse_assignments(args.param, "--param")
    narrow = parse_assignments(args.space, "--space")
    space = build_space(cls, fixed, narrow)
    objective = Objective(args.objective, args.penalty, args.min_trades)
    study = args.study or f"{cls.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    if args.storage:
        storage = args.storage
    else:
        storage = f"sqlite:///{(args.out / 'optuna.db') if args.out else Path('optuna.db')}"
    if not 0.05 <= args.split <= 0.95:
        raise UsageError(f"--split {args.split:g} is out of range; use 0.05..0.95")
    settings = OptimizeSettings(
        strategy=name,
        strategy_file=file,
        space=space,
        objective=objective,
        spec=cli_backtest.spec_fields(cfg, timeframe, args.plain),
        storage=storage,
        study=study,
        trials=args.trials,
        jobs=args.jobs,
        seed=None if args.seed < 0 else args.seed,
        split=args.split,
        walk_forward=args.walk_forward,
    )
    return settings


def _execute(args: argparse.Namespace) -> int:
    import optuna

    from bot.config.fields import mask_url_password
    from trading.optimize import optimize, set_commands, toml_snippet
    from trading.optimize.report import as_json
    from trading.optimize.worker import resolve_strategy

    cfg = args_config(args)
    settings = _settings(args, cfg)
    frames, notes = cli_backtest.select_data(args, cfg, settings.spec["timeframe"])
    markets = list(frames)
    for note in notes:
        say(NAME, note)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are counted, not dumped
    folds = max(1, args.walk_forward)
    update, close = _progress(settings.trials * folds, args.quiet or args.json)
    try:
        result = optimize(settings, frames, progress=update)
    finally:
        close()
    cls = resolve_strategy(settings.strategy, settings.strategy_file)
    current = cfg.strategy.params if cfg.strategy.name == cls.name else {}
    commands, ordered = set_commands(cls, result.best_params, current)
    last = result.folds[-1]
    comments = (
        f"upbit-bot optimize: {cls.name}, objective {result.objective.describe()}",
        f"study {result.studies[-1]}; in-sample {_day(last.train[0])} .. {_day(last.train[1])}",
    )
    snippet = toml_snippet(
        cls.name, settings.spec["timeframe"], result.best_params, comments, settings.strategy_file
    )
    if result.best_risk:  # searched risk settings: a [risk] table and /set risk.NAME lines
        table, risk_commands = _risk_lines(result.best_risk)
        snippet += "\n[risk]\n" + "".join(f"{line}\n" for line in table)
        commands += risk_commands
    summary = as_json(result) | {
        "markets": markets,
        "timeframe": settings.spec["timeframe"],
        "storage": mask_url_password(settings.storage),
        "set_commands": commands,
        "toml": snippet,
    }
    toml_path = _write_outputs(args.out, snippet, summary)
    summary["toml_path"] = str(toml_path) if toml_path else None
    if args.json:
        print(json.dumps(summary, allow_nan=False))
    else:
        _print_text(result, snippet, commands, ordered, toml_path)
    return EXIT_OK


def _risk_lines(best: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """The searched risk settings as ``[risk]`` lines and ``/set risk.NAME VALUE`` lines.

    Each value is first what a trial ran with (``risk_setting_values``: a Decimal setting's
    float draw as its short Decimal), then written as chat's ``/set`` takes and echoes it
    (``show``: ``2.5``, ``true``, ``limit``), not as ``toml_value`` writes a float
    (``2.5000000000000004``) or a string (``"limit"``, quotes and all). In the TOML table a
    number or bool is written bare, a choice quoted."""
    from trading.optimize.apply import toml_value
    from trading.optimize.risk_space import risk_setting_values
    from trading.settings import show

    table, commands = [], []
    for name, value in risk_setting_values(best).items():
        text = show(value)
        plain = isinstance(value, bool | int | Decimal)
        table.append(f"{name} = {text if plain else toml_value(text)}")
        commands.append(f"/set risk.{name} {text}")
    return table, commands


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def run(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from trading.candle_file import CandleFileError
    from trading.optimize import OptimizeError, OptimizeInputError
    from trading.strategies.params import ParamError
    from trading.strategies.registry import StrategyLoadError

    started = time.perf_counter()
    try:
        return _execute(args)
    except ConfigError:
        raise  # cli.main prints the whole list of config problems
    except (
        UsageError,
        OptimizeInputError,
        CandleFileError,
        StrategyLoadError,
        ParamError,
    ) as exc:
        return fail(NAME, exc)
    except OptimizeError as exc:
        return fail(NAME, exc, EXIT_FAILED)
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - started
        return fail(NAME, f"interrupted after {elapsed:.0f} s", EXIT_INTERRUPTED)


__all__ = ["COMMAND", "NAME", "add_arguments", "run"]
