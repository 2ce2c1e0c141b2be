"""A FakeUpbit serving real candle files, and the real REST client pointed at it.

Most tests raise the candle budget on *both* sides (fake and client) so paging through a few
thousand candles takes milliseconds; ``test_ratelimit`` keeps Upbit's real 10/s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.store.conftest import pg_databases, store_url
from trading.circuit import CircuitBreaker
from trading.history.series import HistCandle
from trading.upbit.ratelimit import RateLimiter
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

__all__ = ["pg_databases", "store_url"]

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
SHARED = ROOT.parent / "shared" / "data"
FAST = 200.0  # candle requests per second in most tests (fake and client alike)
#: bot/data minutes: segment A is complete 2018-01-22 14:08 .. 2018-02-01 05:19
A_FIRST = datetime(2018, 1, 22, 14, 8, tzinfo=UTC)
A_LAST = datetime(2018, 2, 1, 5, 19, tzinfo=UTC)
B_FIRST = datetime(2020, 2, 20, 8, 0, tzinfo=UTC)
B_LAST = datetime(2020, 2, 20, 11, 59, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is not available (the shared data set is not in CI)")
    return path


def make_client(url: str, rate: float = FAST, *, retries: int = 2) -> UpbitRestClient:
    return UpbitRestClient(
        url,
        timeout_s=2.0,
        retry=RetryPolicy(max_retries=retries, base_s=0.01, max_s=0.05),
        limiter=RateLimiter({"candle": rate}),
        circuit=CircuitBreaker(failure_threshold=50, reset_s=0.1),
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit(rate_limits={"candles": FAST}) as server:
        yield server


@pytest.fixture
async def client(fake: FakeUpbit) -> AsyncIterator[UpbitRestClient]:
    async with make_client(fake.rest_url) as rest:
        yield rest


def source(path: Path, start: datetime, end: datetime) -> list[HistCandle]:
    """The file's candles in ``[start, end)`` as the downloader should write them."""
    from tests.fakes.upbit.candles import rows_from_file

    return [
        HistCandle(
            datetime.fromisoformat(r["candle_date_time_utc"]).replace(tzinfo=UTC),
            r["opening_price"],
            r["high_price"],
            r["low_price"],
            r["trade_price"],
            r["candle_acc_trade_volume"],
            r["candle_acc_trade_price"],
        )
        for r in rows_from_file(path, "X", "minutes/1", start=start, end=end)
    ]
