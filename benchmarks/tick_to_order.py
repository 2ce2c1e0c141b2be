"""Tick to order: a trade through a stop arrives at the bot -> the fake Upbit has the sell.

The live engine (real ``UpbitRestClient``, real store on SQLite) holds a long position with a
stop. Each round puts one print below the stop into the engine's inbox, exactly where the
WebSocket consumer puts it, and notes ``time.monotonic()``; the fake, in another process,
notes the same system-wide clock when the ``POST /v1/orders`` arrives. The exit order is left
unfilled (the fake has no price for it), settles as cancelled, and the position is long again
for the next round.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.fake_process import KEYS, fake_upbit
from trading.domain import TradePrint
from trading.engine.build import EngineSpec, assemble
from trading.positions import PositionState
from trading.risk.limits import RiskLimits
from trading.risk.stops import TrailingStop
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import build_strategy
from trading.upbit.auth import Credentials
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.ratelimit import RateLimiter
from trading.upbit.rest import UpbitRestClient

MARKET = "KRW-BTC"
UNLIMITED = {"order": 100_000.0, "default": 100_000.0}


@dataclass(frozen=True)
class TickRun:
    latencies_ms: list[float]


async def _rounds(url: str, rounds: int, workdir: Path) -> list[float]:
    db_url = f"sqlite+aiosqlite:///{workdir / 'tick.db'}"
    await upgrade(db_url)
    db = create_engine(db_url)
    ((access, secret),) = KEYS.items()
    client = UpbitRestClient(
        url, credentials=Credentials(access, secret), limiter=RateLimiter(UNLIMITED)
    )
    sent_at: list[float] = []
    async with client:
        rig = await assemble(
            EngineSpec(markets=(MARKET,), timeframe="1m", paper=False, order_settle_s=0.05),
            strategy=build_strategy("ma_cross", "", {}),
            limits=RiskLimits(),
            store=Store(session_factory(db)),
            sink=lambda _event: None,
            live_exchange=client,
            rules=UpbitMarketRules(),
        )
        engine, positions = rig.engine, rig.engine.positions
        now = datetime(2026, 1, 5, tzinfo=UTC)
        await positions.entry_submitted(MARKET, "bench-entry")
        await positions.entry_filled(
            MARKET, Decimal("0.01"), Decimal("100000000"), Decimal(500), True, at=now
        )
        engine.stops[MARKET] = TrailingStop(
            market=MARKET,
            entry_price=Decimal("100000000"),
            atr_mult=Decimal(2),
            rules=client.rules,
            stop=Decimal("99000000"),
            highest_close=Decimal("100000000"),
            min_distance_pct=Decimal("0.2"),
        )
        rig.loop.start()
        for n in range(rounds + 20):
            assert positions.get(MARKET).state is PositionState.LONG
            crossing = TradePrint(
                MARKET, Decimal("98900000"), Decimal("0.001"), now + timedelta(milliseconds=n)
            )
            start = time.monotonic()
            rig.loop.put_print(crossing)
            await rig.loop.drain()
            sent_at.append(start)
            await engine.orders.poll_open()  # the exit settles (unfilled): long again
            await rig.loop.drain()
        await rig.loop.stop()
    await db.dispose()
    return sent_at


def run_once(rounds: int) -> TickRun:
    with tempfile.TemporaryDirectory() as tmp, fake_upbit(UNLIMITED) as fake:
        sent = asyncio.run(_rounds(fake.url, rounds, Path(tmp)))
        arrived = fake.post_times()
    pairs = list(zip(sent, arrived, strict=True))[20:]  # warm-up: connections, first imports
    return TickRun([(a - s) * 1000 for s, a in pairs])


def summary(runs: list[TickRun]) -> dict[str, float]:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50_ms": statistics.median(pct(r.latencies_ms, 0.5) for r in runs),
        "p99_ms": statistics.median(pct(r.latencies_ms, 0.99) for r in runs),
    }
