"""History over REST: warm-up before trading, and repair after a WebSocket gap.

Upbit serves a few native units (reference §4.2); any other timeframe is resampled from the
largest native unit that divides it (5s from 1s, 2h from 60m, 12h from 240m). Results are
contiguous (``bars.fill_holes``). Note: Upbit keeps 1-second candles for 3 months only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from trading.domain import Bar
from trading.domain.candle import Candle
from trading.marketdata.bars import fill_holes, flat_bar, resample
from trading.marketdata.candles import CandleBuilder
from trading.timeframes import bucket_start, timeframe_seconds

#: seconds -> the timeframe name ``UpbitRestClient.candles`` accepts for it
NATIVE = {
    1: "1s",
    60: "1m",
    180: "3m",
    300: "5m",
    600: "10m",
    900: "15m",
    1800: "30m",
    3600: "60m",
    14400: "240m",
    86400: "1d",
}


class CandleSource(Protocol):
    """The part of ``UpbitRestClient`` backfill needs (a fake can stand in)."""

    async def candles(
        self, market: str, timeframe: str = ..., *, count: int = ..., to: datetime | None = ...
    ) -> Sequence[Candle]: ...

    async def candle_history(
        self, market: str, timeframe: str, start: datetime, end: datetime
    ) -> Sequence[Candle]: ...


def native_timeframe(timeframe: str) -> str:
    """The Upbit unit to fetch for ``timeframe``: itself if native, else the largest divisor."""
    seconds = timeframe_seconds(timeframe)
    best = max(s for s in NATIVE if seconds % s == 0)
    return NATIVE[best]


def candle_to_bar(candle: Candle, timeframe: str) -> Bar:
    """Upbit does not report a trade count; ``trades`` is 0 on REST bars."""
    return Bar(
        market=candle.market,
        timeframe=timeframe,
        start=candle.start,
        open=candle.open,
        high=candle.high,
        low=candle.low,
        close=candle.close,
        volume=candle.volume,
    )


def to_bars(candles: Sequence[Candle], native: str, timeframe: str) -> list[Bar]:
    """Native candles (oldest first) -> bars of ``timeframe``; holes are left as holes."""
    return list(resample((candle_to_bar(c, native) for c in candles), timeframe))


async def fetch_bars(
    client: CandleSource, market: str, timeframe: str, start: datetime, end: datetime
) -> list[Bar]:
    """Bars of ``timeframe`` with ``start <= bar.start < end``, as Upbit has them (with holes).

    ``start``/``end`` should be aligned to ``timeframe`` so no bar is built from a partial
    bucket.
    """
    native = native_timeframe(timeframe)
    candles = await client.candle_history(market, native, start, end)
    return to_bars(candles, native, timeframe)


async def backfill(
    client: CandleSource, market: str, timeframe: str, bars: int, *, end: datetime
) -> list[Bar]:
    """The last ``bars`` closed bars before ``end`` (exclusive), contiguous, oldest first.

    Empty intervals are flat, including those at the very start (the previous close is asked
    for with one extra call) and at the end, so a live builder can continue without a hole.
    ``end`` should not be in the future: the bar containing ``end`` is never included.
    """
    if bars < 1:
        raise ValueError("bars must be at least 1")
    step = timedelta(seconds=timeframe_seconds(timeframe))
    stop = bucket_start(end, int(step.total_seconds()))
    start = stop - step * bars
    got = await fetch_bars(client, market, timeframe, start, stop)
    if not got or got[0].start > start:
        before = await client.candles(market, native_timeframe(timeframe), count=1, to=start)
        if before:
            anchor = candle_to_bar(before[0], timeframe)
            seed = flat_bar(anchor, start - step)  # only its close is used
            return fill_holes([seed, *got], until=stop)[1:]
    return fill_holes(got, until=stop)[-bars:]


async def fill_gap(
    client: CandleSource,
    builder: CandleBuilder,
    since: datetime,
    until: datetime,
    *,
    now: datetime | None = None,
) -> list[Bar]:
    """Repair the builder's history for a feed outage from ``since`` to ``until``.

    Every fully closed interval touched by the outage is fetched and merged: REST candles are
    authoritative, intervals without one become flat. The open bar and anything after the
    builder's frontier are left to the live feed. Returns the bars that changed.
    """
    seconds = builder.seconds
    step = timedelta(seconds=seconds)
    start = bucket_start(since, seconds)
    end = bucket_start(until, seconds) + step
    end = min(end, bucket_start(now or datetime.now(UTC), seconds))
    if (open_bar := builder.open_bar) is not None:
        end = min(end, open_bar.start)
    elif (last := builder.last_closed) is not None:
        end = min(end, last.end)
    if end <= start:
        return []
    bars = await fetch_bars(client, builder.market, builder.timeframe, start, end)
    return builder.merge(bars, start, end)
