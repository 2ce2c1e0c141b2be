"""Optimizer throughput: trials per second on one month of 1-minute candles, 1 and 2 workers.

Data: a seeded synthetic month (43,200 bars, ``random_walk``). Search: ma_cross over its
declared bounds (draws that break ``fast < slow`` are pruned and count as trials, as they do
in optuna; TPE soon stops drawing them), objective Sharpe, 70/30 split, every risk feature
off, the study in a fresh SQLite file. The figure is trials / seconds of the trial phase (for
2 workers that includes spawning them and each loading the data); the final in- and
out-of-sample re-runs are outside it. Trials per CPU-second (this process and its workers,
spawn included) is printed beside it: on a shared machine the wall-clock figure mostly
measures the other load.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import optuna

from bot.venue import market_rules
from trading.backtest.synthetic import random_walk
from trading.optimize import Objective, OptimizeSettings, build_space, optimize
from trading.risk.limits import RiskLimits
from trading.strategies.ma_cross import MaCross

MONTH_BARS = 43_200
SEED = 20_240_201


@dataclass(frozen=True)
class SpeedRun:
    jobs: int
    trials: int
    seconds: float
    cpu_s: float  # this process and its workers, the whole call (spawn and imports included)
    pruned: int

    @property
    def per_second(self) -> float:
        return self.trials / self.seconds

    @property
    def per_cpu_second(self) -> float:
        """Trials per CPU-second: what the machine's other load cannot blur."""
        return self.trials / self.cpu_s


#: Upbit's KRW tick table, from the wiring: the walk snaps prices to it
KRW = market_rules().tick_bands("KRW-BTC")


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _spec() -> dict[str, object]:
    limits = RiskLimits(
        position_size_krw=Decimal(1_000_000),
        max_open_positions=1,
        atr_stop_mult=Decimal(0),
        volatility_halt_pct=Decimal(0),
        volatility_halt_percentile=Decimal(0),
        daily_loss_limit_krw=Decimal(0),
        max_drawdown_pct=Decimal(0),
    )
    return {
        "limits": limits,
        "timeframe": "1m",
        "start_krw": Decimal(100_000_000),
        "fee_rate": Decimal("0.0005"),
        "slippage_bps": Decimal(0),
        "slippage_check": False,
    }


def run_once(trials: int, jobs: int, seed: int = 1) -> SpeedRun:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frame = random_walk(MONTH_BARS, SEED, ticks=KRW)
    with tempfile.TemporaryDirectory(prefix="upbit-opt-bench-") as tmp:
        settings = OptimizeSettings(
            strategy="ma_cross",
            space=build_space(MaCross),
            objective=Objective("sharpe", min_trades=1),
            spec=_spec(),
            storage=f"sqlite:///{Path(tmp) / 'optuna.db'}",
            study="speed",
            trials=trials,
            jobs=jobs,
            seed=seed,
        )
        cpu = _cpu()
        result = optimize(settings, {"KRW-BTC": frame})
        cpu = _cpu() - cpu
    return SpeedRun(jobs, trials, result.elapsed_s, cpu, result.folds[0].trials.pruned)


def summary(runs: list[SpeedRun]) -> dict[str, float]:
    return {
        "per_second": statistics.median(r.per_second for r in runs),
        "seconds": statistics.median(r.seconds for r in runs),
        "per_cpu_second": statistics.median(r.per_cpu_second for r in runs),
        "pruned": statistics.median(r.pruned for r in runs),
    }


def main() -> None:
    for jobs in (1, 2):
        run = run_once(200, jobs)
        print(
            f"{jobs} worker(s): {run.per_second:.1f} trials/s ({run.seconds:.1f} s), "
            f"{run.per_cpu_second:.1f} trials per CPU-second"
        )


if __name__ == "__main__":
    main()
