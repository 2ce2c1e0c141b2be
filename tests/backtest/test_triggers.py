"""Issue #13: intra-candle entry triggers in the backtest (the volatility breakout as traders
run it): the first candle whose high reaches the target fills at the target, or at its open
if it opened above it; the exit is the next UTC day's open; no cross, no trade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np

from tests.backtest.test_runner import limits
from trading.backtest import BacktestSpec, run_backtest
from trading.backtest.triggers import TriggerPlan
from trading.positions import ExitReason
from trading.strategies import CandleFrame, build_strategy
from trading.upbit.market_rules import UpbitMarketRules

DAY0 = datetime(2024, 3, 4, tzinfo=UTC)
M = 1_000_000  # prices in millions of KRW (BTC-like: a 1,000 KRW tick)
FLAT = (100, 100, 100, 100)
# 6h candles, four a UTC day: (open, high, low, close) in M
CANDLES = [
    *[FLAT] * 4,  # day 0
    (100, 102, 100, 101),
    *[(101, 101, 101, 101)] * 3,  # day 1: range 2M
    # day 2 opens at 100M: target 100M + 0.5 x 2M = 101M
    (100, 100.5, 99.5, 100.2),  # below the target
    (100.2, 101.5, 100.1, 101.2),  # reaches it inside the candle: fills at 101M
    *[(101.2, 101.2, 101.2, 101.2)] * 2,
    # day 3 opens at 101.5M (the exit): range of day 2 is 2M, target 102.5M
    (101.5, 101.6, 101.4, 101.5),
    (103, 103.5, 102.9, 103.2),  # opens above the target (a gap): fills at the open
    *[(103.2, 103.2, 103.2, 103.2)] * 2,
    (103.4, 103.4, 103.4, 103.4),  # day 4's open: the exit
]


def frame(candles: list[tuple[float, ...]]) -> CandleFrame:
    rows = np.array(candles) * M
    start = int(DAY0.timestamp()) + 21_600 * np.arange(len(candles))
    return CandleFrame(start, rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], np.ones(len(rows)))


def spec(**params: object) -> BacktestSpec:
    return BacktestSpec(
        strategy=build_strategy("volatility_breakout", "", {"k": 0.5, **params}),
        limits=limits(atr_period=1),
        timeframe="6h",
        slippage_bps=D(0),
        rules=UpbitMarketRules(),
    )


def at(candle: int, fraction: float = 0.0) -> datetime:
    return DAY0 + timedelta(hours=6 * candle + 6 * fraction)


def test_fills_at_the_target_or_the_open_above_it_and_exits_at_the_next_day_open() -> None:
    trades = run_backtest(spec(), {"KRW-BTC": frame(CANDLES)}).trades
    assert [(t.entry_at, t.entry_price, t.exit_at, t.exit_price) for t in trades] == [
        (at(9, 0.5), D(101 * M), at(12), D("101.5") * M),  # the high print crossed it
        (at(13), D(103 * M), at(16), D("103.4") * M),  # the gap: at the open
    ]
    assert {t.exit_reason for t in trades} == {"signal"}


def test_no_cross_no_trade() -> None:
    candles = [c if i < 8 else (100, 100.9, 99, 100.5) for i, c in enumerate(CANDLES)]
    assert run_backtest(spec(), {"KRW-BTC": frame(candles)}).trades == ()


def test_the_old_close_rule_buys_a_candle_later() -> None:
    """trigger="close": the next open after a candle closing above its own open + k x the
    previous candle's range (candle-based, not day-based)."""
    trades = run_backtest(spec(trigger="close"), {"KRW-BTC": frame(CANDLES)}).trades
    assert trades
    assert all(t.entry_at.timestamp() % 21_600 == 0 for t in trades)  # at candle opens


def test_a_falling_candle_crosses_on_its_first_extreme() -> None:
    """A falling candle's path is open, high, low, close: the high is the second print."""
    candles = list(CANDLES)
    candles[9] = (100.2, 101.5, 100.0, 100.1)
    trades = run_backtest(spec(), {"KRW-BTC": frame(candles)}).trades
    assert (trades[0].entry_at, trades[0].entry_price) == (at(9, 0.25), D(101 * M))


def test_after_an_exit_the_plan_buys_later_in_the_same_candle() -> None:
    """The exit at a candle's open print: a level reached later in that candle still buys
    (no cooldown); with a cooldown it waits for the candles after it."""
    f = frame(CANDLES)
    levels = np.full(len(f), np.nan)
    levels[12] = 101.55 * M  # candle 12 (101.5 -> 101.6 -> ...) reaches it at its high
    rules = UpbitMarketRules()
    plan = TriggerPlan("KRW-BTC", f, levels, 0, rules, dict.fromkeys(ExitReason, 0))
    assert plan.exited(12, 0, ExitReason.SIGNAL) == 12
    fill = plan.next(12)
    assert fill is not None
    assert (fill.bar, fill.print_index, fill.price) == (12, 2, 101.55 * M)
    waits = TriggerPlan("KRW-BTC", f, levels, 0, rules, dict.fromkeys(ExitReason, 2))
    assert waits.exited(12, 0, ExitReason.SIGNAL) == 14
    assert waits.next(14) is None
