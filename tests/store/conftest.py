"""Every store test runs on SQLite (a tmp file) and on PostgreSQL (a private database).

PostgreSQL databases are created per test process with random names (so runs can repeat and
go in parallel), wiped between tests by recreating the ``public`` schema (milliseconds,
where CREATE DATABASE takes ~0.3 s), and dropped when the session ends.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from trading.store import Store, create_engine, session_factory, upgrade

PG_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1:5432")
PG_ADMIN_DSN = f"postgresql://postgres@{PG_HOST}/test"
PG_DSN = f"postgresql://postgres@{PG_HOST}/{{db}}"
PG_URL = f"postgresql+asyncpg://postgres@{PG_HOST}/{{db}}"


class PgDatabases:
    """Names of this session's databases: all of them, and those free for the next test."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.free: list[str] = []
        self.unavailable: str | None = None  # None: not probed yet; "": reachable


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _probe() -> str:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return ""


async def _wipe(name: str) -> None:
    conn = await asyncpg.connect(PG_DSN.format(db=name))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def _drop_all(names: list[str]) -> None:
    for name in names:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    databases = PgDatabases()
    yield databases
    if databases.created:
        asyncio.run(_drop_all(databases.created))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PgDatabases
) -> AsyncIterator[str]:
    """URL of an empty database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bot.sqlite3'}"
        return
    if pg_databases.unavailable is None:
        pg_databases.unavailable = await _probe()
    if pg_databases.unavailable:
        pytest.skip(f"PostgreSQL not available at {PG_HOST} ({pg_databases.unavailable})")
    if pg_databases.free:
        name = pg_databases.free.pop()
    else:
        name = f"test_store_{uuid.uuid4().hex[:16]}"
        await _admin(f'CREATE DATABASE "{name}"')
        pg_databases.created.append(name)
    yield PG_URL.format(db=name)
    await _wipe(name)
    pg_databases.free.append(name)


@pytest.fixture
async def migrated_url(store_url: str) -> str:
    await upgrade(store_url)
    return store_url


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[Store]:
    engine = create_engine(migrated_url)
    try:
        yield Store(session_factory(engine))
    finally:
        await engine.dispose()
