"""Optimizer fixtures: a real slice of the bundled KRW-BTC minutes, risk features off.

The bundled file is segment A (13,872 complete minutes, 2018-01-22 .. 02-01) plus a short
segment B two years later; the tests take the first 6,000 minutes of A, no gaps.
PostgreSQL tests get a private database, dropped when the session ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_SKIP_PREFIX
from trading.backtest import load_frame
from trading.risk.limits import RiskLimits
from trading.strategies import CandleFrame
from trading.upbit.market_rules import UpbitMarketRules

BUNDLED = Path(__file__).parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
SLICE_BARS = 6000
PG_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1:5432")

OFF_CONFIG = """[risk]
position_size_krw = 1000000
max_open_positions = 1
atr_stop_mult = 0
take_profit_pct = 0
volatility_halt_pct = 0
daily_loss_limit_krw = 0
max_drawdown_pct = 0
cooldown_candles = 0
stop_cooldown_candles = 0

[paper]
start_krw = 100000000
slippage_bps = 0
fee_rate = 0.0005
"""


@pytest.fixture(scope="session")
def frame() -> CandleFrame:
    return load_frame(BUNDLED)[:SLICE_BARS]


@pytest.fixture
def spec_fields() -> dict[str, Any]:
    """``BacktestSpec`` fields without the strategy: plain strategy, no risk features."""
    limits = RiskLimits(
        position_size_krw=Decimal(1_000_000),
        max_open_positions=1,
        atr_stop_mult=Decimal(0),
        volatility_halt_pct=Decimal(0),
        volatility_halt_percentile=Decimal(0),
        daily_loss_limit_krw=Decimal(0),
        max_drawdown_pct=Decimal(0),
    )
    return {
        "limits": limits,
        "timeframe": "1m",
        "start_krw": Decimal(100_000_000),
        "fee_rate": Decimal("0.0005"),
        "slippage_bps": Decimal(0),
        "rules": UpbitMarketRules(),
    }


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'optuna.db'}"


@pytest.fixture
def off_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(OFF_CONFIG)
    return path


def _admin(sql: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"postgresql://postgres@{PG_HOST}/test", isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a private PostgreSQL database for optuna's tables (sync driver: psycopg)."""
    import sqlalchemy as sa

    name = f"test_optuna_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        first = str(exc).strip().splitlines()[0]
        pytest.skip(f"{PG_SKIP_PREFIX} at {PG_HOST} ({first})")
    try:
        yield f"postgresql://postgres@{PG_HOST}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
