"""Resampling real 1m data, and REST backfill / gap repair against FakeUpbit."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal as D

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.marketdata.conftest import BTC, segment_a, tp, upbit_rows
from trading.candle_file import FileCandle
from trading.domain import Bar
from trading.marketdata.backfill import backfill, fill_gap, native_timeframe
from trading.marketdata.bars import check_series, fill_holes, resample
from trading.marketdata.candles import CandleBuilder
from trading.marketdata.service import MarketData
from trading.upbit.rest import UpbitRestClient


def to_bar(c: FileCandle, tf: str = "1m") -> Bar:
    return Bar(BTC, tf, c.start, c.open, c.high, c.low, c.close, c.volume)


def naive_resample(candles: list[FileCandle], minutes: int) -> list[tuple[int, D, D, D, D, D]]:
    """An independent resample: group by epoch minute // N, plain loops."""
    groups: OrderedDict[int, list[FileCandle]] = OrderedDict()
    for c in candles:
        groups.setdefault(int(c.start.timestamp()) // (60 * minutes), []).append(c)
    out = []
    for key, rows in groups.items():
        high, low, vol = rows[0].high, rows[0].low, D(0)
        for r in rows:
            high, low, vol = max(high, r.high), min(low, r.low), vol + r.volume
        out.append((key * 60 * minutes, rows[0].open, high, low, rows[-1].close, vol))
    return out


def test_resample_real_1m_into_15m_matches_a_naive_resample() -> None:
    candles = segment_a(3000)
    got = list(resample((to_bar(c) for c in candles), "15m"))
    want = naive_resample(candles, 15)
    assert [
        (int(b.start.timestamp()), b.open, b.high, b.low, b.close, b.volume) for b in got
    ] == want
    check_series(got, BTC, "15m")
    assert all(b.start.minute % 15 == 0 for b in got)


@pytest.mark.parametrize(
    ("tf", "native"),
    [("1s", "1s"), ("5s", "1s"), ("1m", "1m"), ("2m", "1m"), ("15m", "15m"), ("1h", "60m"),
     ("2h", "60m"), ("4h", "240m"), ("12h", "240m"), ("1d", "1d"), ("20m", "10m")],
)  # fmt: skip
def test_native_unit_is_the_largest_divisor(tf: str, native: str) -> None:
    assert native_timeframe(tf) == native


def with_holes(count: int, holes: set[int]) -> tuple[list[FileCandle], list[FileCandle]]:
    candles = segment_a(count)
    return candles, [c for i, c in enumerate(candles) if i not in holes]


async def test_backfill_pages_past_200_and_fills_holes(
    fake: FakeUpbit, client: UpbitRestClient
) -> None:
    candles, served = with_holes(600, {300, 301, 302, 450})
    fake.set_candles(BTC, "minutes/1", upbit_rows(BTC, served))
    end = candles[-1].start + timedelta(minutes=1)
    bars = await backfill(client, BTC, "1m", 450, end=end + timedelta(seconds=20))
    assert len(bars) == 450
    check_series(bars, BTC, "1m")
    assert bars[0].start == candles[150].start
    assert bars[-1].end == end
    by_start = {b.start: b for b in bars}
    for i in (300, 301, 302):
        flat = by_start[candles[i].start]
        assert flat.volume == 0
        assert flat.open == flat.close == candles[299].close
    assert by_start[candles[449].start] == to_bar(candles[449])
    calls = [r for r in fake.requests if r.path.startswith("/v1/candles/minutes/1")]
    assert len(calls) >= 3  # 450 bars need three pages of 200


async def test_backfill_fills_a_leading_hole_from_the_previous_candle(
    fake: FakeUpbit, client: UpbitRestClient
) -> None:
    candles, served = with_holes(100, {60, 61})
    fake.set_candles(BTC, "minutes/1", upbit_rows(BTC, served))
    bars = await backfill(client, BTC, "1m", 40, end=candles[-1].start + timedelta(minutes=1))
    assert len(bars) == 40
    assert bars[0].start == candles[60].start
    assert bars[0].volume == 0
    assert bars[0].close == candles[59].close
    assert bars[2] == to_bar(candles[62])


async def test_backfill_resamples_timeframes_upbit_does_not_serve(
    fake: FakeUpbit, client: UpbitRestClient
) -> None:
    candles = segment_a(300)
    fake.set_candles(BTC, "minutes/1", upbit_rows(BTC, candles))
    start = candles[0].start
    end = start + timedelta(minutes=240)  # aligned to 2m: bucket starts are even minutes
    bars = await backfill(client, BTC, "2m", 100, end=end)
    want = list(resample((to_bar(c) for c in candles if c.start < end), "2m"))[-100:]
    assert bars == want


async def test_fill_gap_restores_the_hole_with_rest_truth(
    fake: FakeUpbit, client: UpbitRestClient
) -> None:
    candles = segment_a(120)
    fake.set_candles(BTC, "minutes/1", upbit_rows(BTC, candles))
    builder = CandleBuilder(BTC, "1m", history=500)
    builder.seed([to_bar(c) for c in candles[:60]])
    # the feed was down for minutes 60..89: the live builder only saw quiet intervals
    builder.tick(candles[90].start + timedelta(seconds=5))
    assert all(b.volume == 0 for b in builder.history()[60:90])
    changed = await fill_gap(
        client,
        builder,
        candles[60].start + timedelta(seconds=7),
        candles[89].start + timedelta(seconds=30),
        now=candles[100].start,
    )
    assert len(changed) == 30
    hist = builder.history()
    assert hist == fill_holes([to_bar(c) for c in candles[:90]])
    check_series(hist, BTC, "1m")


async def test_market_data_warm_up_seeds_history_before_live_bars(
    fake: FakeUpbit, client: UpbitRestClient
) -> None:
    candles = segment_a(300)
    fake.set_candles(BTC, "minutes/1", upbit_rows(BTC, candles))
    md = MarketData([BTC], "1m", client=client, history=100)
    live = candles[250].start + timedelta(seconds=3)
    md.on_print(tp(123, live))  # the feed started first: the warm-up must stop before it
    assert await md.warm_up(100, end=candles[-1].start) == {BTC: 100}
    hist = md.history(BTC)
    assert hist[-1].end == candles[250].start
    assert hist == [to_bar(c) for c in candles[150:250]]
    closed = md.on_print(tp(124, live + timedelta(minutes=1)))
    assert [b.start for b in closed] == [candles[250].start]
