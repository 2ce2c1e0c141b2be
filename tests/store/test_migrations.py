"""Migrations: reach head from empty, are idempotent, and build exactly what models.py says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Numeric, String, Table, Text, text

from trading.store import create_engine, current_revision, head_revision, upgrade
from trading.store.models import Base


def _diff(connection: Connection, metadata: MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _compare(url: str, metadata: MetaData) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff, metadata)
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_reaches_head(store_url: str) -> None:
    assert await current_revision(store_url) is None
    assert await upgrade(store_url) == head_revision()
    assert await current_revision(store_url) == head_revision()


async def test_upgrade_is_idempotent(store_url: str) -> None:
    first = await upgrade(store_url)
    assert await upgrade(store_url) == first
    assert await current_revision(store_url) == first


async def test_upgrade_does_not_depend_on_cwd(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert await upgrade(store_url) == head_revision()
    assert os.listdir(elsewhere) == []


async def test_models_match_migrations(migrated_url: str) -> None:
    assert await _compare(migrated_url, Base.metadata) == []


async def test_comparison_would_notice_a_type_drift(migrated_url: str) -> None:
    """Guards the test above: a wrong type or a missing column must show up as a diff."""
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    fills: Table = drifted.tables["fills"]
    wrong = Numeric(10, 2) if migrated_url.startswith("sqlite") else Text()
    fills.c.price.type = wrong
    fills.c.market.type = String(5)
    drifted.remove(drifted.tables["bot_state"])
    diff = repr(await _compare(migrated_url, drifted))
    assert "'price'" in diff
    assert "'market'" in diff
    assert "remove_table" in diff


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "bot.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    assert path.exists()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
            assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 5000
    finally:
        await engine.dispose()
