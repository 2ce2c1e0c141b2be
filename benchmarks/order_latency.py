"""Client-side cost of one signed order call: validate, sign, send, parse.

The fake runs in another process, so this process's CPU time per call is the client's own
work (the wall time also includes the fake and the loopback). Rate limits are lifted on both
sides so that pacing does not count as latency.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal

from benchmarks.fake_process import KEYS, fake_upbit
from trading.upbit.auth import Credentials, bearer, encode_query
from trading.upbit.ratelimit import RateLimiter
from trading.upbit.rest import UpbitRestClient

UNLIMITED = {"order": 100_000.0, "default": 100_000.0}


@dataclass(frozen=True)
class LatencyRun:
    cpu_ms: list[float]
    wall_ms: list[float]
    sign_us: float


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _calls(url: str, n: int) -> tuple[list[float], list[float]]:
    ((access, secret),) = KEYS.items()
    client = UpbitRestClient(
        url, credentials=Credentials(access, secret), limiter=RateLimiter(UNLIMITED)
    )
    cpu: list[float] = []
    wall: list[float] = []
    async with client:
        for i in range(n + 50):
            c0, w0 = time.process_time(), time.perf_counter()
            body = client.order_body(
                market="KRW-BTC",
                side="bid",
                ord_type="limit",
                identifier=f"lat-{i}",
                price=Decimal("50000000"),
                volume=Decimal("0.0001"),
            )
            await client.create_order(body)
            if i >= 50:  # warm-up: connection set-up and first-call imports
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
    return cpu, wall


def sign_cost_us(n: int = 5000) -> float:
    creds = Credentials(*next(iter(KEYS.items())))
    pairs = [
        ("market", "KRW-BTC"),
        ("side", "bid"),
        ("ord_type", "limit"),
        ("volume", "0.0001"),
        ("price", "50000000"),
        ("identifier", "x"),
    ]
    start = time.perf_counter()
    for _ in range(n):
        bearer(creds, encode_query(pairs)[1])
    return (time.perf_counter() - start) / n * 1e6


def run_once(n: int) -> LatencyRun:
    with fake_upbit(UNLIMITED) as fake:
        cpu, wall = asyncio.run(_calls(fake.url, n))
    return LatencyRun(cpu, wall, sign_cost_us())


def summary(runs: list[LatencyRun]) -> dict[str, float]:
    med = statistics.median
    return {
        "cpu_p50_ms": med(pct(r.cpu_ms, 0.50) for r in runs),
        "cpu_p99_ms": med(pct(r.cpu_ms, 0.99) for r in runs),
        "wall_p50_ms": med(pct(r.wall_ms, 0.50) for r in runs),
        "wall_p99_ms": med(pct(r.wall_ms, 0.99) for r in runs),
        "sign_us": med(r.sign_us for r in runs),
    }
