"""CLI tests run in an empty directory: a developer's ./config.toml or ./.env must not leak in."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("UPBIT_BOT_CONFIG", "UPBIT_BOT_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
