"""The SQLite store and its folder are created readable by their owner only; an existing
store file that others may read is tightened (issue #12.6)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from trading.store import Store, create_engine, session_factory, upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: whatever is private is so because the bot made it so, not the umask."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("open_umask")
async def test_a_fresh_store_and_its_folders_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "nested" / "bot.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        await Store(session_factory(engine)).audit(
            transport="console", command="status", outcome="ok", user_id="1", chat_id="1"
        )
        written = [db, db.with_name("bot.db-wal"), db.with_name("bot.db-shm")]
        assert all(p.exists() for p in written)
        assert {str(p.name): mode(p) for p in written} == {p.name: 0o600 for p in written}
    finally:
        await engine.dispose()
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "nested") == 0o700


async def test_an_existing_store_readable_by_others_is_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade(url)
    db.chmod(0o644)
    caplog.set_level(logging.WARNING)
    create_engine(url).sync_engine.dispose()
    assert mode(db) == 0o600
    assert f"{db} was readable by others (mode 644): now 600" in caplog.text


async def test_a_world_writable_folder_is_left_alone_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    caplog.set_level(logging.WARNING)
    await upgrade(f"sqlite+aiosqlite:///{shared / 'bot.db'}")
    assert mode(shared) == 0o777
    assert mode(shared / "bot.db") == 0o600
    assert f"the store's folder {shared} is writable by every user" in caplog.text
