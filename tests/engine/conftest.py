"""An engine assembled exactly as the bot assembles it, on a migrated SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from trading.candle_file import read_candles
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.events import Event
from trading.marketdata.replay import ReplayFeed, ReplayFile
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

BUNDLED = Path(__file__).resolve().parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"


#: the exit, cooldown, volatility and protection settings these scenarios were written with:
#: the defaults before issue #13 adopted the walk-forward's, pinned so that no scenario
#: depends on the embedded defaults
BEFORE_13: dict[str, object] = {
    "stop_min_distance_pct": D(1),
    "take_profit_pct": D(0),
    "max_holding_minutes": 0,
    "exit_profit_only": False,
    "stop_cooldown_candles": 5,
    "volatility_halt_percentile": D(99),
    "stoploss_guard_trades": 0,
}


def limits(**changes: object) -> RiskLimits:
    base: dict[str, object] = {
        **BEFORE_13,
        "position_size_krw": D(1_000_000),
        "max_open_positions": 3,
        "max_slippage_bps": 50,
        "slippage_mode": "refuse",
        "daily_loss_limit_krw": D(5_000_000),
        "max_drawdown_pct": D(50),
        "atr_period": 14,
        "atr_stop_mult": D(3),
        "take_profit_pct": D(0),
        "volatility_halt_pct": D(50),
    }
    return RiskLimits(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


@pytest.fixture
def events() -> list[Event]:
    return []


async def paper_rig(
    store: Store, events: list[Event], *, risk: RiskLimits | None = None, **spec: object
) -> EngineRig:
    strategy = build_strategy("ma_cross", "", {"fast": 5, "slow": 20})
    return await assemble(
        EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=True, **spec),  # type: ignore[arg-type]
        strategy=strategy,
        limits=risk or limits(),
        store=store,
        sink=events.append,
        rules=UpbitMarketRules(),
    )


async def replay(rig: EngineRig, minutes: int, *, from_minute: int = 0, until=None) -> int:
    """Feed minutes ``from_minute``..``from_minute + minutes`` of the bundled real data through
    the engine's inbox; ``until(rig)`` true stops early (checked every 50 prints)."""
    start = next(read_candles(BUNDLED)).start + timedelta(minutes=from_minute)
    feed = ReplayFeed(
        [ReplayFile(BUNDLED, "KRW-BTC")], start=start, end=start + timedelta(minutes=minutes)
    )
    count = 0
    await feed.start()
    async for print_ in feed.prints():
        rig.loop.put_print(print_)
        count += 1
        if count % 50 == 0:
            await rig.loop.drain()
            if until is not None and until(rig):
                break
    await feed.stop()
    await rig.loop.drain()
    return count


def facade(rig: EngineRig, store: Store, events: list[Event]) -> EngineFacade:
    return EngineFacade(rig.engine, store, sink=events.append, mode="paper")
