"""Flat-out private calls against the fake's limits: throughput vs the allowed rate, and 429s.

Many workers call ``GET /v1/accounts`` (group ``default``, 30/s) and ``POST /v1/orders``
(group ``order``, 12/s since 2026-08) as fast as the client lets them, for ``duration``
seconds. The target: at least 90 % of the allowed rate, and zero 429 answers from the fake.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from decimal import Decimal

from benchmarks.fake_process import KEYS, fake_upbit
from trading.upbit.auth import Credentials
from trading.upbit.constants import RATE_LIMITS
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy


@dataclass(frozen=True)
class RateRun:
    duration_s: float
    ok: dict[str, int]
    server_429: int
    server_418: int

    def ratio(self, group: str) -> float:
        return self.ok[group] / self.duration_s / RATE_LIMITS[group]


async def _flat_out(url: str, duration_s: float, workers: int) -> tuple[dict[str, int], float]:
    ((access, secret),) = KEYS.items()
    client = UpbitRestClient(
        url, credentials=Credentials(access, secret), retry=RetryPolicy(max_retries=0)
    )
    ok = {"default": 0, "order": 0}
    counter = itertools.count()
    async with client:
        start = time.monotonic()
        deadline = start + duration_s

        async def reads() -> None:
            while time.monotonic() < deadline:
                await client.accounts()
                ok["default"] += 1

        async def orders() -> None:
            while time.monotonic() < deadline:
                body = client.order_body(
                    market="KRW-BTC",
                    side="bid",
                    ord_type="limit",
                    identifier=f"bench-{next(counter)}",
                    price=Decimal("50000000"),
                    volume=Decimal("0.0001"),
                )
                await client.create_order(body)
                ok["order"] += 1

        await asyncio.gather(
            *(reads() for _ in range(workers)), *(orders() for _ in range(workers))
        )
        elapsed = time.monotonic() - start
    return ok, elapsed


def run_once(duration_s: float, workers: int = 16) -> RateRun:
    with fake_upbit() as fake:
        ok, elapsed = asyncio.run(_flat_out(fake.url, duration_s, workers))
        stats = fake.stats()
    count = lambda code: sum(s.get(code, 0) for s in stats.values())  # noqa: E731
    return RateRun(elapsed, ok, count("429"), count("418"))
