"""Quotation endpoints through real HTTP to the fake exchange."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tests.upbit.conftest import upbit_minute_candles
from trading.errors import NotFound, ValidationError


async def test_markets_carry_warnings(client):
    markets = await client.markets()

    codes = {m.market for m in markets}
    assert {"KRW-BTC", "KRW-ETH"} <= codes
    assert all(isinstance(m.warning, bool) for m in markets)


async def test_candle_history_pages_backwards_over_real_data(fake, client):
    rows = upbit_minute_candles("KRW-BTC", 450)
    fake.set_candles("KRW-BTC", "minutes/1", rows)
    oldest = datetime.fromisoformat(rows[-1]["candle_date_time_utc"]).replace(tzinfo=UTC)
    newest = datetime.fromisoformat(rows[0]["candle_date_time_utc"]).replace(tzinfo=UTC)

    candles = await client.candle_history("KRW-BTC", "1m", oldest, newest)

    assert len(candles) == 449  # ``end`` is exclusive
    assert candles[0].start == oldest
    assert [c.start for c in candles] == sorted(c.start for c in candles)
    assert candles[0].open == D(str(rows[-1]["opening_price"]))
    calls = [r for r in fake.requests if r.path == "/v1/candles/minutes/1"]
    assert len(calls) == 3  # 200 + 200 + 49 (+1 more only if a page was short)


async def test_candles_newest_first_and_to_is_exclusive(fake, client):
    rows = upbit_minute_candles("KRW-BTC", 10)
    fake.set_candles("KRW-BTC", "minutes/1", rows)
    to = datetime.fromisoformat(rows[2]["candle_date_time_utc"]).replace(tzinfo=UTC)

    page = await client.candles("KRW-BTC", "1m", count=3, to=to)

    assert [c.start for c in page] == [
        datetime.fromisoformat(r["candle_date_time_utc"]).replace(tzinfo=UTC) for r in rows[3:6]
    ]


async def test_bad_timeframe_is_refused_without_a_request(fake, client):
    with pytest.raises(ValidationError, match="timeframe '7m' is not one Upbit serves"):
        await client.candles("KRW-BTC", "7m")
    assert not [r for r in fake.requests if r.path.startswith("/v1/candles")]


async def test_ticker_orderbook_and_trades_are_decimal(fake, client):
    await fake.trade("KRW-BTC", D("100005000"), D("0.00012345"))

    (ticker,) = await client.ticker(["KRW-BTC"])
    (book,) = await client.orderbook(["KRW-BTC"])
    ticks = await client.trades("KRW-BTC", count=5)

    assert ticker.trade_price == D("100005000")
    assert book.orderbook_units[0].ask_price == D("100010000")
    assert book.orderbook_units[0].bid_size == D("0.4")
    assert ticks[0].trade_volume == D("0.00012345")


async def test_unknown_market_is_not_found(client):
    with pytest.raises(NotFound):
        await client.ticker(["KRW-NOPE"])


async def test_instruments_that_agree_with_the_table_change_nothing(fake, client):
    await fake.trade("KRW-BTC", D("100005000"), D("0.001"))

    rules = await client.refresh_ticks(["KRW-BTC"])

    assert rules.band_ticks == {}
    assert rules.tick_size("KRW-BTC", D("100000000")) == D("1000")
    assert rules.tick_size("KRW-BTC", D("999500")) == D("500")  # the band's tick, not 1000


@pytest.mark.parametrize(
    ("timeframe", "unit"),
    [
        ("1s", "seconds"),
        ("3m", "minutes/3"),
        ("4h", "minutes/240"),
        ("1d", "days"),
        ("1w", "weeks"),
        ("1M", "months"),
    ],
)
async def test_every_candle_unit_reaches_its_endpoint(fake, client, timeframe, unit):
    rows = upbit_minute_candles("KRW-ETH", 3)
    fake.set_candles("KRW-ETH", unit, rows)

    candles = await client.candles("KRW-ETH", timeframe, count=3)

    assert [c.close for c in candles] == [D(str(r["trade_price"])) for r in rows]
    assert fake.requests[-1].path == f"/v1/candles/{unit}"
