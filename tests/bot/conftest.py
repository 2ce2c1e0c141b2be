"""Every config test runs in an empty directory: a developer's ./.env or ./config.toml must
never leak into the results."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("UPBIT_BOT_CONFIG", "UPBIT_BOT_ENV_FILE", "UPBIT_ACCESS_KEY", "UPBIT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "UPBIT_BOT_HTTP__PORT": str(free_port()),
        "UPBIT_BOT_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
