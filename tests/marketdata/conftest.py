"""Shared helpers: real candles, Upbit-shaped rows, a running FakeUpbit and a client for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.candle_file import FileCandle, read_candles
from trading.domain import TradePrint
from trading.events import Event
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_1M = ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
SHARED_DATA = ROOT.parent / "shared" / "data"
XRP_ETH_TRADES = SHARED_DATA / "binance_XRP-ETH_trades.csv"
BTC = "KRW-BTC"


def segment_a(count: int | None = None) -> list[FileCandle]:
    """The first contiguous stretch of the bundled 1m file (it has one 749-day gap)."""
    out: list[FileCandle] = []
    for candle in read_candles(BUNDLED_1M):
        if out and candle.start - out[-1].start != timedelta(minutes=1):
            break
        out.append(candle)
        if count is not None and len(out) == count:
            break
    return out


def upbit_row(
    market: str, start: datetime, o: D, h: D, lo: D, c: D, v: D, unit: int
) -> dict[str, Any]:
    kst = start + timedelta(hours=9)
    return {
        "market": market,
        "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "candle_date_time_kst": kst.strftime("%Y-%m-%dT%H:%M:%S"),
        "opening_price": o,
        "high_price": h,
        "low_price": lo,
        "trade_price": c,
        "timestamp": int(start.timestamp() * 1000) + 500,
        "candle_acc_trade_price": c * v,
        "candle_acc_trade_volume": v,
        "unit": unit,
    }


def upbit_rows(market: str, candles: Iterable[FileCandle], unit: int = 1) -> list[dict[str, Any]]:
    """Candles in Upbit's response shape, newest first like the API."""
    rows = [
        upbit_row(market, c.start, c.open, c.high, c.low, c.close, c.volume, unit) for c in candles
    ]
    return rows[::-1]


def tp(price: str | int, at: datetime, volume: str = "1", market: str = BTC) -> TradePrint:
    return TradePrint(market, D(price), D(volume), at)


async def until(cond: Callable[[], bool], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 -- polling state, nothing to wait on
            await asyncio.sleep(0.01)


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit() as server:
        server.set_orderbook(
            BTC,
            asks=[(D("100010000"), D("0.3")), (D("100020000"), D("1.0"))],
            bids=[(D("100000000"), D("0.4")), (D("99990000"), D("1.0"))],
        )
        yield server


@pytest.fixture
async def client(fake: FakeUpbit) -> AsyncIterator[UpbitRestClient]:
    rest = UpbitRestClient(
        fake.rest_url, timeout_s=1.0, retry=RetryPolicy(max_retries=2, base_s=0.01, max_s=0.05)
    )
    async with rest:
        yield rest


@pytest.fixture
def events() -> list[Event]:
    return []
