"""Engine and session factory; the caller owns them (no module-level state)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from trading.store.private import private_sqlite_file

SQLITE_BUSY_TIMEOUT_MS = 5000
#: Execution option naming how a SQLite transaction begins (DEFERRED, IMMEDIATE, EXCLUSIVE).
#: Writers ask for IMMEDIATE so they queue on busy_timeout up front instead of failing with
#: "database is locked" when a read lock cannot be upgraded.
SQLITE_BEGIN = "sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def _json_default(value: object) -> Any:
    """JSON columns accept Decimals (as strings, so they stay exact) and datetimes (ISO 8601)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _sqlite_begin): the module's own
    # handling skips BEGIN before SELECT and DDL, so reads and migrations were not atomic.
    dbapi_connection.isolation_level = None
    # WAL lets the HTTP API read while the engine writes; busy_timeout waits instead of
    # failing with "database is locked"; SQLite enforces foreign keys only when asked.
    # auto_vacuum INCREMENTAL lets retention give deleted pages back to the file system; it
    # takes effect only in a new file (before its first table, and before WAL is set) and is
    # a no-op on an older one, which retention's one VACUUM converts (store/retention.py).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = str(connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN} must be one of {sorted(_BEGIN_MODES)}, not {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    For a SQLite file the parent directory is created, so a fresh install just works, and the
    folder and file are made readable by their owner only (``private_sqlite_file``).
    """
    parsed = make_url(url)
    engine = _create_async_engine(parsed, echo=echo, json_serializer=json_dumps)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite_file(Path(database).expanduser())
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose rows stay readable after commit (no lazy reload on a closed session)."""
    return async_sessionmaker(engine, expire_on_commit=False)
