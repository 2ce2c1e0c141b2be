"""Backtester speed and memory: ``python -m benchmarks.backtest_speed [--quick] [--runs N]``.

One seeded synthetic year of 1-minute candles per market (``random_walk``, 525,600 bars,
whole-KRW prices; ``--quick``: 30 days), ma_cross SMA 20/60, stake 1,000,000 KRW, fee 0.05 %,
every risk feature off (``--plain``) unless said otherwise. Prints the median of ``--runs``
(at least 5 in-process) for:

- ``run_backtest`` with the candles in memory: 1 market; 10 markets with
  ``max_open_positions = 3``; 1 market with a fixed ATR stop (``atr_stop_mult = 2``); 1
  market with the trailing ATR stop of before issue #13; 1 market with every exit on
  (``EVERY_EXIT``: fixed ATR and percentage stop, trailing after an offset, take-profit, ROI
  table, holding time, exit signal only in profit), with its ratio to the plain run;
- peak memory of a process that builds the candles and runs once (1 and 10 markets; the ten
  frames share one ``start`` array, as frames of one timeline should), and the run's own
  traced peak (``tracemalloc``);
- ``upbit-bot backtest --plain --json`` as a whole process on CSV files (1 and 10 markets):
  wall time and peak RSS (of that process alone, through a small launcher);
- the risk layer's cost (issue #13, first, and alone with ``--risk-only``), on one market:
  ``run_backtest`` plain against the default config with every exit (``EVERY_EXIT``) and
  every protection on (cooldowns, volatility filter, loss and drawdown halts, slippage
  check, stoploss guard, drawdown guard, low-profit guard), and ``python -m bot backtest``
  with the default config against ``--plain`` on the same CSV file, each a median, with
  the ratios (target: at most 2x); in process also the CPU time, each pair run by turns
  (plain, risk layer, plain ...) so that load from the machine's other users hits both alike.

The load average is printed with the figures: others share this machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.backtest_compare import (
    FEE,
    OURS_CONFIG,
    STAKE_KRW,
    START_KRW,
    run_process,
    spec,
    write_csv,
)
from bot.venue import market_rules
from trading.backtest import BacktestSpec, run_backtest
from trading.backtest.synthetic import random_walk
from trading.strategies import CandleFrame

#: every exit of issue #13 on at once (the speed target: at most 2x the plain run)
EVERY_EXIT = {
    "atr_stop_mult": Decimal(2),
    "stop_loss_pct": Decimal(3),
    "trailing_stop": True,
    "trailing_stop_positive_pct": Decimal("0.5"),
    "trailing_stop_positive_offset_pct": Decimal(1),
    "trailing_only_offset_is_reached": True,
    "take_profit_pct": Decimal(5),
    "minimal_roi": ((0, Decimal(3)), (60, Decimal(1)), (240, Decimal("0.3"))),
    "max_holding_minutes": 720,
    "exit_profit_only": True,
    "exit_profit_offset_pct": Decimal("0.1"),
}
YEAR_BARS = 525_600
QUICK_BARS = 43_200
SEED = 20_240_101
MARKETS = tuple(f"KRW-C{i:02d}" for i in range(10))


#: Upbit's KRW tick table, from the wiring: the walk snaps prices to it
KRW = market_rules().tick_bands("KRW-BTC")


def frames(count: int, bars: int) -> dict[str, CandleFrame]:
    """``count`` markets on one timeline: every frame shares the first one's ``start``."""
    out: dict[str, CandleFrame] = {}
    for i, market in enumerate(MARKETS[:count] if count > 1 else ("KRW-BTC",)):
        frame = random_walk(bars, SEED + i, ticks=KRW)
        if out:
            frame = dataclasses.replace(frame, start=next(iter(out.values())).start)
        out[market] = frame
    return out


def with_limits(the_spec: BacktestSpec, **changes: object) -> BacktestSpec:
    return dataclasses.replace(the_spec, limits=the_spec.limits.replace(**changes))


