"""Backtest speed side by side with freqtrade, on one seeded synthetic year of 1-minute candles.

The data: ``trading.backtest.synthetic.random_walk`` (525,600 bars, whole-KRW prices), written
as our candle CSV and as freqtrade's feather file (``user_data/data/upbit/BTC_KRW-1m.feather``).
The strategy: SMA 20/60 cross as issue #5 defines it (signal on candle t's close, fill at t+1's
open), fee 0.05 % on each side, stake 1,000,000 KRW, no stops, every risk feature off.

Measured, each the median of ``runs``:

- freqtrade ``backtesting`` as a whole process (wall time and peak RSS via ``os.wait4``) and
  the time of the backtest inside it (its ``backtest_one_strategy``, timed by the wrapper);
- ``upbit-bot backtest`` as a whole process on the same CSV (wall, peak RSS);
- ``run_backtest`` in-process with the candles in memory (ms; peak traced memory);
- the same for 10 markets at once with ``max_open_positions`` limiting them;
- a bare numpy loop over the same signals, for scale.

freqtrade lives in its own virtual environment (``~/.cache/upbit-bot-bench/freqtrade-venv``),
created on first use, never a project dependency. It loads the exchange's market list at
start-up; offline that fails, so a wrapper hands ccxt one BTC/KRW market before
``freqtrade.main.main`` runs (``--cache none``: no result reuse between runs).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from trading.backtest import BacktestSpec, run_backtest
from trading.backtest.synthetic import random_walk
from trading.risk.limits import RiskLimits
from trading.risk.settings import PLAIN_RISK
from trading.strategies import CandleFrame
from trading.strategies.ma_cross import MaCross, MaCrossParams
from trading.upbit.market_rules import UpbitMarketRules

YEAR_BARS = 525_600
QUICK_BARS = 43_200
SEED = 20_240_101
#: Upbit's KRW tick table: the walk snaps prices to it, as real Upbit candles are
KRW = UpbitMarketRules().tick_bands("KRW-BTC")
MARKETS10 = tuple(f"KRW-C{i:02d}" for i in range(10))
MAX_OPEN_10 = 3
STAKE_KRW = 1_000_000
FEE = "0.0005"
START_KRW = 1_000_000_000  # far above the stake: the wallet never limits an entry
FT_VENV = Path(os.environ.get("UPBIT_BOT_BENCH_CACHE", Path.home() / ".cache" / "upbit-bot-bench"))
FT_VENV = FT_VENV / "freqtrade-venv"
FT_PIN = os.environ.get("UPBIT_BOT_BENCH_FREQTRADE", "freqtrade")

FT_WRAPPER = '''"""Run freqtrade offline: ccxt gets one BTC/KRW market, not Upbit's list."""
import json
import sys
import time

from freqtrade.exchange import exchange as ft_exchange
from freqtrade.optimize import backtesting as ft_backtesting

MARKET = {
    "id": "KRW-BTC", "symbol": "BTC/KRW", "base": "BTC", "quote": "KRW", "baseId": "BTC",
    "quoteId": "KRW", "settle": None, "settleId": None, "type": "spot", "spot": True,
    "margin": False, "swap": False, "future": False, "option": False, "contract": False,
    "active": True, "linear": None, "inverse": None, "contractSize": None, "expiry": None,
    "expiryDatetime": None, "strike": None, "optionType": None, "taker": 0.0005,
    "maker": 0.0005, "percentage": True, "tierBased": False, "feeSide": "get",
    "precision": {"amount": 1e-8, "price": 1.0},
    "limits": {"leverage": {"min": None, "max": None}, "amount": {"min": None, "max": None},
               "price": {"min": None, "max": None}, "cost": {"min": 5000.0, "max": 1e12}},
    "info": {}, "created": None,
}


def _offline_markets(self, reload=False):
    self._api_async.set_markets([MARKET])


ft_exchange.Exchange._load_async_markets = _offline_markets
_original = ft_backtesting.Backtesting.backtest_one_strategy
REPORT = {}


