"""Quotation endpoints through real HTTP to the fake exchange."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.upbit.conftest import upbit_minute_candles
from trading.errors import NotFound, ValidationError
from trading.marketdata.lifecycle import read_statuses
from trading.risk.lifecycle import MarketStatus
from trading.upbit.models import TickerState


async def test_markets_carry_warnings(client):
    markets = await client.markets()

    codes = {m.market for m in markets}
    assert {"KRW-BTC", "KRW-ETH"} <= codes
    assert all(isinstance(m.warning, bool) for m in markets)


async def test_ticker_states_and_the_status_reader(fake, client):
    """``market_state``/``delisting_date`` off the REST ticker, with or without a trade; and
    ``read_statuses``: one status per configured market, an unlisted one without a ticker call."""
    fake.set_market_state("KRW-BTC", delisting_date=date(2026, 9, 1))
    fake.set_market_caution("KRW-ETH", "TRADING_VOLUME_SOARING")
    fake.set_listed("KRW-XRP", False)

    states = await client.ticker_states(["KRW-BTC", "KRW-ETH"])
    statuses = await read_statuses(client, ["KRW-BTC", "KRW-ETH", "KRW-XRP"])

    assert [(t.market, t.market_state, t.delisting_date) for t in states] == [
        ("KRW-BTC", "ACTIVE", date(2026, 9, 1)),
        ("KRW-ETH", "ACTIVE", None),
    ]
    assert statuses == [
        MarketStatus("KRW-BTC", state="ACTIVE", delisting_date=date(2026, 9, 1)),
        MarketStatus("KRW-ETH", cautions=("TRADING_VOLUME_SOARING",), state="ACTIVE"),
        MarketStatus("KRW-XRP", listed=False),
    ]
    assert [s.closing for s in statuses] == [True, False, True]
    assert [s.warned for s in statuses] == [False, True, False]
    tickers = [r for r in fake.requests if r.path == "/v1/ticker"]
    assert "KRW-XRP" not in tickers[-1].query


@pytest.mark.parametrize(
    ("raw", "state", "day"),
    [
        ({"market": "KRW-BTC"}, "", None),  # REST docs show neither field
        ({"market": "KRW-BTC", "market_state": None, "delisting_date": ""}, "", None),
        (
            {"market": "KRW-BTC", "market_state": "PREVIEW", "delisting_date": None},
            "PREVIEW",
            None,
        ),
        (
            {"market": "KRW-BTC", "delisting_date": {"year": 2026, "month": 9, "day": 1}},
            "",
            date(2026, 9, 1),
        ),
        ({"market": "KRW-BTC", "delisting_date": "2026-09-01"}, "", date(2026, 9, 1)),
    ],
)
def test_ticker_state_accepts_every_form_upbit_used(raw, state, day):
    parsed = TickerState.model_validate(raw)
    assert (parsed.market_state, parsed.delisting_date) == (state, day)


def test_ticker_state_refuses_a_date_that_is_not_one():
    with pytest.raises(PydanticValidationError):
        TickerState.model_validate({"market": "KRW-BTC", "delisting_date": {"year": 2026}})


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
