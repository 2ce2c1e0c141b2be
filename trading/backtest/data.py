"""Candle files into ``CandleFrame``s, fast (pyarrow) and as strict as ``trading.candle_file``.

The same rules as the replay reader: the repo's header, parsable numbers, strictly increasing
timestamps (a duplicate or an unsorted row is named with its line), consistent OHLC, volume
>= 0. On top, a backtest needs a contiguous series aligned to its timeframe: Upbit omits
intervals without trades, and an indicator that counts bars would silently stretch over a
hole, so ``check_gaps`` refuses them and ``fill_gaps`` fills them with flat candles (the
previous close, volume 0), exactly what the live candle builder does.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trading.candle_file import COLUMNS, CandleFileError
from trading.strategies import CandleFrame

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def _line(path: Path, index: int) -> str:
    return f"{path}:{index + 2}"  # header is line 1; Parquet rows are counted the same way


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")


Columns = tuple[NDArray[np.int64], dict[str, NDArray[np.float64]]]


def _read_table(path: Path) -> Columns:
    import pyarrow as pa

    try:
        if path.suffix == ".parquet" or path.name.endswith(".pq"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pcsv

            header = _header(path)
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise CandleFileError(f"{path}: missing column(s) {', '.join(missing)}")
            types = {c: pa.float64() for c in PRICE_COLUMNS}
            types["timestamp_utc"] = pa.timestamp("s", tz="UTC")
            try:  # ISO 8601 parsed natively: the fast path
                table = pcsv.read_csv(
                    path,
                    convert_options=pcsv.ConvertOptions(
                        column_types=types, include_columns=list(COLUMNS)
                    ),
                    memory_pool=pa.system_memory_pool(),
                )
            except pa.ArrowInvalid:  # read the times as text to name the bad row
                types["timestamp_utc"] = pa.string()
                table = pcsv.read_csv(
                    path,
                    convert_options=pcsv.ConvertOptions(
                        column_types=types, include_columns=list(COLUMNS)
                    ),
                )
    except (pa.ArrowInvalid, OSError) as exc:
        raise CandleFileError(f"{path}: unreadable candle file ({exc})") from exc
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise CandleFileError(f"{path}: missing column(s) {', '.join(missing)}")
    # column by column, each dropped from the table once it is an array: the file is held
    # once plus one column, not twice (table and arrays)
    table = table.select(list(COLUMNS))
    out: dict[str, NDArray[np.float64]] = {}
    for name in PRICE_COLUMNS:
        column = table.column(name)
        if column.null_count:
            first = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise CandleFileError(f"{_line(path, first)}: unreadable row (empty {name})")
        out[name] = _floats(column.cast(pa.float64()))
        table = table.drop_columns([name])
        del column
    return _epochs(path, table.column("timestamp_utc")), out


def _floats(column: Any) -> NDArray[np.float64]:
    """One contiguous float64 array; Arrow's own buffer (read-only) when it has one chunk."""
    if column.num_chunks == 1:
        return np.asarray(column.chunk(0).to_numpy(zero_copy_only=True), dtype=np.float64)
    return np.asarray(column.to_numpy(), dtype=np.float64)


