"""Deployment files are tested where they live: paths are relative to the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """A bot process of its own: a free HTTP port and a fresh SQLite store."""
    return {
        "UPBIT_BOT_HTTP__PORT": str(free_port()),
        "UPBIT_BOT_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