def statistics_of(reasons: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def timed(the_spec: BacktestSpec, data: dict[str, CandleFrame], runs: int) -> list[float]:
    run_backtest(the_spec, data)  # warm: imports, first-call caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run_backtest(the_spec, data)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def timed_pair(
    first: BacktestSpec, second: BacktestSpec, data: dict[str, CandleFrame], runs: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Wall and CPU milliseconds of ``first`` and ``second``, run by turns (a burst of load
    from the other users of the machine hits both alike): (wall 1, wall 2, CPU 1, CPU 2)."""
    for the_spec in (first, second):
        run_backtest(the_spec, data)  # warm: imports, first-call caches
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for i, the_spec in enumerate((first, second)):
            started, cpu = time.perf_counter(), time.process_time()
            run_backtest(the_spec, data)
            cpus[i].append((time.process_time() - cpu) * 1000.0)
            walls[i].append((time.perf_counter() - started) * 1000.0)
    return walls[0], walls[1], cpus[0], cpus[1]


def child_memory(count: int, bars: int) -> None:
    """In a fresh process: build the frames, run once; print RSS and the traced peak (MB)."""
    import resource

    data = frames(count, bars)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    run_backtest(spec(3 if count > 1 else 1), data)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"before_mb": before, "traced_mb": traced}))


def process_memory(count: int, bars: int) -> tuple[float, float, float]:
    """(peak RSS of the whole process, RSS once the frames exist, the run's traced peak)."""
    code = "from benchmarks.backtest_speed import child_memory; child_memory({}, {})"
    run = run_process([sys.executable, "-c", code.format(count, bars)], cwd=Path.cwd())
    inner = json.loads(run.stdout)
    return run.peak_rss_mb, inner["before_mb"], inner["traced_mb"]


def cli_once(files: dict[str, Path], config: Path) -> tuple[float, float]:
    upbit_bot = Path(sys.executable).with_name("upbit-bot")
    cmd = [str(upbit_bot)] if upbit_bot.is_file() else [sys.executable, "-m", "bot"]
    cmd += ["backtest", "--strategy", "ma_cross", "--timeframe", "1m", "--config", str(config)]
    for market, path in files.items():
        cmd += ["--market", market, "--data", str(path)]
    cmd += ["--param", "fast=20", "--param", "slow=60", "--plain", "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPBIT_")}
    run = run_process(cmd, cwd=config.parent, env=env)
    if run.code != 0:
        raise RuntimeError(f"upbit-bot backtest failed (exit {run.code}): {run.stderr[-400:]}")
    return run.wall_s, run.peak_rss_mb


def risk_specs() -> tuple[BacktestSpec, BacktestSpec]:
    """(plain, risk layer): the default config as ``upbit-bot backtest`` builds it, with and
    without ``--plain``; the risk layer's spec also switches every protection on."""
    from bot.cli_backtest import spec_fields
    from bot.config import load_config
    from trading.strategies import build_strategy

    cfg = load_config(None, environ={}, dotenv=Path(os.devnull))

    def strategy() -> Any:
        return build_strategy(cfg.strategy.name, "", dict(cfg.strategy.params))

    plain = BacktestSpec(strategy=strategy(), **spec_fields(cfg, "1m", plain=True))
    fields = spec_fields(cfg, "1m", plain=False)
    fields["limits"] = fields["limits"].replace(
        **EVERY_EXIT,
        stoploss_guard_trades=3,
        drawdown_guard_pct=Decimal(5),
        low_profit_trades=3,
    )
    return plain, BacktestSpec(strategy=strategy(), **fields)


def cli_default(path: Path, config: Path, plain: bool) -> float:
    """Wall seconds of ``python -m bot backtest`` on ``path`` with ``config`` (default)."""
    cmd = [sys.executable, "-m", "bot", "backtest", "--config", str(config), "--data", str(path)]
    cmd += ["--json", *(["--plain"] if plain else [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPBIT_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    run = run_process(cmd, cwd=config.parent, env=env)
    if run.code != 0:
        raise RuntimeError(f"python -m bot backtest failed (exit {run.code}): {run.stderr[-400:]}")
    return run.wall_s


def risk_layer_cost(bars: int, runs: int) -> None:
    """The risk layer against the plain run, in process and as a whole process."""
    one = frames(1, bars)
    plain, risky = risk_specs()
    inproc = max(5, runs)
    base = run_backtest(plain, one)
    full = run_backtest(risky, one)
    print(
        "  risk layer (issue #13): the default config (ma_cross from [strategy], cooldowns,"
        " volatility filter, loss and drawdown halts, slippage and its check) plus every exit"
        " and every protection, against the same config --plain"
    )
    print(
        f"  risk layer: {full.metrics.trades:,} trades"
        f" (plain {base.metrics.trades:,}), volatility halt"
        f" {full.metrics.volatility_halted_pct:.1f} % of the time"
    )
    plain_ms, risk_ms, plain_cpu, risk_cpu = timed_pair(plain, risky, one, inproc)
    _line("run_backtest, plain", plain_ms, "ms")
    _line("run_backtest, risk layer", risk_ms, "ms")
    ratio = statistics.median(risk_ms) / statistics.median(plain_ms)
    print(f"  {'  ratio risk / plain, in process':44s} {ratio:7.2f} x  target <= 2 x")
    # CPU time: what the run itself costs, whatever else the machine runs meanwhile
    _line("run_backtest, plain, CPU", plain_cpu, "ms")
    _line("run_backtest, risk layer, CPU", risk_cpu, "ms")
    ratio = statistics.median(risk_cpu) / statistics.median(plain_cpu)
    print(f"  {'  ratio risk / plain, in process, CPU':44s} {ratio:7.2f} x  target <= 2 x")
    with tempfile.TemporaryDirectory(prefix="upbit-risk-") as tmp:
        work = Path(tmp)
        path = work / "upbit_KRW-BTC_1m.csv"
        write_csv(one["KRW-BTC"], path)
        config = work / "default.toml"
        config.write_text('[bot]\nmode = "paper"\n')  # every other key at its default
        walls: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(runs):  # interleaved: a burst of load hits both alike
            for flag in (True, False):
                walls[flag].append(cli_default(path, config, flag) * 1000)
    _line("python -m bot backtest --plain", walls[True], "ms")
    _line("python -m bot backtest, default config", walls[False], "ms")
    ratio = statistics.median(walls[False]) / statistics.median(walls[True])
    print(f"  {'  ratio default / plain, whole process':44s} {ratio:7.2f} x  target <= 2 x")


def _line(label: str, values: Sequence[float], unit: str, target: str = "") -> None:
    shown = ", ".join(f"{v:.0f}" for v in values)
    tail = f"  target {target}" if target else ""
    print(f"  {label:44s} {statistics.median(values):7.0f} {unit}  (runs: {shown}){tail}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backtest_speed")
    parser.add_argument("--quick", action="store_true", help="30 days instead of a year")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument(
        "--risk-only", action="store_true", help="only the risk layer's cost (issue #13)"
    )
    args = parser.parse_args(argv)
    bars = QUICK_BARS if args.quick else YEAR_BARS
    runs = max(1, args.runs)
    print(
        f"backtest speed: {bars:,} 1m candles per market, ma_cross SMA 20/60, --plain,"
        f" medians of {runs} (in-process: {max(5, runs)}); load average"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    risk_layer_cost(bars, runs)
    if args.risk_only:
        return
    one, ten = frames(1, bars), frames(10, bars)
    inproc = max(5, runs)
    result = run_backtest(spec(1), one)
    print(f"  1 market: {result.metrics.trades:,} trades")
    plain = timed(spec(1), one, inproc)
    _line("run_backtest, 1 market", plain, "ms", "< 100 ms")
    result = run_backtest(spec(3), ten)
    print(f"  10 markets, max_open_positions 3: {result.metrics.trades:,} trades")
    _line("run_backtest, 10 markets", timed(spec(3), ten, inproc), "ms", "< 100 ms")
    plain_ms = statistics.median(plain)
    stops = spec(1, atr_stop_mult=2)
    print(
        f"  fixed ATR stop (atr_stop_mult 2): {run_backtest(stops, one).metrics.trades:,} trades"
    )
    fixed_ms = timed(stops, one, inproc)
    _line("run_backtest, 1 market, fixed ATR stop", fixed_ms, "ms")
    trailing = with_limits(stops, trailing_stop=True, stop_min_distance_pct=Decimal("0.2"))
    print(
        f"  trailing ATR stop (before #13): {run_backtest(trailing, one).metrics.trades:,} trades"
    )
    _line("run_backtest, 1 market, trailing ATR stop", timed(trailing, one, inproc), "ms")
    every = with_limits(spec(1), **EVERY_EXIT)
    result = run_backtest(every, one)
    reasons = statistics_of(t.exit_reason for t in result.trades)
    print(f"  every exit on: {result.metrics.trades:,} trades ({reasons})")
    every_ms = timed(every, one, inproc)
    _line("run_backtest, 1 market, every exit on", every_ms, "ms", "< 2x plain")
    print(f"  every exit on / plain: {statistics.median(every_ms) / plain_ms:.2f}x")
    print(f"  fixed ATR stop / plain: {statistics.median(fixed_ms) / plain_ms:.2f}x")
    del ten
    for count in (1, 10):
        figures = [process_memory(count, bars) for _ in range(runs)]
        label = f"{count} market{'s' if count > 1 else ''}"
        _line(f"peak RSS, build + run_backtest, {label}", [f[0] for f in figures], "MB", "< 300")
        _line("  of it: RSS once the frames exist", [f[1] for f in figures], "MB")
        _line("  the run's traced peak", [f[2] for f in figures], "MB")
    with tempfile.TemporaryDirectory(prefix="upbit-speed-") as tmp:
        work = Path(tmp)
        files = {m: work / f"upbit_{m}_1m.csv" for m in MARKETS}
        for i, (_, path) in enumerate(files.items()):
            write_csv(random_walk(bars, SEED + i, ticks=KRW), path)
        single = {"KRW-C00": files["KRW-C00"]}
        for count, chosen in ((1, single), (10, files)):
            config = work / f"c{count}.toml"
            config.write_text(
                OURS_CONFIG.format(
                    stake=STAKE_KRW, max_open=3 if count > 1 else 1, start=START_KRW, fee=FEE
                )
            )
            results = [cli_once(chosen, config) for _ in range(runs)]
            label = f"{count} market{'s' if count > 1 else ''}"
            _line(f"upbit-bot backtest process, {label}", [r[0] * 1000 for r in results], "ms")
            _line(f"upbit-bot backtest peak RSS, {label}", [r[1] for r in results], "MB", "< 300")


if __name__ == "__main__":
    main()

__all__ = ["child_memory", "main"]
