"""Replay recorded market data as a ``Feed``: candle files and trade files, at any speed.

A candle becomes four synthetic prints (open, the nearer extreme, the other extreme, close) at
0 %, 25 %, 50 % and 99 % of its interval, volume split evenly: a path through the bar that is
plausible (a rising bar dips first, a falling bar spikes first), so stops and fills in a replay
behave like they would have. Files are checked as they stream; a bad row raises
``ReplayFileError`` naming the file and line.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from trading.candle_file import CandleFileError, FileCandle, csv_rows, open_text, read_candles
from trading.domain import TradePrint
from trading.events import FeedGapped
from trading.timeframes import timeframe_seconds

TRADE_COLUMNS = ("timestamp_utc", "price", "amount", "side")
_SIDES = {"buy": "BID", "sell": "ASK"}
_FRACTIONS = (0.0, 0.25, 0.5, 0.99)
_TIMEFRAME_IN_NAME = re.compile(r"_(\d+[smhd])\.csv(?:\.gz)?$")


class ReplayFileError(CandleFileError):
    """A replay file that cannot be used; the message names the file (and line)."""


@dataclass(frozen=True, slots=True)
class ReplayFile:
    """One recorded file for ``market``. ``timeframe`` is needed for candle files whose name
    does not end in it (``..._1m.csv``); trade files need none."""

    path: Path
    market: str
    timeframe: str | None = None

    def kind(self) -> str:
        """``"candles"`` or ``"trades"``, from the header."""
        if not self.path.is_file():
            raise ReplayFileError(f"{self.path}: no such file")
        with open_text(self.path) as handle:
            header = {c.strip() for c in handle.readline().split(",")}
        if {"open", "high", "low", "close"} <= header:
            return "candles"
        if set(TRADE_COLUMNS) <= header:
            return "trades"
        raise ReplayFileError(f"{self.path}:1: neither a candle nor a trade file header")

    def candle_timeframe(self) -> str:
        name = self.timeframe
        if name is None:
            match = _TIMEFRAME_IN_NAME.search(self.path.name)
            if match is None:
                raise ReplayFileError(f"{self.path}: pass the timeframe of this candle file")
            name = match.group(1)
        try:
            timeframe_seconds(name)
        except ValueError as exc:
            raise ReplayFileError(f"{self.path}: timeframe {name!r} {exc}") from exc
        return name


def candle_prints(candle: FileCandle, market: str, seconds: int) -> list[TradePrint]:
    """The four synthetic prints of one candle (see the module docstring)."""
    if candle.close >= candle.open:
        path = (candle.open, candle.low, candle.high, candle.close)
    else:
        path = (candle.open, candle.high, candle.low, candle.close)
    share = candle.volume / 4
    volumes = (share, share, share, candle.volume - 3 * share)
    out: list[TradePrint] = []
    previous = candle.open
    for price, volume, fraction in zip(path, volumes, _FRACTIONS, strict=True):
        at = candle.start + timedelta(seconds=seconds * fraction)
        side = "BID" if price >= previous else "ASK"
        out.append(TradePrint(market, price, volume, at, side))
        previous = price
    return out


def read_candle_prints(file: ReplayFile) -> Iterator[TradePrint]:
    seconds = timeframe_seconds(file.candle_timeframe())
    for candle in read_candles(file.path):
        yield from candle_prints(candle, file.market, seconds)


def read_trade_prints(file: ReplayFile) -> Iterator[TradePrint]:
    """Rows ``timestamp_utc,price,amount,side[,trade_id]``, time-ordered (ties allowed)."""
    path = file.path
    previous: datetime | None = None
    for line, row in csv_rows(path, TRADE_COLUMNS, ReplayFileError):
        try:
            at = datetime.fromisoformat(row["timestamp_utc"]).astimezone(UTC)
            price, amount = Decimal(row["price"]), Decimal(row["amount"])
            side = _SIDES[row["side"].strip().lower()]
            raw_id = (row.get("trade_id") or "").strip()
            trade_id = int(raw_id) if raw_id else None
        except (ValueError, InvalidOperation, TypeError, KeyError, AttributeError) as exc:
            raise ReplayFileError(f"{path}:{line}: unreadable row ({exc!r})") from exc
        if previous is not None and at < previous:
            raise ReplayFileError(f"{path}:{line}: unsorted timestamp {at.isoformat()}")
        if price <= 0 or amount < 0:
            raise ReplayFileError(f"{path}:{line}: price must be > 0 and amount >= 0")
        previous = at
        yield TradePrint(file.market, price, amount, at, side, trade_id)


class ReplayFeed:
    """Prints from recorded files, merged by time, paced by ``speed``.

    ``speed`` is a factor of real time (1.0 real time, 60.0 sixty times faster) or ``None``
    for as fast as possible, yielding to the loop every ``batch`` prints so the rest of the
    engine keeps running. ``start``/``end`` cut a slice (by print time, end exclusive).
    ``clock`` is the time of the last print: the simulated "now" for the engine.
    """

    def __init__(
        self,
        files: Sequence[ReplayFile],
        *,
        speed: float | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        batch: int = 500,
    ) -> None:
        if not files:
            raise ValueError("at least one replay file is required")
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.files = tuple(files)
        self._kinds = [f.kind() for f in self.files]  # fail fast on a missing or alien file
        for file, kind in zip(self.files, self._kinds, strict=True):
            if kind == "candles":
                file.candle_timeframe()
        self.speed = speed
        self.start_at, self.end_at = start, end
        self.batch = batch
        self.clock: datetime | None = None
        self.count = 0
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        self._stopped.clear()

    async def stop(self) -> None:
        self._stopped.set()

    def take_gaps(self) -> list[FeedGapped]:
        return []

    def _sources(self) -> Iterator[TradePrint]:
        streams = [
            read_candle_prints(f) if kind == "candles" else read_trade_prints(f)
            for f, kind in zip(self.files, self._kinds, strict=True)
        ]
        return heapq.merge(*streams, key=lambda p: p.at)

    async def prints(self) -> AsyncIterator[TradePrint]:
        loop = asyncio.get_running_loop()
        origin: tuple[float, datetime] | None = None
        for p in self._sources():
            if self._stopped.is_set() or (self.end_at is not None and p.at >= self.end_at):
                return
            if self.start_at is not None and p.at < self.start_at:
                continue
            delay = 0.0
            if self.speed is not None:
                if origin is None:
                    origin = (loop.time(), p.at)
                target = origin[0] + (p.at - origin[1]).total_seconds() / self.speed
                delay = target - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                if self._stopped.is_set():
                    return
            elif self.count % self.batch == 0:
                await asyncio.sleep(0)
            self.clock = p.at
            self.count += 1
            yield p
