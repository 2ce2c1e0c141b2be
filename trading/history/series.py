"""Downloaded candles and the explicit filling of intervals Upbit left out.

Upbit sends no candle for an interval without trades. A downloaded series gets a flat candle
there instead (open = high = low = close = the previous close, volume and value 0, ``filled``),
so indicators count real intervals. Nothing is filled before the first candle a market has:
there is no previous close to repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from trading.domain.candle import Candle
from trading.history.timeframes import Timeframe

ZERO = Decimal(0)


class HistCandle(NamedTuple):
    """One candle of a downloaded series; ``start`` is the UTC interval start.

    ``value`` is the quote amount traded (Upbit's ``candle_acc_trade_price``, KRW on KRW
    markets). It satisfies ``trading.strategies.BarLike``. A named tuple, not a dataclass:
    a two-year gap of minutes is a million flat candles, and tuples build five times faster.
    """

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    value: Decimal
    filled: bool = False

    @classmethod
    def from_candle(cls, candle: Candle) -> HistCandle:
        return cls(
            candle.start,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
            candle.quote_volume,
        )

    def flat_at(self, start: datetime) -> HistCandle:
        """The candle of an empty interval after this one."""
        c = self.close
        return HistCandle(start, c, c, c, c, ZERO, ZERO, True)


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of filled intervals: ``count`` candles from ``start`` on."""

    start: datetime
    count: int


def fill_block(
    tf: Timeframe,
    candles: Sequence[HistCandle],
    *,
    anchor: HistCandle | None,
    begin: datetime,
    end: datetime,
) -> tuple[list[HistCandle], list[Gap]]:
    """The complete series for ``[begin, end)``: real ``candles`` (oldest first, all inside
    the block) plus flat candles for every empty interval after ``anchor`` (the last real
    candle before ``begin``, or None when there is none: then filling starts at the first
    real candle). Upbit returned nothing between them, so every such interval had no trade.
    """
    out: list[HistCandle] = []
    gaps: list[Gap] = []
    previous = anchor
    for candle in [*candles, None]:
        stop = end if candle is None else candle.start
        if previous is not None and tf.seconds is not None:
            step = timedelta(seconds=tf.seconds)
            cursor = previous.start + step
            if cursor < begin:  # skip ahead to the block, without counting
                cursor += step * -(-(begin - cursor) // step)
            run = -(-(stop - cursor) // step) if stop > cursor else 0
            if run:
                c = previous.close
                out.extend(
                    HistCandle(cursor + step * k, c, c, c, c, ZERO, ZERO, True) for k in range(run)
                )
                gaps.append(Gap(cursor, run))
        elif previous is not None:
            cursor = tf.next(previous.start)
            run_start: datetime | None = None
            run = 0
            while cursor < stop:
                if cursor >= begin:
                    out.append(previous.flat_at(cursor))
                    run_start = run_start or cursor
                    run += 1
                cursor = tf.next(cursor)
            if run_start is not None:
                gaps.append(Gap(run_start, run))
        if candle is not None:
            out.append(candle)
            previous = candle
    return out, gaps


def longest(gaps: Iterable[Gap], n: int) -> list[Gap]:
    """The ``n`` longest gaps, longest first (earliest first among equals)."""
    return sorted(gaps, key=lambda g: (-g.count, g.start))[:n]


def gap_end(tf: Timeframe, gap: Gap) -> datetime:
    """The start of the first interval after ``gap``."""
    if tf.seconds is not None:
        return gap.start + timedelta(seconds=tf.seconds * gap.count)
    cursor = gap.start
    for _ in range(gap.count):
        cursor = tf.next(cursor)
    return cursor


def merge_gaps(tf: Timeframe, gaps: Iterable[Gap]) -> list[Gap]:
    """Gaps oldest first, with runs that touch (split by a page boundary) joined."""
    merged: list[Gap] = []
    for gap in sorted(gaps, key=lambda g: g.start):
        if merged and gap_end(tf, merged[-1]) == gap.start:
            merged[-1] = Gap(merged[-1].start, merged[-1].count + gap.count)
        else:
            merged.append(gap)
    return merged