def _header(path: Path) -> list[str]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            return [c.strip() for c in next(csv.reader([handle.readline()]), [])]
    except (OSError, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{path}: unreadable candle file ({exc})") from exc


def _epochs(path: Path, column: Any) -> NDArray[np.int64]:
    import pyarrow as pa
    import pyarrow.compute as pc

    col: pa.ChunkedArray = column
    if pa.types.is_timestamp(col.type):
        seconds = pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False)
        return np.asarray(seconds.cast(pa.int64()).to_numpy(), dtype=np.int64)
    if col.null_count:
        first = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise CandleFileError(f"{_line(path, first)}: unreadable row (empty timestamp_utc)")
    text = col.cast(pa.string())
    # "2024-01-01T00:00:00Z" / "+00:00" / naive: ISO 8601 in UTC, as the shared files are
    trimmed = pc.replace_substring_regex(text, r"(Z|\+00:00)$", "")
    try:
        parsed = pc.strptime(trimmed, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    except pa.ArrowInvalid as exc:
        raise CandleFileError(f"{path}: unreadable timestamps ({exc})") from exc
    if parsed.null_count:
        first = int(np.flatnonzero(parsed.is_null().to_numpy(zero_copy_only=False))[0])
        bad = text[first].as_py()
        raise CandleFileError(
            f"{_line(path, first)}: unreadable timestamp {bad!r} (ISO 8601, UTC)"
        )
    return np.asarray(parsed.cast(pa.int64()).to_numpy(), dtype=np.int64)


def validate(columns: Columns, path: Path) -> None:
    """The rules of ``trading.candle_file.read_candles``, vectorized; errors name the line."""
    start, prices = columns
    o, h, lo, c, v = (prices[k] for k in PRICE_COLUMNS)
    finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
    if not finite.all():
        raise CandleFileError(
            f"{_line(path, int(np.argmin(finite)))}: unreadable row (not a number)"
        )
    if len(start) > 1:
        step = np.diff(start)
        bad = np.flatnonzero(step <= 0)
        if len(bad):
            i = int(bad[0]) + 1
            kind = "duplicate" if step[i - 1] == 0 else "unsorted"
            raise CandleFileError(f"{_line(path, i)}: {kind} timestamp {iso(int(start[i]))}")
    ok = (lo <= np.minimum(o, c)) & (h >= np.maximum(o, c)) & (v >= 0) & (lo > 0)
    if not ok.all():
        raise CandleFileError(f"{_line(path, int(np.argmin(ok)))}: inconsistent OHLCV values")


def load_frame(path: str | Path) -> CandleFrame:
    """A candle CSV, ``.csv.gz`` or Parquet file as a ``CandleFrame``; ``CandleFileError``
    (a ``ValueError``) names the file and line of the first bad row."""
    path = Path(path)
    if not path.is_file():
        raise CandleFileError(f"{path}: no such candle file")
    columns = _read_table(path)
    start, prices = columns
    if len(start) == 0:
        raise CandleFileError(f"{path}: no candles")
    validate(columns, path)
    return CandleFrame(start=start, **prices)


@dataclass(frozen=True, slots=True)
class Gaps:
    """Missing intervals of a series: how many bars in all, and where the first hole is."""

    missing: int
    holes: int
    first_after: int | None  # epoch start of the last candle before the first hole

    def __bool__(self) -> bool:
        return self.missing > 0


def find_gaps(frame: CandleFrame, timeframe_s: int) -> Gaps:
    step = np.diff(frame.start)
    bad = np.flatnonzero(step != timeframe_s)
    if not len(bad):
        return Gaps(0, 0, None)
    missing = int(((step[bad] // timeframe_s) - 1).sum())
    return Gaps(missing, len(bad), int(frame.start[bad[0]]))


def check_aligned(frame: CandleFrame, timeframe_s: int, name: str) -> None:
    """Starts on the timeframe grid (UTC-aligned, like the live candle builder's buckets)."""
    off = np.flatnonzero(frame.start % timeframe_s)
    if len(off):
        raise CandleFileError(
            f"{name}: candle {iso(int(frame.start[off[0]]))} is not aligned to a"
            f" {timeframe_s} s timeframe (wrong --timeframe?)"
        )
    if len(frame) > 1:
        steps = np.diff(frame.start)
        if int(steps.min()) < timeframe_s or np.any(steps % timeframe_s):
            raise CandleFileError(f"{name}: candles are closer than the {timeframe_s} s timeframe")


def fill_gaps(
    frame: CandleFrame, timeframe_s: int, longest_s: int | None = None
) -> tuple[CandleFrame, int]:
    """Every missing interval as a flat candle at the previous close, volume 0; and how many.
    ``longest_s``: only the holes of at most that many seconds (the others stay holes)."""
    if len(frame) < 2:
        return frame, 0
    if longest_s is not None:
        steps = np.diff(frame.start)
        long_holes = np.flatnonzero(steps - timeframe_s > longest_s)
        if len(long_holes):  # fill between the long holes, piece by piece
            edges = [0, *(long_holes + 1).tolist(), len(frame)]
            pieces = [fill_gaps(frame[a:b], timeframe_s) for a, b in pairwise(edges)]
            return _joined([p for p, _ in pieces]), sum(n for _, n in pieces)
    slots = (frame.start - frame.start[0]) // timeframe_s
    total = int(slots[-1]) + 1
    added = total - len(frame)
    if added == 0:
        return frame, 0
    # index of the real candle at or before each slot: forward fill
    owner = np.zeros(total, dtype=np.int64)
    owner[slots] = np.arange(len(frame))
    present = np.zeros(total, dtype=bool)
    present[slots] = True
    owner = np.maximum.accumulate(np.where(present, owner, 0))
    close = frame.close[owner]
    flat = ~present

    def col(values: NDArray[np.float64]) -> NDArray[np.float64]:
        out = values[owner].copy()
        out[flat] = close[flat]
        return out

    volume = frame.volume[owner].copy()
    volume[flat] = 0.0
    start = frame.start[0] + np.arange(total, dtype=np.int64) * timeframe_s
    filled = CandleFrame(
        start=start,
        open=col(frame.open),
        high=col(frame.high),
        low=col(frame.low),
        close=close,
        volume=volume,
    )
    return filled, added


def _joined(frames: list[CandleFrame]) -> CandleFrame:
    """Frames one after the other, as one (with the holes between them)."""
    return CandleFrame(
        start=np.concatenate([f.start for f in frames]),
        open=np.concatenate([f.open for f in frames]),
        high=np.concatenate([f.high for f in frames]),
        low=np.concatenate([f.low for f in frames]),
        close=np.concatenate([f.close for f in frames]),
        volume=np.concatenate([f.volume for f in frames]),
    )


def slice_frame(frame: CandleFrame, start: int | None, end: int | None) -> CandleFrame:
    """Candles with ``start <= candle start < end`` (epoch seconds; None = open-ended)."""
    lo = 0 if start is None else int(np.searchsorted(frame.start, start, "left"))
    hi = len(frame) if end is None else int(np.searchsorted(frame.start, end, "left"))
    return frame[lo:hi]
