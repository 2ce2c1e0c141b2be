"""The Upbit boundary contract covers every package of ``trading/``: import-linter's forbidden
contract skips a source module that contains the forbidden one, so ``trading`` itself cannot be
the source and each package is listed; a new one must join the list."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_upbit_contract_lists_every_trading_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (upbit,) = [c for c in contracts if c.get("forbidden_modules") == ["trading.upbit"]]
    packages = {
        f"trading.{p.stem if p.suffix == '.py' else p.name}"
        for p in (ROOT / "trading").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert packages - {"trading.upbit"} == set(upbit["source_modules"]) - {"bot", "handlers"}
