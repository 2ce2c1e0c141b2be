"""Parity for the exits (issue #13): a fixed stop, a trailing stop with an offset, the ROI
table, the holding time and the exit-signal switches give the same fills in paper trading
(the live engine, replay mode) and in ``run_backtest``, and each exit really happens."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from tests.backtest.test_parity import assert_parity

MA = {"fast": 5, "slow": 20}


async def test_fixed_atr_stop_does_not_trail(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        atr_stop_mult=D(1),
        stop_min_distance_pct=D("0.2"),
        stop_cooldown=3,
    )
    assert reasons["stop"]
    assert not reasons["trailing"]


async def test_fixed_percentage_stop_and_take_profit(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        offset=3000,
        atr_stop_mult=D(0),
        stop_loss_pct=D("0.3"),
        take_profit_pct=D("0.4"),
    )
    assert reasons["stop"]
    assert reasons["take_profit"]


async def test_trailing_with_positive_offset_only_once_reached(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="momentum",
        params={"lookback": 10, "entry_pct": 0.3, "exit_pct": 0.0},
        minutes=1500,
        offset=6000,
        atr_stop_mult=D("1.5"),
        stop_min_distance_pct=D("0.1"),
        trailing_stop=True,
        trailing_stop_positive_pct=D("0.15"),
        trailing_stop_positive_offset_pct=D("0.3"),
        trailing_only_offset_is_reached=True,
    )
    assert reasons["trailing"]


async def test_trailing_at_the_initial_distance(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        atr_stop_mult=D(1),
        stop_loss_pct=D("0.5"),
        stop_min_distance_pct=D("0.2"),
        trailing_stop=True,
        trailing_stop_positive_pct=D("0.2"),
    )
    assert reasons["trailing"]


async def test_roi_table_without_exit_signal(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        offset=1500,
        atr_stop_mult=D(0),
        stop_loss_pct=D(2),
        minimal_roi=((0, D("0.6")), (10, D("0.3")), (30, D("0.1")), (90, D(0))),
        use_exit_signal=False,
    )
    assert reasons["roi"]
    assert not reasons["signal"]


async def test_max_holding_time_against_signals_and_stops(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        offset=4500,
        atr_stop_mult=D(1),
        stop_min_distance_pct=D("0.2"),
        max_holding_minutes=12,
        cooldown=1,
    )
    assert reasons["time"]
    assert reasons["signal"] or reasons["stop"]


async def test_exit_profit_only_with_an_offset(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params=MA,
        minutes=1500,
        offset=7500,
        atr_stop_mult=D(0),
        stop_loss_pct=D("0.8"),
        exit_profit_only=True,
        exit_profit_offset_pct=D("0.1"),
        max_holding_minutes=240,
    )
    assert reasons["signal"]
    assert reasons["stop"] or reasons["time"]
