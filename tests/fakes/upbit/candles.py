"""Candle series for the fake: real files in Upbit's response shape, served by ``to``/``count``.

``rows_from_file`` turns a candle file (``timestamp_utc,open,high,low,close,volume,value``,
plain or .gz) into Upbit items, keeping its gaps: Upbit sends no candle for an interval
without trades, and neither does the fake. ``CandleBook`` answers a page with a binary search
(a year of minutes stays fast) and can start an outage after ``n`` pages, to interrupt a
download half-way.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

KST = timedelta(hours=9)
#: Upbit's ``unit`` path (as the fake routes it) -> the ``unit`` field of minute candles
_MINUTES = {f"minutes/{u}": u for u in (1, 3, 5, 10, 15, 30, 60, 240)}


def _lines(path: Path) -> Iterator[dict[str, str]]:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def upbit_row(
    market: str, unit: str, start: datetime, o: Decimal, h: Decimal, lo: Decimal, c: Decimal,
    volume: Decimal, value: Decimal,
) -> dict[str, Any]:  # fmt: skip
    """One candle as Upbit's REST API shows it (numbers exact, newest-first lists)."""
    row: dict[str, Any] = {
        "market": market,
        "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "candle_date_time_kst": (start + KST).strftime("%Y-%m-%dT%H:%M:%S"),
        "opening_price": o,
        "high_price": h,
        "low_price": lo,
        "trade_price": c,
        "timestamp": int(start.timestamp() * 1000) + 1_000,
        "candle_acc_trade_price": value,
        "candle_acc_trade_volume": volume,
    }
    if unit in _MINUTES:
        row["unit"] = _MINUTES[unit]
    return row


def rows_from_file(
    path: Path,
    market: str,
    unit: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    relabel: timedelta | None = None,
) -> list[dict[str, Any]]:
    """Upbit items for the file's candles with ``start <= t < end`` (first ``limit`` rows).

    ``relabel`` re-times the rows to consecutive steps from the first one (real prices on a
    synthetic clock, e.g. minutes served as days). An empty ``value`` becomes close*volume.
    """
    out: list[dict[str, Any]] = []
    first: datetime | None = None
    for line in _lines(path):
        moment = datetime.fromisoformat(line["timestamp_utc"]).astimezone(UTC)
        if (start is not None and moment < start) or (end is not None and moment >= end):
            continue
        if relabel is not None:
            first = first or moment
            moment = first + relabel * len(out)
        o, h, lo, c, v = (Decimal(line[k]) for k in ("open", "high", "low", "close", "volume"))
        value = Decimal(line["value"]) if line.get("value") else c * v
        out.append(upbit_row(market, unit, moment, o, h, lo, c, v, value))
        if limit is not None and len(out) >= limit:
            break
    return out


@dataclass
class _Series:
    rows: list[dict[str, Any]]  # newest first, like Upbit's answers
    keys: list[str]  # candle_date_time_utc, oldest first (for bisect)


@dataclass
class CandleBook:
    """Every (market, unit) series and the candle-outage switch."""

    series: dict[tuple[str, str], _Series] = field(default_factory=dict)
    #: pages still answered before the outage starts (None: no outage planned)
    pages_before_outage: int | None = None
    outage_status: int = 503
    served: int = 0  # candle pages answered with data or an empty list

    def set(self, market: str, unit: str, candles: list[dict[str, Any]]) -> None:
        newest_first = sorted(candles, key=lambda c: str(c["candle_date_time_utc"]), reverse=True)
        keys = [str(c["candle_date_time_utc"]) for c in reversed(newest_first)]
        self.series[(market, unit)] = _Series(newest_first, keys)

    def page(self, market: str, unit: str, count: int, to: str | None) -> list[dict[str, Any]]:
        """Up to ``count`` candles strictly before ``to`` (naive UTC ISO), newest first."""
        series = self.series.get((market, unit))
        if series is None:
            return []
        older = len(series.keys) if to is None else bisect.bisect_left(series.keys, to)
        first = len(series.rows) - older
        return series.rows[first : first + count]

    def outage_now(self) -> bool:
        """True when this page must fail (and counts the page otherwise)."""
        if self.pages_before_outage is not None:
            if self.pages_before_outage <= 0:
                return True
            self.pages_before_outage -= 1
        self.served += 1
        return False
