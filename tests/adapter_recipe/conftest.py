"""A migrated SQLite store, made here rather than borrowed from tests/engine/conftest.py,
which imports Upbit's market rules: nothing under tests/adapter_recipe/ may load the Upbit
adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trading.store import Store, create_engine, session_factory, upgrade


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tern.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()
