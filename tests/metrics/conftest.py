"""A migrated SQLite store and a fresh ``Metrics`` with its own registry per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.metrics import Metrics
from trading.store import Store, create_engine, session_factory, upgrade


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(version="1.2.3", mode="paper", strategy="ma_cross", markets=("KRW-BTC",))


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found
