"""Load: 20 markets at 200 trades per second each, for ``duration`` seconds, paper engine.

The strategy runs on 1-second candles so that every second 20 candles close and go through
signals, the risk gate and (when they cross) orders, fills and position writes: the heavy path.

Prints come from a seeded random walk (synthetic: real multi-market tick data at this rate is
not in the repo), paced in real time in 50 ms batches into the engine's inbox, exactly where
the WebSocket consumer puts them. Measured: this process's CPU time over wall time (share of
one core), peak RSS, and the inbox backlog sampled every second (it must not grow).
"""

from __future__ import annotations

import asyncio
import random
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from trading.domain import TradePrint
from trading.engine.build import EngineSpec, assemble
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

MARKETS = tuple(f"KRW-C{i:02d}" for i in range(20))
RATE_PER_MARKET = 200
BATCH_S = 0.05


@dataclass(frozen=True)
class LoadRun:
    prints: int
    handled: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    backlog: list[int]

    @property
    def core_share(self) -> float:
        return self.cpu_s / self.wall_s


def _walk(seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    return {m: rng.randrange(10_000, 100_000) * 10 for m in MARKETS}


async def _run(duration_s: float, workdir: Path, seed: int) -> LoadRun:
    url = f"sqlite+aiosqlite:///{workdir / 'load.db'}"
    await upgrade(url)
    db = create_engine(url)
    rig = await assemble(
        EngineSpec(markets=MARKETS, timeframe="1s", paper=True),  # 20 candles closed per second
        strategy=build_strategy("ma_cross", "", {"fast": 3, "slow": 8}),  # trades within seconds
        limits=RiskLimits(
            position_size_krw=Decimal(100_000),
            max_open_positions=20,
            atr_period=5,
            volatility_halt_pct=Decimal(0),
            volatility_halt_percentile=Decimal(0),
            daily_loss_limit_krw=Decimal(0),
            max_drawdown_pct=Decimal(0),
        ),
        store=Store(session_factory(db)),
        sink=lambda _event: None,
        rules=UpbitMarketRules(),
    )
    rig.loop.start()
    rng = random.Random(seed)
    prices = _walk(seed)
    per_batch = int(RATE_PER_MARKET * BATCH_S)
    market_time = datetime(2026, 1, 5, tzinfo=UTC)
    backlog: list[int] = []
    prints = 0
    cpu0, wall0 = time.process_time(), time.monotonic()
    deadline = wall0 + duration_s
    next_sample = wall0 + 1.0
    while (now := time.monotonic()) < deadline:
        for _ in range(per_batch):
            for market in MARKETS:
                prices[market] = max(10, prices[market] + rng.choice((-10, 0, 10)))
                rig.loop.put_print(
                    TradePrint(market, Decimal(prices[market]), Decimal("0.01"), market_time)
                )
                prints += 1
            market_time += timedelta(milliseconds=5)  # 200 prints/s of market time
        if now >= next_sample:
            backlog.append(sum(rig.loop.depth))
            next_sample += 1.0
        await asyncio.sleep(max(0.0, wall0 + (prints / len(MARKETS)) / RATE_PER_MARKET - now))
    await rig.loop.drain()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    handled = rig.loop.handled
    await rig.loop.stop()
    await db.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return LoadRun(prints, handled, wall, cpu, rss_mb, backlog)


def run_once(duration_s: float, seed: int = 7) -> LoadRun:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(duration_s, Path(tmp), seed))
