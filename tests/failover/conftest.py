"""PostgreSQL for the failover tests: the lock tests share the ``test`` database (each test
locks its own random key); the two-process tests get a database of their own, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

PG_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1:5432")
PG_ADMIN_DSN = f"postgresql://postgres@{PG_HOST}/test"


async def admin(sql: str, *args: object, dsn: str = PG_ADMIN_DSN) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _reachable() -> str:
    try:
        await admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


@pytest.fixture
async def pg_test_url() -> str:
    """The shared ``test`` database (SQLAlchemy URL)."""
    problem = await _reachable()
    if problem:
        pytest.skip(f"PostgreSQL not available at {PG_HOST} ({problem})")
    return f"postgresql+asyncpg://postgres@{PG_HOST}/test"


@pytest.fixture
async def pg_fresh_url() -> AsyncIterator[str]:
    """A new, empty database for one test; dropped (connections forced out) at the end."""
    problem = await _reachable()
    if problem:
        pytest.skip(f"PostgreSQL not available at {PG_HOST} ({problem})")
    name = f"failover_{uuid.uuid4().hex[:12]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}/{name}"
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
