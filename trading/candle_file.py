"""Candle files in the shared format (``timestamp_utc,open,high,low,close,volume,value``).

Bad files are refused with the line that is wrong: a backtest or a replay on unsorted,
duplicated or unparsable rows would give a silent wrong answer.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

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


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_candles(path: Path) -> Iterator[FileCandle]:
    """Yield candles oldest first; raise ``CandleFileError`` naming the file and line."""
    if not path.is_file():
        raise CandleFileError(f"{path}: no such candle file")
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CandleFileError(f"{path}: missing column(s) {', '.join(missing)}")
        previous: datetime | None = None
        for line, row in enumerate(reader, start=2):
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
