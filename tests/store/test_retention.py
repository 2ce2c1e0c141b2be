"""Retention on SQLite and PostgreSQL: exactly the old rows go, in bounded batches; unsent
notifications, orders and fills always stay; a SQLite file gives the space back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from trading.store import Store, create_engine, session_factory, upgrade
from trading.store.models import (
    AuditEntry,
    BalanceSnapshot,
    CandleRow,
    EquitySnapshot,
    Fill,
    Notification,
    Order,
)
from trading.store.retention import TABLES, table_counts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEEP = {t: timedelta(days=30) for t in TABLES}
OLD, NEW = NOW - timedelta(days=45), NOW - timedelta(days=5)
ONE = Decimal(1)


def _candle(market: str, timeframe: str, start: datetime) -> dict[str, Any]:
    prices = dict.fromkeys(("open", "high", "low", "close", "volume", "value"), ONE)
    return {"market": market, "timeframe": timeframe, "start": start, **prices}


async def _fill(store: Store, per_age: int, *, floor_series: int = 0) -> None:
    """``per_age`` old and new rows in every pruned table, plus old orders and fills; the
    notifications' old half is split into delivered and never sent."""
    rows: dict[type[Any], list[dict[str, Any]]] = {
        m: [] for m in (AuditEntry, EquitySnapshot, BalanceSnapshot, Notification, CandleRow)
    }
    for n, age in enumerate([OLD] * per_age + [NEW] * per_age):
        at = age + timedelta(seconds=n)
        rows[AuditEntry].append(
            {
                "at": at,
                "transport": "telegram",
                "command": "status",
                "arguments": {"pad": "x" * 200},
                "outcome": "ok",
            }
        )
        rows[EquitySnapshot].append({"equity_krw": ONE, "cash_krw": ONE, "taken_at": at})
        rows[BalanceSnapshot].append(
            {
                "currency": "KRW",
                "balance": ONE,
                "locked": ONE,
                "avg_buy_price": ONE,
                "taken_at": at,
            }
        )
        pending = n % 2 == 1  # every other row was never delivered
        rows[Notification].append(
            {
                "channel": "telegram",
                "kind": "fill",
                "payload": {"pad": "y" * 200},
                "created_at": at,
                "attempts": 1,
                "next_attempt_at": at,
                "sent_at": None if pending else at,
            }
        )
        rows[CandleRow] += [_candle(m, "1m", at) for m in ("KRW-BTC", "KRW-ETH")]
    # a short series: fewer candles than the floor, all old, so none may go
    rows[CandleRow] += [
        _candle("KRW-XRP", "1d", OLD - timedelta(days=n)) for n in range(floor_series)
    ]
    ancient = OLD - timedelta(days=400)  # orders and fills are kept forever, however old
    order = {"market": "KRW-BTC", "side": "bid", "ord_type": "price", "state": "done"}
    amounts = {"executed_volume": ONE, "executed_funds": ONE, "paid_fee": ONE}
    fill = {"market": "KRW-BTC", "side": "bid", "price": ONE, "volume": ONE, "funds": ONE}
    async with store._sessions() as session, session.begin():
        for model, batch in rows.items():
            await session.execute(insert(model), batch)
        await session.execute(
            insert(Order),
            [
                {
                    "intent_id": f"i{n}",
                    **order,
                    **amounts,
                    "created_at": ancient,
                    "updated_at": ancient,
                }
                for n in range(3)
            ],
        )
        await session.execute(
            insert(Fill),
            [
                {
                    "trade_uuid": f"t{n}",
                    "intent_id": f"i{n}",
                    **fill,
                    "fee": ONE,
                    "created_at": ancient,
                }
                for n in range(3)
            ],
        )


