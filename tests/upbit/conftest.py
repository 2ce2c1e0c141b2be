"""A running fake Upbit and a real client pointed at it over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.candle_file import read_candles
from trading.circuit import CircuitBreaker
from trading.events import Event
from trading.upbit.auth import Credentials
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

BUNDLED = Path(__file__).resolve().parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"


def upbit_minute_candles(market: str, count: int) -> list[dict[str, object]]:
    """Real KRW-BTC minutes in Upbit's response shape (newest first, like the API)."""
    rows = []
    for candle in read_candles(BUNDLED):
        kst = candle.start + timedelta(hours=9)
        rows.append(
            {
                "market": market,
                "candle_date_time_utc": candle.start.strftime("%Y-%m-%dT%H:%M:%S"),
                "candle_date_time_kst": kst.strftime("%Y-%m-%dT%H:%M:%S"),
                "opening_price": candle.open,
                "high_price": candle.high,
                "low_price": candle.low,
                "trade_price": candle.close,
                "timestamp": int(candle.start.timestamp() * 1000) + 59_000,
                "candle_acc_trade_price": candle.close * candle.volume,
                "candle_acc_trade_volume": candle.volume,
                "unit": 1,
            }
        )
        if len(rows) == count:
            break
    return rows[::-1]


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit() as server:
        server.set_balance("KRW", D("10000000"))
        server.set_balance("BTC", D("0.5"))
        server.set_orderbook(
            "KRW-BTC",
            asks=[(D("100010000"), D("0.3")), (D("100020000"), D("1.0"))],
            bids=[(D("100000000"), D("0.4")), (D("99990000"), D("1.0"))],
        )
        yield server


@pytest.fixture
def events() -> list[Event]:
    return []


#: the request timeout of a test that makes one request outlast it (a slow fault)
SHORT_TIMEOUT_S = 0.5


@pytest.fixture
async def client(
    fake: FakeUpbit, events: list[Event], request: pytest.FixtureRequest
) -> AsyncIterator[UpbitRestClient]:
    # A test about timeouts asks for a short one (``@pytest.mark.short_timeout``); every other
    # test gets a long one, so a request slowed by a busy machine never counts as a timeout
    # (a resent order under a new identifier failed a submit test under load).
    short = request.node.get_closest_marker("short_timeout") is not None
    rest = UpbitRestClient(
        fake.rest_url,
        credentials=Credentials("test-access", "test-secret"),
        timeout_s=SHORT_TIMEOUT_S if short else 10.0,
        retry=RetryPolicy(max_retries=2, base_s=0.01, max_s=0.05),
        circuit=CircuitBreaker(failure_threshold=3, reset_s=0.3, on_event=events.append),
        on_event=events.append,
    )
    async with rest:
        yield rest
