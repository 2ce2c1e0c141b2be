"""Sources of ``TradePrint``s: a venue's live tape (Upbit's: ``trading.upbit.feed``), or a
recorded file (``replay``).

The engine consumes one ``Feed`` the same way in paper, live and replay mode, so the code path
a backtest exercises is the one that trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from trading.domain import TradePrint
from trading.events import FeedGapped
from trading.marketdata.replay import ReplayFeed, ReplayFile, ReplayFileError

__all__ = ["Feed", "ReplayFeed", "ReplayFile", "ReplayFileError"]


@runtime_checkable
class Feed(Protocol):
    """What ``MarketData.run`` consumes. ``prints()`` ends after ``stop()`` (or end of file)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def prints(self) -> AsyncIterator[TradePrint]: ...

    def take_gaps(self) -> list[FeedGapped]:
        """Outages seen since the last call; the caller backfills them over REST."""
        ...
