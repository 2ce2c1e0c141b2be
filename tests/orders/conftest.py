"""The fake exchange and client fixtures of tests/upbit, plus a migrated SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.upbit.conftest import client, events, fake  # noqa: F401  (fixtures)
from trading.store import Store, create_engine, session_factory, upgrade


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()
