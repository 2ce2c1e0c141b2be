"""UpbitTradeFeed + MarketData end-to-end against FakeUpbit; order-book fill prices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.marketdata.conftest import BTC, until, upbit_row
from trading.domain import Bar
from trading.domain.book import BookSnapshot
from trading.events import CandleClosed, Event, FeedGapped, FeedStalled
from trading.marketdata.bars import check_series
from trading.marketdata.feeds import Feed
from trading.marketdata.orderbook import expected_fill
from trading.marketdata.service import MarketData
from trading.timeframes import bucket_start
from trading.upbit.feed import UpbitTradeFeed
from trading.upbit.mapping import book_snapshot
from trading.upbit.rest import UpbitRestClient

FAST: dict[str, Any] = {
    "ping_interval_s": 0.1,
    "stale_after_s": 0.5,
    "backoff_base_s": 0.05,
    "backoff_max_s": 0.2,
    "close_timeout_s": 0.5,
}


def closed_bars(events: list[Event]) -> list[Bar]:
    return [e.bar for e in events if isinstance(e, CandleClosed)]


async def test_trade_becomes_a_candle_after_tick(fake: FakeUpbit, events: list[Event]) -> None:
    md = MarketData([BTC], "1s", sink=events.append)
    feed = UpbitTradeFeed(fake.ws_url, [BTC], **FAST)
    assert isinstance(feed, Feed)
    runner = asyncio.create_task(md.run(feed, tick_every_s=None))
    try:
        await asyncio.wait_for(feed.wait_connected(), 3)
        await fake.trade(BTC, D("100005000"), D("0.25"), ask_bid="ASK")
        await fake.trade(BTC, D("100007000"), D("0.5"))
        await until(lambda: md.price(BTC) == D("100007000"))
        last = md.last_print_at(BTC)
        assert last is not None
        assert timedelta(0) <= datetime.now(UTC) - last < timedelta(seconds=3)
        assert not closed_bars(events)
        md.tick(last + timedelta(seconds=3))
        told = {b.start: b for b in closed_bars(events)}
        assert told[bucket_start(last, 1)].close == D("100007000")
        quiet = [b for b in told.values() if b.start > last]
        assert quiet  # the quiet seconds after it close too, flat
        assert all(b.volume == 0 and b.close == D("100007000") for b in quiet)
        total = sum((b.volume for b in closed_bars(events)), D(0))
        assert total == D("0.75")
        assert max(b.high for b in closed_bars(events)) == D("100007000")
    finally:
        await md.stop()
        await asyncio.wait_for(runner, 3)


async def test_ws_drop_gap_is_repaired_from_rest(
    fake: FakeUpbit, client: UpbitRestClient, events: list[Event]
) -> None:
    md = MarketData([BTC], "1s", sink=events.append, client=client, grace=timedelta(0))
    feed = UpbitTradeFeed(fake.ws_url, [BTC], on_event=events.append, **FAST)
    runner = asyncio.create_task(md.run(feed, tick_every_s=0.05))
    try:
        await asyncio.wait_for(feed.wait_connected(), 3)
        await fake.trade(BTC, D("100000000"), D("0.1"))
        await until(lambda: md.builder(BTC).last_closed is not None)
        first = md.builder(BTC).last_closed
        assert first is not None
        assert first.close == D("100000000")
        # the socket goes silent; trades happen that we never see; Upbit's REST has them
        fake.faults.ws_silence(True)
        missed = first.start + timedelta(seconds=1)
        fake.set_candles(
            BTC,
            "seconds",
            [
                upbit_row(BTC, missed, D(100_100_000), D(100_300_000), D(100_000_000),
                          D(100_200_000), D("0.7"), 1),
                upbit_row(BTC, first.start, first.open, first.high, first.low, first.close,
                          first.volume, 1),
            ],
        )  # fmt: skip
        await until(lambda: any(isinstance(e, FeedStalled) for e in events))
        fake.faults.ws_silence(False)
        await until(lambda: any(isinstance(e, FeedGapped) for e in events))
        await until(lambda: md.gaps_repaired >= 1)
        gap = next(e for e in events if isinstance(e, FeedGapped))
        assert gap.disconnected_at <= missed + timedelta(seconds=1)
        # once the live side has closed the seconds after the outage, repair again (idempotent)
        settled = gap.reconnected_at + timedelta(seconds=1)
        await until(lambda: (b := md.builder(BTC).last_closed) is not None and b.end > settled)
        await md.on_gap(gap)
        hist = {b.start: b for b in md.history(BTC)}
        assert hist[missed].close == D(100_200_000)
        assert hist[missed].high == D(100_300_000)
        assert hist[missed + timedelta(seconds=1)].close == D(100_200_000)  # flat after it
        ohlcv = (first.open, first.high, first.low, first.close, first.volume)
        got = hist[first.start]
        assert (got.open, got.high, got.low, got.close, got.volume) == ohlcv  # REST: trades=0
        check_series(md.history(BTC), BTC, "1s")
        # what the strategy was told live was flat; only history is corrected
        told = {b.start: b for b in closed_bars(events)}
        assert told[missed].volume == 0
    finally:
        await md.stop()
        await asyncio.wait_for(runner, 3)


async def test_expected_fill_walks_the_book(fake: FakeUpbit, client: UpbitRestClient) -> None:
    md = MarketData([BTC], "1m")
    assert md.expected_fill(BTC, "bid", D(1000)) is None  # no book yet
    (book,) = await client.orderbook([BTC])
    md.set_orderbook(BTC, book_snapshot(book))
    snap = md.orderbook(BTC)
    assert snap is not None
    assert snap.best_ask == D("100010000")
    assert snap.best_bid == D("100000000")
    # buy for 1,000,000 KRW: all within the best ask
    assert md.expected_fill(BTC, "bid", D(1_000_000)) == D("100010000")
    # buy 0.3 BTC at the best ask (30,003,000 KRW) and 0.2 BTC at the next (20,004,000 KRW)
    got = md.expected_fill(BTC, "bid", D(30_003_000 + 20_004_000))
    assert got == D(50_007_000) / D("0.5")
    # sell 0.6 BTC: 0.4 at 100,000,000 then 0.2 at 99,990,000
    assert md.expected_fill(BTC, "ask", D("0.6")) == (
        D("0.4") * 100_000_000 + D("0.2") * 99_990_000
    ) / D("0.6")
    assert md.expected_fill(BTC, "ask", D("1.5")) is None  # deeper than the book
    assert md.expected_fill(BTC, "bid", D(10**12)) is None


def test_expected_fill_on_a_plain_snapshot() -> None:
    book = BookSnapshot(BTC, asks=((D(10), D(1)), (D(11), D(1))), bids=((D(9), D(2)),))
    assert expected_fill(book, "bid", D(21)) == D(21) / D(2)
    assert expected_fill(book, "ask", D(2)) == D(9)
    with pytest.raises(ValueError, match="positive"):
        expected_fill(book, "ask", D(0))
