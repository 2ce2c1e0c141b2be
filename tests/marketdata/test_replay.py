"""ReplayFeed: candle files, trade files, speed, slices, bad files; MarketData on a replay."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.marketdata.conftest import BTC, BUNDLED_1M, XRP_ETH_TRADES, segment_a
from trading.candle_file import CandleFileError
from trading.domain import Bar, TradePrint
from trading.events import CandleClosed, Event
from trading.marketdata.bars import resample
from trading.marketdata.candles import CandleBuilder
from trading.marketdata.replay import ReplayFeed, ReplayFile, ReplayFileError
from trading.marketdata.service import MarketData

needs_xrp = pytest.mark.skipif(not XRP_ETH_TRADES.is_file(), reason="shared trade file absent")


async def collect(feed: ReplayFeed, within: float = 10.0) -> list[TradePrint]:
    async with asyncio.timeout(within):
        await feed.start()
        return [p async for p in feed.prints()]


async def test_candle_file_becomes_four_plausible_prints_per_candle() -> None:
    candles = segment_a(120)
    feed = ReplayFeed([ReplayFile(BUNDLED_1M, BTC)], start=candles[0].start, end=candles[-1].start)
    prints = await collect(feed)
    assert len(prints) == 4 * 119
    for candle, four in zip(
        candles[:-1], (prints[i : i + 4] for i in range(0, len(prints), 4)), strict=True
    ):
        prices = [p.price for p in four]
        rising = candle.close >= candle.open
        middle = [candle.low, candle.high] if rising else [candle.high, candle.low]
        assert prices == [candle.open, *middle, candle.close]
        offsets = [(p.at - candle.start).total_seconds() for p in four]
        assert offsets == [0, 15, 30, pytest.approx(59.4)]
        assert sum(p.volume for p in four) == candle.volume
    assert feed.clock == prints[-1].at
    assert feed.count == len(prints)


async def test_replayed_candles_rebuild_the_same_15m_bars_as_a_resample() -> None:
    candles = segment_a(900)
    first = candles[0].start
    start = first + timedelta(minutes=(15 - first.minute % 15) % 15)  # a 15m boundary
    closed: list[Bar] = []
    builder = CandleBuilder(BTC, "15m", on_close=closed.append)
    feed = ReplayFeed([ReplayFile(BUNDLED_1M, BTC)], start=start, end=start + timedelta(hours=10))
    for p in await collect(feed):
        builder.add(p)
    minute = [
        Bar(BTC, "1m", c.start, c.open, c.high, c.low, c.close, c.volume)
        for c in candles
        if start <= c.start < start + timedelta(hours=10)
    ]
    want = list(resample(minute, "15m"))[:-1]  # the last one is still open in the builder
    assert len(closed) == 39
    assert [(b.start, b.open, b.high, b.low, b.close, b.volume) for b in closed] == [
        (b.start, b.open, b.high, b.low, b.close, b.volume) for b in want
    ]
    assert all(b.trades == 60 for b in closed)


@needs_xrp
async def test_trade_file_at_max_speed() -> None:
    feed = ReplayFeed([ReplayFile(XRP_ETH_TRADES, "ETH-XRP")], batch=200)
    started = time.monotonic()
    prints = await collect(feed)
    assert time.monotonic() - started < 5
    assert len(prints) == 12477
    assert prints[0].price == D("0.00141342")
    assert prints[0].volume == D("23.0")
    assert prints[0].ask_bid == "ASK"
    assert prints[0].sequential_id == 13519807
    assert {p.ask_bid for p in prints} == {"ASK", "BID"}
    assert all(a.at <= b.at for a, b in itertools.pairwise(prints))
    assert prints[0].at.tzinfo is not None


@needs_xrp
async def test_trade_file_at_3600x_is_paced_by_the_recording() -> None:
    start = datetime(2019, 10, 11, 0, 0, tzinfo=UTC)
    feed = ReplayFeed(
        [ReplayFile(XRP_ETH_TRADES, "ETH-XRP")],
        speed=3600.0,
        start=start,
        end=start + timedelta(minutes=30),
    )
    started = time.monotonic()
    prints = await collect(feed)
    elapsed = time.monotonic() - started
    recorded = (prints[-1].at - prints[0].at).total_seconds()
    assert recorded > 1200
    assert recorded / 3600 * 0.9 <= elapsed  # never faster than the recording
    assert elapsed < recorded / 3600 + 30  # nor stuck (a busy machine may be slow)
    assert all(start <= p.at < start + timedelta(minutes=30) for p in prints)


async def test_stop_ends_a_slow_replay_at_once() -> None:
    feed = ReplayFeed([ReplayFile(BUNDLED_1M, BTC)], speed=1.0)
    got: list[TradePrint] = []

    async def consume() -> None:
        async for p in feed.prints():
            got.append(p)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    await feed.stop()
    await asyncio.wait_for(task, 1)
    assert len(got) == 1  # the open print; the next is 15 s of replay time away


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_bad_files_are_refused_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ReplayFileError, match="no such file"):
        ReplayFeed([ReplayFile(tmp_path / "missing.csv", BTC)])
    alien = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(ReplayFileError, match=r"x\.csv:1: neither"):
        ReplayFeed([ReplayFile(alien, BTC)])
    header = "timestamp_utc,open,high,low,close,volume,value\n"
    nameless = write(tmp_path / "candles.csv", header)
    with pytest.raises(ReplayFileError, match="pass the timeframe"):
        ReplayFeed([ReplayFile(nameless, BTC)])
    row = "2020-01-01T00:0{m}:00Z,1,2,1,1,1,1\n"
    unsorted = write(tmp_path / "c_1m.csv", header + row.format(m=1) + row.format(m=0))
    with pytest.raises(CandleFileError, match=r"c_1m\.csv:3: unsorted"):
        await collect(ReplayFeed([ReplayFile(unsorted, BTC)]))
    trades = "timestamp_utc,price,amount,side,trade_id\n2020-01-01T00:00:00Z,1,1,buy,1\n"
    bad_side = write(tmp_path / "t.csv", trades + "2020-01-01T00:00:01Z,1,1,hold,2\n")
    with pytest.raises(ReplayFileError, match=r"t\.csv:3: unreadable"):
        await collect(ReplayFeed([ReplayFile(bad_side, BTC)]))
    backwards = write(tmp_path / "b.csv", trades + "2019-12-31T23:59:59Z,1,1,sell,2\n")
    with pytest.raises(ReplayFileError, match=r"b\.csv:3: unsorted"):
        await collect(ReplayFeed([ReplayFile(backwards, BTC)]))
    with pytest.raises(ValueError, match="speed"):
        ReplayFeed([ReplayFile(BUNDLED_1M, BTC)], speed=0)


async def test_market_data_runs_a_replay_and_emits_candle_closed() -> None:
    candles = segment_a(200)
    start = candles[0].start + timedelta(minutes=(15 - candles[0].start.minute % 15) % 15)
    events: list[Event] = []
    md = MarketData([BTC], "15m", sink=events.append)
    feed = ReplayFeed([ReplayFile(BUNDLED_1M, BTC)], start=start, end=start + timedelta(hours=2))
    await asyncio.wait_for(md.run(feed), 5)
    bars = [e.bar for e in events if isinstance(e, CandleClosed)]
    assert len(bars) == 8  # the last bar is closed at the end of the recording
    assert [b.start for b in bars] == [start + timedelta(minutes=15 * i) for i in range(8)]
    assert all(e.at == e.bar.end for e in events if isinstance(e, CandleClosed))
    last = [c for c in candles if c.start < start + timedelta(hours=2)][-1]
    assert md.price(BTC) == last.close
    assert md.history(BTC) == bars
