"""Retention: delete what is older than its table's keep, in short batches, and give the
space back where the database needs to be asked.

Kept forever, and never touched here: orders, order attempts, fills (the PnL is derived from
them), positions, parameter changes, bot state. Pruned (``TABLES``):

- ``notifications``: only rows whose delivery ended (``sent_at`` set: delivered, or dropped
  after the notifier gave up, which audits it); an unsent message is never deleted.
- ``audit_log``, ``equity_snapshots``, ``balance_snapshots``: by their time column.
- ``candles``: by start, per series (market, timeframe), and never the newest
  ``candles_floor`` of a series, so a strategy's warm-up and ``/backtest`` keep their data
  whatever the keep says.

Each batch is its own short transaction (at most ``batch_rows`` rows), so a year of backlog
never holds SQLite's one write lock or a PostgreSQL transaction for long, and the loop gets
a turn between batches. SQLite does not shrink its file by itself: a file whose
``auto_vacuum`` is INCREMENTAL (new files are made so, see ``db.py``) gives free pages back
with ``PRAGMA incremental_vacuum`` in steps; an older file (auto_vacuum NONE) is rewritten by
one ``VACUUM`` when more than ``VACUUM_FREE_SHARE`` of it is free, which also switches it to
INCREMENTAL. PostgreSQL's autovacuum makes the space reusable; nothing is asked of it here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from trading.store.db import SQLITE_BEGIN
from trading.store.models import (
    AuditEntry,
    BalanceSnapshot,
    CandleRow,
    EquitySnapshot,
    Notification,
)
from trading.store.types import utcnow

log = logging.getLogger(__name__)
TABLES = ("notifications", "audit_log", "equity_snapshots", "balance_snapshots", "candles")
#: the engine's in-memory history (trading.marketdata.candles.DEFAULT_HISTORY): the newest
#: candles of a series that retention never deletes
CANDLES_FLOOR = 1000
#: SQLite without incremental auto_vacuum: VACUUM once more than this share of pages is free
VACUUM_FREE_SHARE = 0.25
#: pages given back per ``incremental_vacuum`` step (1 MB at the default 4 KB page)
VACUUM_STEP_PAGES = 256

_TIMED: dict[str, tuple[type[Any], Any]] = {
    "notifications": (Notification, Notification.sent_at),
    "audit_log": (AuditEntry, AuditEntry.at),
    "equity_snapshots": (EquitySnapshot, EquitySnapshot.taken_at),
    "balance_snapshots": (BalanceSnapshot, BalanceSnapshot.taken_at),
}


@dataclass(slots=True)
class RetentionResult:
    """What one run deleted per table, and what the file gave back (SQLite)."""

    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    freed_bytes: int = 0
    vacuum: str = "none"  # none | incremental | full | postgresql | failed
    reclaim_seconds: float = 0.0
    stopped: bool = False

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class Retention:
    """Deletes rows older than ``keep[table]`` (a table not in ``keep`` is left alone).

    ``clock`` is "now" (the wall clock in the bot; a simulated one in the soak benchmark);
    ``should_stop`` is asked between batches, so a shutdown does not wait for a long backlog.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keep: Mapping[str, timedelta],
        *,
        batch_rows: int = 1000,
        candles_floor: int = CANDLES_FLOOR,
        clock: Callable[[], datetime] = utcnow,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        unknown = sorted(set(keep) - set(TABLES))
        if unknown:
            raise ValueError(f"no retention for table(s) {', '.join(unknown)}")
        if batch_rows < 1 or candles_floor < 0:
            raise ValueError("batch_rows must be >= 1 and candles_floor >= 0")
        self._sessions = sessions
        self.keep = dict(keep)
        self.batch_rows = batch_rows
        self.candles_floor = candles_floor
        self.clock = clock
        self.should_stop = should_stop

    async def run(self) -> RetentionResult:
        """One pass over every kept table, then the space reclaim."""
        started = time.perf_counter()
        result = RetentionResult()
        now = self.clock()
        for table in TABLES:
            if table not in self.keep:
                continue
            cutoff = now - self.keep[table]
            if table == "candles":
                result.deleted[table] = await self._candles(cutoff, result)
            else:
                model, column = _TIMED[table]
                result.deleted[table] = await self._timed(model, column < cutoff, result)
            if result.stopped:
                break
        if not result.stopped:
            reclaim_started = time.perf_counter()
            try:
                result.freed_bytes, result.vacuum = await self._reclaim(result.total)
            except (SQLAlchemyError, sqlite3.Error) as exc:  # the rows are gone all the same
                log.warning("retention: giving the space back failed: %s", exc)
                result.vacuum = "failed"
            result.reclaim_seconds = time.perf_counter() - reclaim_started
        result.seconds = time.perf_counter() - started
        return result

    async def _batch(self, model: type[Any], where: ColumnElement[bool]) -> int:
        """Delete at most ``batch_rows`` rows matching ``where``, in one short transaction."""
        key = model.id
        chosen = select(key).where(where).order_by(key).limit(self.batch_rows)
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            ids = (await session.scalars(chosen)).all()
            if ids:
                await session.execute(
                    delete(model).where(key.in_(ids)),
                    execution_options={"synchronize_session": False},
                )
        return len(ids)

    async def _drain(self, step: Callable[[], Awaitable[int]], result: RetentionResult) -> int:
        total = 0
        while not self.should_stop():
            deleted = await step()
            total += deleted
            result.batches += 1 if deleted else 0
            if deleted < self.batch_rows:
                return total
            await asyncio.sleep(0)  # other writers take the lock between batches
        result.stopped = True
        return total

    async def _timed(
        self, model: type[Any], where: ColumnElement[bool], result: RetentionResult
    ) -> int:
        return await self._drain(lambda: self._batch(model, where), result)

    async def _candles(self, cutoff: datetime, result: RetentionResult) -> int:
        async with self._sessions() as session:
            series = (
                await session.execute(select(CandleRow.market, CandleRow.timeframe).distinct())
            ).all()
        total = 0
        for market, timeframe in series:
            same = (CandleRow.market == market) & (CandleRow.timeframe == timeframe)
            async with self._sessions() as session:
                floor = await session.scalar(
                    select(CandleRow.start)
                    .where(same)
                    .order_by(CandleRow.start.desc())
                    .offset(self.candles_floor)
                    .limit(1)
                )
            if floor is None:  # no more than the floor in this series
                continue
            # ``floor`` is the newest candle beyond the floor: delete it and older ones
            cut = min(cutoff, floor + timedelta(microseconds=1))
            total += await self._drain(functools.partial(self._candle_batch, same, cut), result)
            if result.stopped:
                break
        return total

    async def _candle_batch(self, same: ColumnElement[bool], cut: datetime) -> int:
        chosen = (
            select(CandleRow.start)
            .where(same, CandleRow.start < cut)
            .order_by(CandleRow.start)
            .limit(self.batch_rows)
        )
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            starts = (await session.scalars(chosen)).all()
            if starts:
                await session.execute(
                    delete(CandleRow).where(same, CandleRow.start.in_(starts)),
                    execution_options={"synchronize_session": False},
                )
        return len(starts)

    async def _reclaim(self, deleted: int) -> tuple[int, str]:
        """Give freed pages back to the file system (SQLite); bytes freed and how."""
        engine: AsyncEngine = self._sessions.kw["bind"]
        if engine.dialect.name != "sqlite":
            return 0, "postgresql"  # autovacuum makes the space reusable
        if not deleted:
            return 0, "none"
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            db: Any = raw.driver_connection  # aiosqlite.Connection, outside any transaction
            mode, pages, free, size = await _pragmas(db)
            if mode == 2:  # INCREMENTAL
                while free > 0 and not self.should_stop():
                    # sqlite3's execute() steps the pragma once (one page); a script runs it
                    # to the end: VACUUM_STEP_PAGES pages, one short write transaction
                    await db.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});")
                    after = (await _pragmas(db))[2]
                    if after >= free:
                        break
                    free = after
                    await asyncio.sleep(0)  # the write lock is free between steps
                how = "incremental"
            elif pages and free / pages > VACUUM_FREE_SHARE:
                await db.execute("PRAGMA auto_vacuum=INCREMENTAL")
                await db.execute("VACUUM")  # rewrites the file; INCREMENTAL from now on
                how = "full"
            else:
                return 0, "none"
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            after_size = (await _pragmas(db))[3]
        return max(0, size - after_size), how


async def _pragmas(db: Any) -> tuple[int, int, int, int]:
    """(auto_vacuum mode, page count, free pages, size in bytes) of the main file."""
    values = []
    for name in ("auto_vacuum", "page_count", "freelist_count", "page_size"):
        async with db.execute(f"PRAGMA {name}") as cursor:
            row = await cursor.fetchone()
            values.append(int(row[0]))
    mode, pages, free, page_size = values
    return mode, pages, free, pages * page_size


async def table_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows per pruned table (tests, the soak benchmark)."""
    models: dict[str, type[Any]] = {t: m for t, (m, _) in _TIMED.items()}
    models["candles"] = CandleRow
    async with sessions() as session:
        return {
            table: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for table, model in models.items()
        }


async def database_bytes(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The database's size on disk (SQLite: main file pages; PostgreSQL: pg_database_size)."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            return int(await session.scalar(text("SELECT pg_database_size(current_database())")))
        pages = int(await session.scalar(text("PRAGMA page_count")) or 0)
        size = int(await session.scalar(text("PRAGMA page_size")) or 0)
        return pages * size
