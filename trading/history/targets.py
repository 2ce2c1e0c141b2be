"""Where downloaded candles go: the store or files. Both keep what is already there, so a
second run asks Upbit only for what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from trading.history.series import HistCandle
from trading.history.timeframes import Timeframe


class TargetError(Exception):
    """The target cannot be read or written (a one-line reason for the user)."""


class CandleTarget(Protocol):
    """A place that holds candle series keyed by (market, timeframe, start)."""

    def describe(self) -> str:
        """Where the candles go, for the report (passwords masked)."""
        ...

    async def open(self) -> None:
        """Check the target is usable (writable, migrated) before anything is fetched."""
        ...

    async def present(
        self, market: str, tf: Timeframe, start: datetime, end: datetime
    ) -> list[datetime]:
        """Starts already held in ``[start, end)``, oldest first."""
        ...

    async def write(self, market: str, tf: Timeframe, candles: Sequence[HistCandle]) -> None:
        """Add or replace candles (one contiguous block, oldest first)."""
        ...

    async def finish(self, market: str, tf: Timeframe) -> None:
        """The series is complete for this run: persist it and drop what is held for it."""
        ...

    async def flush(self) -> None:
        """Make everything written so far durable (a checkpoint a crash cannot undo)."""
        ...

    async def close(self) -> None: ...