def _timed(self, strat, data, timerange):
    started = time.perf_counter()
    out = _original(self, strat, data, timerange)
    REPORT["backtest_s"] = time.perf_counter() - started
    content = self.all_bt_content[strat.get_strategy_name()]
    trades = content["results"]
    REPORT["trades"] = int(len(trades))
    REPORT["profit_krw"] = float(trades["profit_abs"].sum()) if len(trades) else 0.0
    REPORT["list"] = [
        [int(r.open_date.timestamp()), float(r.open_rate), int(r.close_date.timestamp()),
         float(r.close_rate), float(r.amount), float(r.profit_abs)]
        for r in trades.itertuples()
    ]
    return out


ft_backtesting.Backtesting.backtest_one_strategy = _timed

if __name__ == "__main__":
    from freqtrade.main import main

    code = 0
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code or 0
    with open("ft_report.json", "w") as handle:
        json.dump(REPORT, handle)
    sys.exit(code)
'''

FT_STRATEGY = '''from pandas import DataFrame
from freqtrade.strategy import IStrategy


class MaCrossBench(IStrategy):
    """SMA 20/60 cross as issue #5 defines it; freqtrade fills a signal of candle t at t+1's
    open. No ROI, no stop (-99 %), exit signals only."""

    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 100}
    stoploss = -0.99
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    startup_candle_count = 60
    can_short = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["fast"] = dataframe["close"].rolling(20).mean()
        dataframe["slow"] = dataframe["close"].rolling(60).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["fast"], dataframe["slow"]
        dataframe.loc[(fast > slow) & (fast.shift(1) <= slow.shift(1)), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        fast, slow = dataframe["fast"], dataframe["slow"]
        dataframe.loc[(fast < slow) & (fast.shift(1) >= slow.shift(1)), "exit_long"] = 1
        return dataframe
'''


def ft_config() -> dict[str, Any]:
    return {
        "max_open_trades": 1,
        "stake_currency": "KRW",
        "stake_amount": STAKE_KRW,
        "tradable_balance_ratio": 1.0,
        "dry_run": True,
        "dry_run_wallet": START_KRW,
        "trading_mode": "spot",
        "timeframe": "1m",
        "minimal_roi": {"0": 100},
        "stoploss": -0.99,
        "exchange": {
            "name": "upbit",
            "key": "",
            "secret": "",
            "pair_whitelist": ["BTC/KRW"],
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "dataformat_ohlcv": "feather",
        "internals": {},
    }


OURS_CONFIG = """# and --plain: every risk feature off, comparable trade by trade
[risk]
position_size_krw = {stake}
max_open_positions = {max_open}
atr_stop_mult = 0
take_profit_pct = 0
volatility_halt_pct = 0
volatility_halt_percentile = 0
daily_loss_limit_krw = 0
max_drawdown_pct = 0
cooldown_candles = 0
stop_cooldown_candles = 0

[paper]
start_krw = {start}
slippage_bps = 0
fee_rate = {fee}
"""


# -- processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    wall_s: float
    peak_rss_mb: float
    code: int
    stdout: str
    stderr: str


LAUNCHER = """import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as handle:
    json.dump({"wall": wall, "rss_kib": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, handle)
"""


def run_process(
    cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> ProcessRun:
    """Run ``cmd``; its wall time and its own peak RSS.

    A child forked from this (large) process would inherit its resident pages until exec, and
    Linux keeps that high-water mark in ``ru_maxrss``. So a tiny launcher (``python -S``) forks
    the command and reports the ``wait4`` rusage of that grandchild alone.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "report.json"
        launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report)]
        subprocess.run([*launcher, *cmd], cwd=cwd, env=env, stdout=out, stderr=err, check=False)
        out.seek(0)
        err.seek(0)
        figures = json.loads(report.read_text()) if report.is_file() else {}
        return ProcessRun(
            figures.get("wall", float("nan")),
            figures.get("rss_kib", 0) / 1024.0,  # KiB on Linux
            figures.get("code", -1),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def ensure_freqtrade(log: Any = print) -> Path | None:
    """The freqtrade venv's python, installing freqtrade there on first use; None on failure."""
    python = FT_VENV / "bin" / "python"
    if (
        python.is_file()
        and subprocess.run(
            [str(python), "-c", "import freqtrade"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return python
    log(f"  installing {FT_PIN} into {FT_VENV} (once; a few minutes) ...")
    FT_VENV.parent.mkdir(parents=True, exist_ok=True)
    base = shutil.which("python3.11") or sys.executable
    steps = [
        [base, "-m", "venv", "--clear", str(FT_VENV)],
        [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
        [str(python), "-m", "pip", "install", "-q", FT_PIN],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            log(f"  freqtrade install failed at {' '.join(step[:4])}: {' | '.join(tail)}")
            return None
    return python


# -- data --------------------------------------------------------------------------------------


def synthetic(bars: int, seed: int = SEED) -> CandleFrame:
    return random_walk(bars, seed, ticks=KRW)


def write_csv(frame: CandleFrame, path: Path) -> None:
    """Our candle CSV (``timestamp_utc,open,high,low,close,volume,value``), vectorized."""
    stamps = np.datetime_as_string(frame.start.astype("datetime64[s]"), unit="s")
    value = frame.close * frame.volume
    columns = [np.char.add(stamps, "Z")]
    columns += [np.char.mod("%.0f", a) for a in (frame.open, frame.high, frame.low, frame.close)]
    columns += [np.char.mod("%.8f", frame.volume), np.char.mod("%.2f", value)]
    rows = columns[0]
    for column in columns[1:]:
        rows = np.char.add(np.char.add(rows, ","), column)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("timestamp_utc,open,high,low,close,volume,value\n")
        handle.write("\n".join(rows.tolist()))
        handle.write("\n")


def write_feather(frame: CandleFrame, path: Path) -> None:
    """freqtrade's OHLCV feather layout: ``date`` (UTC, ms) and float columns."""
    import pyarrow as pa
    import pyarrow.feather as feather

    table = pa.table(
        {
            "date": pa.array(frame.start * 1000, type=pa.timestamp("ms", tz="UTC")),
            "open": frame.open,
            "high": frame.high,
            "low": frame.low,
            "close": frame.close,
            "volume": frame.volume,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    feather.write_feather(table, path, compression="lz4")


# -- the runs ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Every run's figure per key; the table shows medians."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    trades: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        self.runs.setdefault(key, []).append(value)

    def median(self, key: str) -> float | None:
        values = self.runs.get(key)
        return statistics.median(values) if values else None


def freqtrade_once(python: Path, work: Path, figures: Figures) -> None:
    cmd = [
        str(python),
        "ft_wrapper.py",
        "backtesting",
        "--config", "config.json",
        "--userdir", "user_data",
        "--datadir", "user_data/data/upbit",
        "--data-format-ohlcv", "feather",
        "--strategy", "MaCrossBench",
        "--strategy-path", "strategies",
        "--timeframe", "1m",
        "--fee", FEE,
        "--cache", "none",
        "--export", "none",
    ]  # fmt: skip
    run = run_process(cmd, cwd=work)
    report_path = work / "ft_report.json"
    if run.code != 0 or not report_path.is_file():
        tail = " | ".join((run.stderr or run.stdout).strip().splitlines()[-3:])
        figures.notes.append(f"freqtrade failed (exit {run.code}): {tail}")
        return
    report = json.loads(report_path.read_text())
    report_path.unlink()
    figures.add("ft_wall", run.wall_s)
    figures.add("ft_rss", run.peak_rss_mb)
    figures.add("ft_backtest", report.get("backtest_s", float("nan")))
    figures.trades["freqtrade"] = report


def prepare_freqtrade(work: Path, frame: CandleFrame) -> None:
    (work / "strategies").mkdir(parents=True, exist_ok=True)
    (work / "strategies" / "ma_cross_bench.py").write_text(FT_STRATEGY)
    (work / "ft_wrapper.py").write_text(FT_WRAPPER)
    (work / "config.json").write_text(json.dumps(ft_config(), indent=2))
    write_feather(frame, work / "user_data" / "data" / "upbit" / "BTC_KRW-1m.feather")


def ours_process_once(
    csv_files: dict[str, Path], config: Path, figures: Figures, key: str
) -> None:
    upbit_bot = Path(sys.executable).with_name("upbit-bot")
    cmd = [str(upbit_bot)] if upbit_bot.is_file() else [sys.executable, "-m", "bot"]
    cmd += ["backtest", "--strategy", "ma_cross", "--timeframe", "1m", "--config", str(config)]
    for market, path in csv_files.items():
        cmd += ["--market", market, "--data", str(path)]
    cmd += ["--param", "fast=20", "--param", "slow=60", "--param", "kind=sma", "--plain", "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPBIT_")}
    run = run_process(cmd, cwd=config.parent, env=env)  # no .env or config.toml there
    if run.code != 0:
        tail = " | ".join(run.stderr.strip().splitlines()[-3:])
        figures.notes.append(f"upbit-bot backtest ({key}) failed (exit {run.code}): {tail}")
        return
    figures.add(f"{key}_wall", run.wall_s)
    figures.add(f"{key}_rss", run.peak_rss_mb)
    try:
        figures.trades[f"{key}_json"] = json.loads(run.stdout)
    except json.JSONDecodeError:
        figures.notes.append(f"upbit-bot backtest ({key}) printed no JSON")


def spec(max_open: int = 1, atr_stop_mult: int = 0) -> BacktestSpec:
    """The benchmark's plain MA cross 20/60 (``atr_stop_mult`` > 0: with ATR stops)."""
    limits = RiskLimits.model_validate(
        PLAIN_RISK
        | {
            "position_size_krw": Decimal(STAKE_KRW),
            "max_open_positions": max_open,
            "atr_stop_mult": Decimal(atr_stop_mult),
            "fee_rate": Decimal(FEE),
        }
    )
    return BacktestSpec(
        strategy=MaCross(MaCrossParams(fast=20, slow=60, kind="sma")),
        limits=limits,
        timeframe="1m",
        start_krw=Decimal(START_KRW),
        fee_rate=Decimal(FEE),
        slippage_bps=Decimal(0),
        slippage_check=False,
        same_candle_reentry=True,
        rules=UpbitMarketRules(),
    )


def in_process(
    the_spec: BacktestSpec, frames: dict[str, CandleFrame], runs: int, figures: Figures, key: str
) -> Any:
    result = run_backtest(the_spec, frames)  # warm: imports, first-call caches
    for _ in range(runs):
        started = time.perf_counter()
        result = run_backtest(the_spec, frames)
        figures.add(f"{key}_ms", (time.perf_counter() - started) * 1000.0)
    tracemalloc.start()
    run_backtest(the_spec, frames)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures.add(f"{key}_traced_mb", peak / 2**20)
    return result


def numpy_loop(frame: CandleFrame) -> tuple[int, float]:
    """The issue's MA cross as vectorized crossings and a loop over them: (closed trades,
    their profit in KRW). What the backtest has to do at the least, for scale."""
    close, open_ = frame.close, frame.open
    n = len(close)
    csum = np.concatenate(([0.0], np.cumsum(close)))
    fast = np.full(n, np.nan)
    slow = np.full(n, np.nan)
    fast[19:] = (csum[20:] - csum[:-20]) / 20
    slow[59:] = (csum[60:] - csum[:-60]) / 60
    up = np.flatnonzero((fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])) + 1
    down = np.flatnonzero((fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])) + 1
    events = np.concatenate((up, down))
    kinds = np.concatenate((np.ones(len(up), bool), np.zeros(len(down), bool)))
    order = np.argsort(events, kind="stable")
    fee = float(FEE)
    trades, profit, volume, entry = 0, 0.0, 0.0, 0.0
    holding = False
    for t, is_up in zip(events[order].tolist(), kinds[order].tolist(), strict=True):
        if t + 1 >= n:
            break
        if is_up and not holding:
            entry = float(open_[t + 1])
            volume = STAKE_KRW / entry
            holding = True
        elif not is_up and holding:
            exit_price = float(open_[t + 1])
            profit += volume * (exit_price - entry) - fee * volume * (entry + exit_price)
            trades += 1
            holding = False
    return trades, profit


def numpy_baseline(frame: CandleFrame, runs: int, figures: Figures) -> None:
    numpy_loop(frame)
    for _ in range(runs):
        started = time.perf_counter()
        trades, profit = numpy_loop(frame)
        figures.add("np_ms", (time.perf_counter() - started) * 1000.0)
    figures.trades["numpy"] = {"trades": trades, "profit_krw": profit}


def compare_trades(figures: Figures, ours: Any) -> list[str]:
    """Trade counts, profit, and where the two trade lists differ (times, then prices)."""
    ft = figures.trades.get("freqtrade")
    if ft is None:
        return ["  trades: freqtrade did not run"]
    closed = [t for t in ours.trades if t.exit_reason != "end"]
    open_end = len(ours.trades) - len(closed)
    theirs = ft["list"]
    ft_closed = theirs[:-1] if len(theirs) == len(closed) + 1 else theirs  # its force-exit
    ours_profit = float(sum((t.pnl_krw for t in closed), Decimal(0)))
    ft_profit = sum(row[5] for row in ft_closed)
    lines = [
        f"  trades: freqtrade {ft['trades']} (the last one force-exited at the end), "
        f"ours {len(closed)} closed" + (f" + {open_end} open at the end" if open_end else ""),
        f"  profit of the trades both closed: freqtrade {ft_profit:,.0f} KRW, ours "
        f"{ours_profit:,.0f} KRW (difference {round(ours_profit - ft_profit):+,d} KRW)",
    ]
    mine = [(int(t.entry_at.timestamp()), int(t.exit_at.timestamp())) for t in closed]
    same_times = sum(1 for a, b in zip(ft_closed, mine, strict=False) if (a[0], a[2]) == b)
    first = next(
        (k for k, (a, b) in enumerate(zip(ft_closed, mine, strict=False)) if (a[0], a[2]) != b),
        None,
    )
    if first is None and len(ft_closed) == len(mine):
        lines.append(f"  all {len(mine)} trades: the same entry and exit candles")
    else:
        where = "the end of the shorter list" if first is None else f"trade #{first + 1}"
        lines.append(
            f"  same entry/exit candles for {same_times} trades; first difference at {where}"
        )
    gaps = [
        max(abs(a[1] - float(t.entry_price)), abs(a[3] - float(t.exit_price)))
        for a, t in zip(ft_closed, closed, strict=False)
    ]
    if gaps and max(gaps) > 0:
        lines.append(
            f"  fill prices differ on {sum(g > 0 for g in gaps)} trades by up to {max(gaps):,.0f}"
            " KRW: ours are on Upbit's tick grid (1,000 KRW at these prices), buys rounded up"
            " and sells down as the paper exchange fills (never better than the open);"
            " freqtrade fills at the raw open"
        )
    return lines


def _fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def _all(figures: Figures, key: str, pattern: str) -> str:
    return ", ".join(pattern.format(v) for v in figures.runs.get(key, []))


def run(runs: int, quick: bool, log: Any = print) -> Figures:
    """One side-by-side comparison; prints the table and returns every figure."""
    bars = QUICK_BARS if quick else YEAR_BARS
    figures = Figures()
    python = None if quick else ensure_freqtrade(log)
    if not quick and python is None:
        figures.notes.append("freqtrade unavailable: install failed (see above)")
    with tempfile.TemporaryDirectory(prefix="upbit-bench-") as tmp:
        work = Path(tmp)
        frame = synthetic(bars)
        frames10 = {m: synthetic(bars, SEED + 1 + i) for i, m in enumerate(MARKETS10)}
        csv_one = {"KRW-BTC": work / "upbit_KRW-BTC_1m.csv"}
        write_csv(frame, csv_one["KRW-BTC"])
        csv_ten = {m: work / f"upbit_{m}_1m.csv" for m in MARKETS10}
        for market, path in csv_ten.items():
            write_csv(frames10[market], path)
        config_one = work / "one.toml"
        config_one.write_text(
            OURS_CONFIG.format(stake=STAKE_KRW, max_open=1, start=START_KRW, fee=FEE)
        )
        config_ten = work / "ten.toml"
        config_ten.write_text(
            OURS_CONFIG.format(stake=STAKE_KRW, max_open=MAX_OPEN_10, start=START_KRW, fee=FEE)
        )
        if python is not None:
            prepare_freqtrade(work / "ft", frame)
        inproc_runs = max(5, runs)
        ours = in_process(spec(1), {"KRW-BTC": frame}, inproc_runs, figures, "one")
        in_process(spec(MAX_OPEN_10), frames10, inproc_runs, figures, "ten")
        numpy_baseline(frame, inproc_runs, figures)
        for _ in range(runs):
            if python is not None:
                freqtrade_once(python, work / "ft", figures)
            ours_process_once(csv_one, config_one, figures, "proc_one")
            ours_process_once(csv_ten, config_ten, figures, "proc_ten")
    print_table(figures, bars, runs, ours, quick)
    return figures


def print_table(figures: Figures, bars: int, runs: int, ours: Any, quick: bool) -> None:
    m = figures.median
    print(
        f"backtest vs freqtrade: {bars:,} 1-minute candles (seeded random walk), SMA 20/60, "
        f"fee {float(FEE):.2%}, stake {STAKE_KRW:,} KRW; medians of {runs} run(s)"
        + (" [--quick: one month, freqtrade skipped]" if quick else "")
    )
    rows = [
        ("freqtrade backtesting, whole process", m("ft_wall"), "s", m("ft_rss"), "ft_wall"),
        ("  its backtest alone (reported inside)", m("ft_backtest"), "s", None, "ft_backtest"),
        ("upbit-bot backtest, whole process", m("proc_one_wall"), "s", m("proc_one_rss"),
         "proc_one_wall"),
        (f"  10 markets, max {MAX_OPEN_10} open", m("proc_ten_wall"), "s", m("proc_ten_rss"),
         "proc_ten_wall"),
        ("run_backtest in-process, 1 market", m("one_ms"), "ms", m("one_traced_mb"), "one_ms"),
        (f"  10 markets, max {MAX_OPEN_10} open", m("ten_ms"), "ms", m("ten_traced_mb"),
         "ten_ms"),
        ("bare numpy loop in-process", m("np_ms"), "ms", None, "np_ms"),
    ]  # fmt: skip
    print(f"  {'':40s} {'time':>10s} {'peak memory':>12s}   runs")
    for label, value, unit, memory, key in rows:
        pattern = "{:.2f}" if unit == "s" else "{:.1f}"
        mem = _fmt(memory, "{:.0f} MB")
        print(
            f"  {label:40s} {_fmt(value, pattern + ' ' + unit):>10s} {mem:>12s}   "
            f"({_all(figures, key, pattern)})"
        )
    ft, ours_wall = m("ft_wall"), m("proc_one_wall")
    if ft is not None and ours_wall:
        print(
            f"  ratio freqtrade / upbit-bot, whole process: {ft / ours_wall:.1f}x  target >= 25x"
        )
    print(
        f"  in-process compute {_fmt(m('one_ms'), '{:.1f} ms')} (1 market), "
        f"{_fmt(m('ten_ms'), '{:.1f} ms')} (10)  target < 100 ms;  whole-process peak RSS "
        f"{_fmt(m('proc_one_rss'), '{:.0f} MB')} / {_fmt(m('proc_ten_rss'), '{:.0f} MB')}  "
        "target < 300 MB  (in-process column: traced Python allocations)"
    )
    for line in compare_trades(figures, ours):
        print(line)
    nl = figures.trades.get("numpy")
    if nl:
        closed = [t for t in ours.trades if t.exit_reason != "end"]
        profit = float(sum((t.pnl_krw for t in closed), Decimal(0)))
        print(
            f"  numpy loop (raw opens, no ticks): {nl['trades']} closed trades, profit "
            f"{nl['profit_krw']:,.0f} KRW; ours {len(closed)} closed, {profit:,.0f} KRW"
        )
    for note in figures.notes:
        print(f"  note: {note}")


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.backtest_compare")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    run(args.runs, args.quick)


if __name__ == "__main__":
    main()
