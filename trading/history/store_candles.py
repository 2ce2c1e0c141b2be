"""Candles in the store (table ``candles``): the download target and the backtester's reader.

The backtester imports ``load_frame`` from here: it turns stored candles into the
``CandleFrame`` strategies see, converting each decimal to float exactly once, the way
``CandleFrame.from_bars`` does, so a backtest on the store and on a file agree bit for bit.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, Text, cast, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from trading.history.series import HistCandle
from trading.history.targets import TargetError
from trading.history.timeframes import Timeframe, parse_timeframe
from trading.store import create_engine, session_factory, upgrade
from trading.store.db import SQLITE_BEGIN
from trading.store.models import CandleRow
from trading.strategies import CandleFrame

_PRICES = ("open", "high", "low", "close", "volume")
_COLUMNS = (*_PRICES, "value")


def _mask(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}@{host}"


class StoreTarget:
    """Writes downloaded candles into the ``candles`` table with upserts (SQLite and
    PostgreSQL), one transaction per page, so a killed run keeps every finished page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url)
        self._sessions = session_factory(self._engine)
        self._lock = asyncio.Lock()  # SQLite has one writer; queue here, not on busy_timeout

    def describe(self) -> str:
        return f"store {_mask(self.url)}"

    async def open(self) -> None:
        try:
            await upgrade(self.url)
        except (SQLAlchemyError, OSError) as exc:
            raise TargetError(
                f"cannot use the store {_mask(self.url)}: {_first_line(exc)}"
            ) from exc

    async def present(
        self, market: str, tf: Timeframe, start: datetime, end: datetime
    ) -> list[datetime]:
        query = (
            select(CandleRow.start)
            .where(
                CandleRow.market == market,
                CandleRow.timeframe == tf.name,
                CandleRow.start >= start,
                CandleRow.start < end,
            )
            .order_by(CandleRow.start)
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def write(self, market: str, tf: Timeframe, candles: Sequence[HistCandle]) -> None:
        if not candles:
            return
        rows = [
            {
                "market": market,
                "timeframe": tf.name,
                "start": c.start,
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "volume": c.volume,
                "value": c.value,
                "filled": c.filled,
            }
            for c in candles
        ]
        dialect = self._engine.dialect.name
        insert = (
            postgresql.insert(CandleRow) if dialect == "postgresql" else sqlite.insert(CandleRow)
        )
        async with self._lock, self._sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            stmt = insert.on_conflict_do_update(
                index_elements=["market", "timeframe", "start"],
                set_={name: insert.excluded[name] for name in (*_COLUMNS, "filled")},
            )
            await session.execute(stmt, rows)

    async def finish(self, market: str, tf: Timeframe) -> None:
        """Every ``write`` already committed."""

    async def flush(self) -> None:
        """Every ``write`` already committed."""

    async def close(self) -> None:
        await self._engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _query(
    market: str, tf: Timeframe, start: datetime | None, end: datetime | None
) -> Select[Any]:
    query = select(CandleRow).where(CandleRow.market == market, CandleRow.timeframe == tf.name)
    if start is not None:
        query = query.where(CandleRow.start >= _aware(start))
    if end is not None:
        query = query.where(CandleRow.start < _aware(end))
    return query.order_by(CandleRow.start)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


async def _has_table(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return bool(
            await connection.run_sync(lambda c: inspect(c).has_table(CandleRow.__tablename__))
        )


async def _with_engine(store_or_url: str | AsyncEngine) -> tuple[AsyncEngine, bool]:
    if isinstance(store_or_url, AsyncEngine):
        return store_or_url, False
    engine = create_engine(store_or_url)
    if not await _has_table(engine):
        await engine.dispose()
        raise LookupError(
            f"{_mask(store_or_url)} has no candles table: fill it with "
            "`upbit-bot download --to-store` first"
        )
    return engine, True


async def load_candles(
    store_or_url: str | AsyncEngine,
    market: str,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
) -> list[HistCandle]:
    """Stored candles of one series with ``start <= candle.start < end``, oldest first
    (``None`` leaves that side open). Decimals come back digit for digit."""
    tf = parse_timeframe(timeframe)
    engine, owned = await _with_engine(store_or_url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.scalars(_query(market, tf, start, end))).all()
    finally:
        if owned:
            await engine.dispose()
    return [
        HistCandle(r.start, r.open, r.high, r.low, r.close, r.volume, r.value, r.filled)
        for r in rows
    ]


async def load_frame_async(
    store_or_url: str | AsyncEngine,
    market: str,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
) -> CandleFrame:
    """Like ``load_frame``, inside a running event loop."""
    tf = parse_timeframe(timeframe)
    columns = [CandleRow.start, *(cast(getattr(CandleRow, n), Text) for n in _PRICES)]
    query = _query(market, tf, start, end).with_only_columns(*columns)
    engine, owned = await _with_engine(store_or_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        if owned:
            await engine.dispose()
    count = len(rows)
    moments = [typing.cast(datetime, r[0]) for r in rows]
    starts = np.fromiter((int(m.timestamp()) for m in moments), np.int64, count)
    # text -> float64 is correctly rounded, the same value float(Decimal) gives
    prices = {
        name: np.array([r[i + 1] for r in rows], dtype=np.str_).astype(np.float64)
        if count
        else np.empty(0, np.float64)
        for i, name in enumerate(_PRICES)
    }
    return CandleFrame(start=starts, **prices)


def load_frame(
    url: str, market: str, timeframe: str, start: datetime | None, end: datetime | None
) -> CandleFrame:
    """Stored candles of ``market``/``timeframe`` in ``[start, end)`` as a ``CandleFrame``.

    Synchronous, for the backtester; works inside a running event loop too (it then runs in
    a worker thread). An empty frame means no stored candle in the range; a database without
    the candles table raises ``LookupError``; an unknown timeframe raises ``ValueError``.
    Filled intervals (no trade on Upbit) are flat candles with volume 0, so the frame has no
    holes inside one downloaded range.
    """

    def run() -> CandleFrame:
        return asyncio.run(load_frame_async(url, market, timeframe, start, end))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-frame") as pool:
        return pool.submit(run).result()


__all__ = ["StoreTarget", "load_candles", "load_frame", "load_frame_async"]