async def _count(store: Store, model: type[Any], *where: Any) -> int:
    async with store._sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_exactly_the_old_rows_go_and_unsent_orders_fills_stay(store: Store) -> None:
    # Arrange: 40 old and 40 new rows per table, batches of 7 so every table takes several
    await _fill(store, 40, floor_series=5)
    # Act
    result = await store.retention(KEEP, batch_rows=7, candles_floor=10, clock=lambda: NOW).run()
    # Assert
    assert result.deleted == {
        "notifications": 20,  # the 20 old delivered ones; the 20 old unsent ones stay
        "audit_log": 40,
        "equity_snapshots": 40,
        "balance_snapshots": 40,
        "candles": 80,  # 40 old per series of 80 (over the floor of 10); XRP's 5 stay
    }
    assert result.batches >= 80 // 7 + 5
    assert not result.stopped
    counts = await table_counts(store._sessions)
    assert counts == {
        "notifications": 60,
        "audit_log": 40,
        "equity_snapshots": 40,
        "balance_snapshots": 40,
        "candles": 85,
    }
    assert await _count(store, Notification, Notification.sent_at.is_(None)) == 40
    assert await _count(store, AuditEntry, AuditEntry.at < NOW - KEEP["audit_log"]) == 0
    assert await _count(store, Order) == 3
    assert await _count(store, Fill) == 3
    # a second run finds nothing
    again = await store.retention(KEEP, candles_floor=10, clock=lambda: NOW).run()
    assert again.total == 0


async def test_the_candle_floor_keeps_the_newest_of_each_series(store: Store) -> None:
    # 40 old + 40 new candles per series, floor 60: only the 20 oldest may go
    await _fill(store, 40)
    keep = {"candles": timedelta(days=30)}
    result = await store.retention(keep, candles_floor=60, clock=lambda: NOW).run()
    assert result.deleted == {"candles": 40}
    async with store._sessions() as session:
        oldest = await session.scalar(
            select(func.min(CandleRow.start)).where(CandleRow.market == "KRW-BTC")
        )
    assert oldest == OLD + timedelta(seconds=20)


async def test_a_stop_request_ends_the_run_between_batches(store: Store) -> None:
    await _fill(store, 30)
    asked = 0

    def should_stop() -> bool:
        nonlocal asked
        asked += 1
        return asked > 2

    result = await store.retention(
        {"audit_log": timedelta(days=30)},
        batch_rows=10,
        clock=lambda: NOW,
        should_stop=should_stop,
    ).run()
    assert result.stopped
    assert result.deleted == {"audit_log": 20}


def _file_bytes(url: str) -> int:
    path = Path(str(make_url(url).database))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def test_a_new_sqlite_file_gives_the_space_back(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        store = Store(session_factory(engine))
        await _fill(store, 1500)
        _checkpoint(url)
        before = _file_bytes(url)
        result = await store.retention(KEEP, batch_rows=500, clock=lambda: NOW).run()
        after = _file_bytes(url)
    finally:
        await engine.dispose()
    assert result.vacuum == "incremental"
    assert result.freed_bytes > 0
    assert after < before * 0.8, (before, after)
    with sqlite3.connect(make_url(url).database or "") as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL


async def test_an_older_sqlite_file_is_vacuumed_once_when_much_was_freed(
    tmp_path: Path,
) -> None:
    # Arrange: a file made before auto_vacuum was set (NONE), as every file until now
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)
    engine = create_engine(url)
    try:
        store = Store(session_factory(engine))
        await _fill(store, 1500)
        _checkpoint(url)
        before = _file_bytes(url)
        # Act
        result = await store.retention(KEEP, batch_rows=500, clock=lambda: NOW).run()
        after = _file_bytes(url)
    finally:
        await engine.dispose()
    # Assert: rewritten once, smaller, and incremental from now on
    assert result.vacuum == "full"
    assert after < before * 0.8, (before, after)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)


def _checkpoint(url: str) -> None:
    """Move the WAL into the main file, so the sizes compared are of the data alone."""
    with sqlite3.connect(make_url(url).database or "") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
