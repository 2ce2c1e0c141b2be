"""Download speed against FakeUpbit on loopback: ``python -m tests.history.bench``.

Prints medians of a few runs: candles per second at Upbit's real candle budget (10 requests/s,
so at most ~2,000 candles/s), the same with the budget lifted (the downloader's own ceiling),
and the time and requests to resume a download that is already complete.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW, make_client
from trading.history.downloader import Downloader, plan_jobs
from trading.history.files import FileTarget
from trading.history.store_candles import StoreTarget
from trading.history.targets import CandleTarget
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL

M1 = parse_timeframe("1m")
MARKETS = ["KRW-BTC", "KRW-ETH", "KRW-XRP"]


async def once(
    rate: float, markets: list[str], candles: int, kind: str, runs: int = 2
) -> list[tuple[float, int, int]]:
    """(seconds, fetched, requests) of ``runs`` consecutive runs into one fresh target."""
    out = []
    async with FakeUpbit(markets=MARKETS, rate_limits={"candles": rate}) as fake:
        for market in markets:
            fake.load_candles(market, "minutes/1", BUNDLED, limit=candles)
        with tempfile.TemporaryDirectory() as tmp:
            jobs = plan_jobs(markets, [M1], A_FIRST, A_FIRST + candles * MINUTE, now=NOW)
            async with make_client(fake.rest_url, rate=rate) as client:
                for _ in range(runs):
                    target: CandleTarget = (
                        StoreTarget(f"sqlite+aiosqlite:///{Path(tmp) / 'b.sqlite3'}")
                        if kind == "store"
                        else FileTarget(Path(tmp), "csv")
                    )
                    await target.open()
                    began = time.perf_counter()
                    reports = await Downloader(
                        client, target, page_size=MAX_CANDLES_PER_CALL, concurrency=4
                    ).run(jobs)
                    await target.close()
                    seconds = time.perf_counter() - began
                    out.append(
                        (
                            seconds,
                            sum(r.fetched for r in reports),
                            sum(r.requests for r in reports),
                        )
                    )
    return out


async def main() -> None:
    print("target  rate/s  markets  candles  seconds  candles/s  requests  resume_s  resume_req")
    for kind in ("csv", "store"):
        for rate, markets, candles in ((10.0, 1, 10_000), (10.0, 3, 4_000), (1000.0, 1, 13_800)):
            trials = [await once(rate, MARKETS[:markets], candles, kind) for _ in range(3)]
            first = [t[0] for t in trials]
            again = [t[1] for t in trials]
            seconds = statistics.median(f[0] for f in first)
            fetched = first[0][1]
            print(
                f"{kind:6}  {rate:6.0f}  {markets:7}  {fetched:7,}  {seconds:7.2f}  "
                f"{fetched / seconds:9,.0f}  {first[0][2]:8}  "
                f"{statistics.median(a[0] for a in again):8.3f}  {again[0][2]:10}"
            )


if __name__ == "__main__":
    asyncio.run(main())
