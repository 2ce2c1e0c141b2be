"""Pure helpers on ``Bar`` series: gap filling, resampling, validation.

Upbit emits no candle for an interval without trades. Indicators (ATR, EMA, rolling windows)
count bars, so a missing interval silently stretches their window. Every series this package
hands out is therefore *contiguous*: an empty interval becomes a flat bar
(open = high = low = close = previous close, volume 0, trades 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from trading.domain import Bar
from trading.timeframes import bucket_start, timeframe_seconds

ZERO = Decimal(0)


def flat_bar(previous: Bar, start: datetime) -> Bar:
    """The bar of an interval without trades: the previous close, no volume."""
    c = previous.close
    return Bar(previous.market, previous.timeframe, start, c, c, c, c, ZERO, 0)


def flat_between(previous: Bar, until: datetime, *, limit: int | None = None) -> list[Bar]:
    """Flat bars for every interval from ``previous.end`` up to (excluding) ``until``.

    ``limit`` keeps only the most recent ones: a bounded history cannot hold more, and a
    multi-day outage must not turn into millions of events.
    """
    step = timedelta(seconds=timeframe_seconds(previous.timeframe))
    missing = int((until - previous.end) / step)
    if missing <= 0:
        return []
    first = missing - min(missing, limit) if limit is not None else 0
    return [flat_bar(previous, previous.end + step * i) for i in range(first, missing)]


def check_series(bars: Sequence[Bar], market: str, timeframe: str) -> None:
    """Raise ``ValueError`` unless bars are of one market/timeframe, aligned and sorted."""
    seconds = timeframe_seconds(timeframe)
    previous: Bar | None = None
    for bar in bars:
        if bar.market != market or bar.timeframe != timeframe:
            raise ValueError(
                f"bar {bar.start.isoformat()} is {bar.market}/{bar.timeframe}, "
                f"expected {market}/{timeframe}"
            )
        if bucket_start(bar.start, seconds) != bar.start:
            raise ValueError(f"bar {bar.start.isoformat()} is not aligned to {timeframe}")
        if previous is not None and bar.start <= previous.start:
            kind = "duplicate" if bar.start == previous.start else "unsorted"
            raise ValueError(f"{kind} bar at {bar.start.isoformat()}")
        previous = bar


def fill_holes(
    bars: Iterable[Bar], *, until: datetime | None = None, limit: int | None = None
) -> list[Bar]:
    """A sorted series with every empty interval filled flat, optionally up to ``until``.

    Leading empty intervals cannot be filled (there is no previous close) and are left out.
    """
    out: list[Bar] = []
    for bar in bars:
        if out:
            out.extend(flat_between(out[-1], bar.start, limit=limit))
        out.append(bar)
    if out and until is not None:
        out.extend(flat_between(out[-1], until, limit=limit))
    return out


def resample(bars: Iterable[Bar], timeframe: str) -> Iterator[Bar]:
    """Aggregate sorted bars into ``timeframe`` buckets (UTC-aligned); holes stay holes."""
    seconds = timeframe_seconds(timeframe)
    group: list[Bar] = []
    for bar in bars:
        if group and bucket_start(bar.start, seconds) != bucket_start(group[0].start, seconds):
            yield _merge(group, timeframe, seconds)
            group = []
        group.append(bar)
    if group:
        yield _merge(group, timeframe, seconds)


def _merge(group: list[Bar], timeframe: str, seconds: int) -> Bar:
    first = group[0]
    return Bar(
        market=first.market,
        timeframe=timeframe,
        start=bucket_start(first.start, seconds),
        open=first.open,
        high=max(b.high for b in group),
        low=min(b.low for b in group),
        close=group[-1].close,
        volume=sum((b.volume for b in group), ZERO),
        trades=sum(b.trades for b in group),
    )
