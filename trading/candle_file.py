"""Candle files in the shared format (``timestamp_utc,open,high,low,close,volume,value``).

Bad files are refused with the line that is wrong: a backtest or a replay on unsorted,
duplicated or unparsable rows would give a silent wrong answer.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

COLUMNS = ("timestamp_utc", "open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FileCandle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def open_text(path: Path) -> IO[str]:
    """A CSV file as text, gunzipped on the way when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def csv_rows(
    path: Path, columns: Sequence[str], error: type[CandleFileError] = CandleFileError
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file by their line number, once its header has every one of
    ``columns`` (else ``error`` naming the file and the missing ones)."""
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise error(f"{path}: missing column(s) {', '.join(missing)}")
        yield from enumerate(reader, start=2)


def read_candles(path: Path) -> Iterator[FileCandle]:
    """Yield candles oldest first; raise ``CandleFileError`` naming the file and line."""
    if not path.is_file():
        raise CandleFileError(f"{path}: no such candle file")
    previous: datetime | None = None
    for line, row in csv_rows(path, COLUMNS):
        try:
            start = datetime.fromisoformat(row["timestamp_utc"]).astimezone(UTC)
            o, h, lo, c, v = (Decimal(row[k]) for k in COLUMNS[1:])
        except (ValueError, InvalidOperation, TypeError) as exc:
            raise CandleFileError(f"{path}:{line}: unreadable row ({exc})") from exc
        if previous is not None and start <= previous:
            kind = "duplicate" if start == previous else "unsorted"
            raise CandleFileError(f"{path}:{line}: {kind} timestamp {start.isoformat()}")
        if not (lo <= min(o, c) and h >= max(o, c) and v >= 0):
            raise CandleFileError(f"{path}:{line}: inconsistent OHLCV values")
        previous = start
        yield FileCandle(start, o, h, lo, c, v)
