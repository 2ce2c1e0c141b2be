"""Equity, PnL and positions, read from the engine facade at scrape time and cached.

A scrape reads the account once (paper: in memory; live: one ``/v1/accounts`` call) and only
the fills recorded since the last scrape (``EngineFacade.realized`` pages by fill id), so
10,000 stored fills cost nothing per scrape. Results are kept for ``cache_s`` so a scrape
storm cannot hammer the store or the exchange; concurrent scrapes share one read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from trading.engine.account import HOLDING
from trading.engine.facade import EngineFacade

log = logging.getLogger(__name__)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    equity_krw: Decimal
    free_krw: Decimal
    realized_pnl_krw: Decimal
    unrealized_pnl_krw: Decimal
    open_positions: int
    paused: bool
    kill_switch: bool
    dust_holdings: int = 0  # markets holding dust: coin below the minimum order, no position
    dust_krw: Decimal = ZERO  # its value at the last price
    #: the markets new entries may go into (a fixed list, or top:N's last choice)
    universe: tuple[str, ...] = ()
    held_outside: tuple[str, ...] = ()  # left the universe with a position: exits only
    universe_changes: int = 0  # top:N choices that changed it since start (not the first)


class EngineReader:
    """Keeps the last ``EngineSnapshot``; ``refresh`` re-reads it when older than ``cache_s``."""

    def __init__(
        self,
        *,
        cache_s: float = 1.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache_s = cache_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self._booked = 0  # realized entries already summed
        self._realized = ZERO
        self.snapshot: EngineSnapshot | None = None
        self.reads = 0
        self.errors = 0

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self.cache_s

    async def refresh(self, facade: EngineFacade) -> EngineSnapshot | None:
        """The cached snapshot, re-read first if stale. A slow or failing read keeps the old
        one (and is counted): a scrape waits at most ``timeout_s``."""
        if self._fresh():
            return self.snapshot
        async with self._lock:
            if self._fresh():  # another scrape read it while this one waited
                return self.snapshot
            try:
                async with asyncio.timeout(self.timeout_s):
                    self.snapshot = await self._read(facade)
                self.reads += 1
            except Exception as exc:
                self.errors += 1
                log.warning("metrics: engine state not read: %r", exc)
            self._read_at = self._clock()  # also after a failure: retry after cache_s
        return self.snapshot

    async def _read(self, facade: EngineFacade) -> EngineSnapshot:
        status = await facade.status()
        booked = await facade.realized()  # incremental: only fills since the last call
        for item in booked[self._booked :]:
            if item.side == "ask":
                self._realized += item.pnl_krw
        self._booked = len(booked)
        unrealized = dust_krw = ZERO
        universe = status.universe
        for position in status.positions:
            price = status.prices.get(position.market)
            entry = position.avg_entry_price
            if position.state in HOLDING and position.volume and price and entry is not None:
                unrealized += (price - entry) * position.volume
            if position.dust and price:
                dust_krw += position.dust * price
        return EngineSnapshot(
            equity_krw=status.equity_krw,
            free_krw=status.free_krw,
            realized_pnl_krw=self._realized,
            unrealized_pnl_krw=unrealized,
            open_positions=sum(1 for p in status.positions if p.state in HOLDING),
            paused=status.paused_all,
            kill_switch=status.kill_switch,
            dust_holdings=sum(1 for p in status.positions if p.dust),
            dust_krw=dust_krw,
            universe=status.markets if universe is None else universe.markets,
            held_outside=() if universe is None else universe.held_outside,
            universe_changes=0 if universe is None else universe.changes,
        )


__all__ = ["EngineReader", "EngineSnapshot"]
