"""Candle files: CSV in the repo's format and Parquet, rewritten atomically at checkpoints.

CSV columns are ``timestamp_utc,open,high,low,close,volume,value`` (``trading.candle_file``,
``bot/data/*.csv``), oldest first, the timestamp as ``2024-01-01T00:00:00Z``. Parquet has the
same columns: ``timestamp_utc`` is ``timestamp[ms, UTC]`` (Parquet has no seconds unit) and
the six numbers are **decimal strings**: exact, where decimal128 would need one fixed scale
for every row and market (and would round a value with more decimals). Filled intervals have
volume and value 0.

A series is held in memory as one text line per candle and written to ``<name>.tmp`` and
renamed over the file every ``flush_every_s`` seconds and when it is finished, so a killed
run leaves the last complete checkpoint, never a torn file.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trading.history.series import HistCandle
from trading.history.targets import TargetError
from trading.history.timeframes import Timeframe

Format = Literal["csv", "parquet"]
HEADER = ("timestamp_utc", "open", "high", "low", "close", "volume", "value")
#: months get a distinct file name: ``1m`` and ``1M`` collide on case-insensitive disks
_FILE_LABEL = {"1M": "1month"}
_SCHEMA = pa.schema(
    [pa.field("timestamp_utc", pa.timestamp("ms", tz="UTC"), nullable=False)]
    + [pa.field(name, pa.string(), nullable=False) for name in HEADER[1:]]
)


def file_name(market: str, tf: Timeframe, fmt: Format) -> str:
    """``upbit_KRW-BTC_1m.csv``, like the files in ``bot/data`` and ``../shared/data``."""
    return f"upbit_{market}_{_FILE_LABEL.get(tf.name, tf.name)}.{fmt}"


def _fmt(value: object) -> str:
    return format(value, "f")


def _line(c: HistCandle) -> str:
    return ",".join(_fmt(v) for v in (c.open, c.high, c.low, c.close, c.volume, c.value))


def _iso_all(epochs: list[int]) -> list[str]:
    """``2024-01-01T00:00:00`` for each epoch (vectorized: strftime is slow for millions)."""
    texts: list[str] = np.array(epochs, dtype="datetime64[s]").astype(str).tolist()
    return texts


def _epochs(texts: list[str]) -> list[int]:
    """Epoch seconds of ISO timestamps; the fast path takes our own ``...Z`` spelling."""
    if all(len(t) == 20 and t[-1] == "Z" for t in texts):
        array = np.array([t[:-1] for t in texts], dtype="datetime64[s]")
        values: list[int] = array.astype(np.int64).tolist()
        return values
    return [int(datetime.fromisoformat(t).timestamp()) for t in texts]


def read_csv_rows(path: Path) -> dict[int, str]:
    """epoch -> ``open,...,value`` text; refuses files that are not sorted candle files."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(header) != HEADER:
            raise TargetError(f"{path}: not a candle file (header must be {','.join(HEADER)})")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if len(row) != len(HEADER):
            raise TargetError(f"{path}:{line}: expected {len(HEADER)} columns")
    try:
        epochs = _epochs([row[0] for row in rows])
    except ValueError as exc:
        raise TargetError(f"{path}: unreadable timestamp ({exc})") from exc
    for line, (a, b) in enumerate(itertools.pairwise(epochs), start=3):
        if b <= a:
            raise TargetError(f"{path}:{line}: duplicate or unsorted timestamp")
    return {e: ",".join(row[1:]) for e, row in zip(epochs, rows, strict=True)}


def read_parquet_rows(path: Path) -> dict[int, str]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise TargetError(f"{path}: unreadable Parquet file ({exc})") from exc
    if tuple(table.column_names) != HEADER:
        raise TargetError(f"{path}: not a candle file (columns must be {','.join(HEADER)})")
    stamps = table.column("timestamp_utc").cast(pa.timestamp("s", tz="UTC"))
    epochs = stamps.cast(pa.int64()).to_pylist()
    columns = [table.column(name).to_pylist() for name in HEADER[1:]]
    return {e: ",".join(values) for e, *values in zip(epochs, *columns, strict=True)}


def write_rows(path: Path, rows: dict[int, str], fmt: Format) -> None:
    """Write sorted rows to a temporary file next to ``path`` and rename it over ``path``."""
    epochs = sorted(rows)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        if fmt == "csv":
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(",".join(HEADER) + "\n")
                buffer = io.StringIO()
                for epoch, iso in zip(epochs, _iso_all(epochs), strict=True):
                    buffer.write(f"{iso}Z,{rows[epoch]}\n")
                handle.write(buffer.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
        else:
            os.close(fd)
            split = [rows[e].split(",") for e in epochs]
            millis = [e * 1000 for e in epochs]
            arrays = [pa.array(millis, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))]
            arrays += [pa.array([r[i] for r in split], pa.string()) for i in range(6)]
            pq.write_table(pa.Table.from_arrays(arrays, schema=_SCHEMA), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileTarget:
    """One file per market and timeframe in ``directory``."""

    def __init__(self, directory: Path, fmt: Format, *, flush_every_s: float = 5.0) -> None:
        self.directory = directory
        self.fmt: Format = fmt
        self.flush_every_s = flush_every_s
        self._series: dict[tuple[str, str], dict[int, str]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._paths: dict[tuple[str, str], Path] = {}
        self._last_flush = time.monotonic()

    def describe(self) -> str:
        return f"{self.fmt} files in {self.directory}"

    def path(self, market: str, tf: Timeframe) -> Path:
        return self.directory / file_name(market, tf, self.fmt)

    async def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.directory):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise TargetError(f"cannot write to {self.directory}: {reason}") from exc

    def _load(self, market: str, tf: Timeframe) -> dict[int, str]:
        key = (market, tf.name)
        if key not in self._series:
            path = self.path(market, tf)
            self._paths[key] = path
            if not path.exists():
                self._series[key] = {}
            elif self.fmt == "csv":
                self._series[key] = read_csv_rows(path)
            else:
                self._series[key] = read_parquet_rows(path)
        return self._series[key]

    async def present(
        self, market: str, tf: Timeframe, start: datetime, end: datetime
    ) -> list[datetime]:
        lo, hi = start.timestamp(), end.timestamp()
        rows = self._load(market, tf)
        return [datetime.fromtimestamp(e, UTC) for e in sorted(rows) if lo <= e < hi]

    async def write(self, market: str, tf: Timeframe, candles: Sequence[HistCandle]) -> None:
        rows = self._load(market, tf)
        flat: dict[object, str] = {}  # a long gap repeats one line
        for c in candles:
            if c.filled:
                line = flat.get(c.close)
                if line is None:
                    line = flat[c.close] = _line(c)
            else:
                line = _line(c)
            rows[int(c.start.timestamp())] = line
        self._dirty.add((market, tf.name))
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            await self.flush()

    async def finish(self, market: str, tf: Timeframe) -> None:
        key = (market, tf.name)
        self._flush_one(key)
        self._series.pop(key, None)

    def _flush_one(self, key: tuple[str, str]) -> None:
        if key in self._dirty:
            try:
                write_rows(self._paths[key], self._series[key], self.fmt)
            except OSError as exc:
                raise TargetError(f"cannot write {self._paths[key]}: {exc.strerror}") from exc
            self._dirty.discard(key)

    async def flush(self) -> None:
        for key in list(self._dirty):
            self._flush_one(key)
        self._last_flush = time.monotonic()

    async def close(self) -> None:
        await self.flush()
        self._series.clear()
