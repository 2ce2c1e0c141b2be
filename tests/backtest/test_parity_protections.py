"""Parity for the protections (issue #13): with each protection on and tripping in the window,
the live engine in paper replay and ``run_backtest`` make the same fills, and the protection
changed the trades (the backtest without it trades differently)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.backtest.paper import paper_fills
from tests.backtest.test_parity import FIRST, backtest_fills
from tests.engine.conftest import BUNDLED, limits
from trading.backtest import BacktestSpec
from trading.events import Event, ProtectionLifted, ProtectionTripped
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

MA = {"fast": 5, "slow": 20}

#: the trailing ATR stop these scenarios were written with (before fixed stops, issue #13)
OLD_TRAIL = {"trailing_stop": True, "stop_min_distance_pct": D("0.2")}


async def assert_protection_parity(
    tmp_path: Path, markets: tuple[str, ...], minutes: int, **risk: Any
) -> Counter[tuple[str, str | None]]:
    """Paper and backtest agree fill for fill; returns the paper run's trips by
    (protection, market) after checking that the protection changed the backtest's trades."""
    lim = limits(**risk)
    start, end = FIRST, FIRST + timedelta(minutes=minutes)
    events: list[Event] = []
    paper = await paper_fills(
        tmp_path,
        [(m, BUNDLED) for m in markets],
        strategy=build_strategy("ma_cross", "", MA),
        limits=lim,
        timeframe="1m",
        start=start,
        end=end,
        events=events,
    )
    spec = BacktestSpec(
        strategy=build_strategy("ma_cross", "", MA),
        limits=lim,
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    backtest, _ = backtest_fills(list(markets), start, end, spec)
    assert len(paper) >= 10
    assert backtest == paper

    off = {k: v for k, v in risk.items() if k.split("_")[0] not in ("stoploss", "drawdown", "low")}
    unguarded = BacktestSpec(
        strategy=build_strategy("ma_cross", "", MA),
        limits=limits(**off),
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    assert backtest_fills(list(markets), start, end, unguarded)[0] != backtest
    tripped = [e for e in events if isinstance(e, ProtectionTripped)]
    assert any(isinstance(e, ProtectionLifted) for e in events)
    return Counter((e.protection, e.market) for e in tripped)


async def test_stoploss_guard_across_markets(tmp_path: Path) -> None:
    trips = await assert_protection_parity(
        tmp_path,
        ("KRW-BTC", "KRW-ETH"),
        1500,
        atr_stop_mult=D(1),
        **OLD_TRAIL,
        position_size_krw=D(3_000_000),
        stoploss_guard_trades=3,
        stoploss_guard_lookback_minutes=120,
        stoploss_guard_pause_minutes=60,
    )
    assert trips[("stoploss_guard", None)] >= 2


async def test_stoploss_guard_per_market(tmp_path: Path) -> None:
    trips = await assert_protection_parity(
        tmp_path,
        ("KRW-BTC", "KRW-ETH"),
        1500,
        atr_stop_mult=D(1),
        **OLD_TRAIL,
        position_size_krw=D(3_000_000),
        stoploss_guard_trades=2,
        stoploss_guard_lookback_minutes=120,
        stoploss_guard_pause_minutes=60,
        stoploss_guard_per_market=True,
    )
    assert trips[("stoploss_guard", "KRW-BTC")] >= 2
    assert trips[("stoploss_guard", "KRW-ETH")] >= 2


async def test_drawdown_guard(tmp_path: Path) -> None:
    trips = await assert_protection_parity(
        tmp_path,
        ("KRW-BTC", "KRW-ETH"),
        1500,
        atr_stop_mult=D(1),
        **OLD_TRAIL,
        position_size_krw=D(3_000_000),
        drawdown_guard_pct=D("0.5"),
        drawdown_guard_trades=2,
        drawdown_guard_lookback_minutes=180,
        drawdown_guard_pause_minutes=60,
    )
    assert trips[("drawdown_guard", None)] >= 2


async def test_low_profit_guard(tmp_path: Path) -> None:
    trips = await assert_protection_parity(
        tmp_path,
        ("KRW-BTC", "KRW-ETH"),
        1500,
        atr_stop_mult=D(0),
        position_size_krw=D(3_000_000),
        low_profit_trades=2,
        low_profit_pct=D(0),
        low_profit_lookback_minutes=180,
        low_profit_pause_minutes=60,
    )
    assert trips[("low_profit", "KRW-BTC")] >= 2
    assert trips[("low_profit", "KRW-ETH")] >= 2
