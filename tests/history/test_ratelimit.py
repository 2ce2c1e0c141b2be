"""Several markets at once stay inside Upbit's real candle budget (10 per second)."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW, make_client
from trading.history.downloader import Downloader, plan_jobs
from trading.history.files import FileTarget
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL

MARKETS = ["KRW-BTC", "KRW-ETH", "KRW-XRP"]


async def test_three_markets_concurrently_never_draw_a_429(tmp_path: Path) -> None:
    async with FakeUpbit(markets=MARKETS) as fake:  # Upbit's limits: candles 10/s
        for market in MARKETS:
            fake.load_candles(market, "minutes/1", BUNDLED, limit=1400)
        target = FileTarget(tmp_path, "parquet")
        await target.open()
        async with make_client(fake.rest_url, rate=10.0) as client:
            jobs = plan_jobs(
                MARKETS, [parse_timeframe("1m")], A_FIRST, A_FIRST + 1400 * MINUTE, now=NOW
            )
            reports = await Downloader(
                client, target, page_size=MAX_CANDLES_PER_CALL, concurrency=3
            ).run(jobs)
        await target.close()
        calls = fake.candle_requests()
    assert [r.fetched for r in reports] == [1400] * 3
    assert len(calls) == 21 == sum(r.requests for r in reports)
    assert [c.status for c in calls] == [200] * 21  # not one 429 (or 418)
    arrivals = sorted(c.time for c in calls)
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 10
    assert arrivals[-1] - arrivals[0] >= 2.0  # 21 requests need three windows
