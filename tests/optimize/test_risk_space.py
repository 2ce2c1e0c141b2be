"""Risk settings in the optimizer's space: typed and bounded by ``RiskSettings``, nothing else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from trading.backtest import BacktestSpec, run_backtest
from trading.optimize import Objective, OptimizeInputError, OptimizeSettings, build_space, optimize
from trading.optimize.risk_space import grid_step, risk_setting_values, split_values, with_risk
from trading.optimize.worker import flat_metrics
from trading.risk.settings import RiskSettings
from trading.settings import change, show, specs
from trading.strategies import CandleFrame
from trading.strategies.ma_cross import MaCross, MaCrossParams
from trading.strategies.params import ParamError


def test_types_come_from_the_model() -> None:
    # Arrange / Act
    space = build_space(
        MaCross,
        {"risk.slippage_mode": "limit"},
        {
            "fast": "3:10",
            "risk.atr_stop_mult": "0.5..4",
            "risk.atr_period": "5:30",
            "risk.stoploss_guard_per_market": "",
            "risk.volatility_measure": "atr,realized",
        },
    )
    # Assert
    dims = {d.name: d for d in space.dimensions}
    assert (dims["risk.atr_stop_mult"].kind, dims["risk.atr_stop_mult"].low) == ("float", 0.5)
    assert dims["risk.atr_stop_mult"].high == 4.0
    assert (dims["risk.atr_period"].kind, dims["risk.atr_period"].high) == ("int", 30)
    assert dims["risk.stoploss_guard_per_market"].choices == (True, False)
    assert dims["risk.volatility_measure"].choices == ("atr", "realized")
    assert space.fixed["risk.slippage_mode"] == "limit"
    assert "risk.atr_stop_mult in [0.5, 4] by 0.1" in space.describe()  # a 0.1 grid


@pytest.mark.parametrize(
    ("fixed", "narrow", "message"),
    [
        ({}, {"risk.no_such": "1..2"}, "--space risk.no_such: no such risk setting (known: "),
        ({"risk.nope": "1"}, {}, "--param risk.nope: no such risk setting"),
        ({}, {"risk.atr_stop_mult": "1..21"}, "risk.atr_stop_mult=1..21 is outside the"),
        ({}, {"risk.atr_period": "0..10"}, "outside the setting's bounds 1..500"),
        ({}, {"risk.atr_period": "1.5..10"}, "'1.5' is not an integer"),
        ({}, {"risk.atr_stop_mult": "3..1"}, "lo is above hi"),
        ({}, {"risk.atr_stop_mult": "3"}, "expected lo..hi"),
        ({}, {"risk.atr_stop_mult": "a..2"}, "'a' is not a number"),
        ({}, {"risk.atr_stop_mult": "nan..2"}, "is not a finite number"),
        ({}, {"risk.slippage_mode": "refuse,maybe"}, "'maybe' is not one of refuse, limit"),
        ({}, {"risk.stoploss_guard_per_market": "yes,perhaps"}, "is not true or false"),
        ({}, {"risk.halt_windows": "1..2"}, "a other setting cannot be searched"),
        ({"risk.max_open_positions": "0"}, {}, "outside the setting's bounds 1..50"),
        (
            {"risk.atr_period": "10"},
            {"risk.atr_period": "5..20"},
            "risk.atr_period is both fixed (--param) and searched (--space)",
        ),
    ],
)
def test_refusals_name_the_setting_and_its_bounds(
    fixed: dict[str, str], narrow: dict[str, str], message: str
) -> None:
    with pytest.raises(OptimizeInputError) as caught:
        build_space(MaCross, fixed, narrow)
    assert message in str(caught.value)


def test_risk_alone_is_a_space() -> None:
    fixed = {"fast": "5", "slow": "20", "kind": "sma"}
    space = build_space(MaCross, fixed, {"risk.take_profit_pct": "0..3"})
    assert [d.name for d in space.dimensions] == ["risk.take_profit_pct"]


def test_trial_values_become_typed_limits(spec_fields: dict[str, Any]) -> None:
    # Arrange
    params, risk = split_values({"fast": 5, "risk.atr_stop_mult": 1.5, "risk.atr_period": 7})
    # Act
    fields = with_risk(spec_fields, risk | {"stop_cooldown_candles": 3})
    # Assert
    assert params == {"fast": 5}
    assert fields["limits"].atr_stop_mult == Decimal("1.5")
    assert fields["limits"].atr_period == 7
    assert fields["stop_cooldown_candles"] == 3
    assert spec_fields["limits"].atr_period == 14  # the shared fields are not changed


def test_a_draw_is_rounded_to_the_digits_the_setting_allows(
    spec_fields: dict[str, Any],
) -> None:
    # Arrange: volatility_halt_percentile allows two decimals; optuna draws floats. Every
    # draw of the walk-forward's percentile range was refused before this rounding, and the
    # study ended with "no valid trial".
    draw = {"volatility_halt_percentile": 97.123456}
    # Act
    fields = with_risk(spec_fields, draw)
    # Assert
    assert fields["limits"].volatility_halt_percentile == Decimal("97.12")


def test_a_cross_field_rule_is_a_param_error(spec_fields: dict[str, Any]) -> None:
    with pytest.raises(ParamError, match="volatility_resume_pct"):
        with_risk(spec_fields, {"volatility_halt_pct": 2.0, "volatility_resume_pct": 3.0})


def test_optimize_with_a_risk_dimension(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    # Arrange
    fixed = {"fast": "5", "slow": "30", "kind": "sma"}
    space = build_space(MaCross, fixed, {"risk.atr_stop_mult": "0.5..3"})
    settings = OptimizeSettings(
        strategy="ma_cross",
        space=space,
        objective=Objective("profit", min_trades=1),
        spec=spec_fields,
        storage=sqlite_url,
        study="risk",
        trials=4,
        seed=3,
    )
    # Act
    result = optimize(settings, {"KRW-BTC": frame})
    # Assert: the chosen stop is within the range, and it is what the verdict backtested
    chosen = result.best_risk["atr_stop_mult"]
    assert isinstance(chosen, float)
    assert 0.5 <= chosen <= 3.0
    fold = result.folds[0]
    train = {"KRW-BTC": frame[: fold.fold.train_stop]}
    spec = BacktestSpec(
        strategy=MaCross(MaCrossParams(fast=5, slow=30)),
        **with_risk(spec_fields, {"atr_stop_mult": chosen}),
    )
    assert flat_metrics(run_backtest(spec, train).metrics) == fold.in_sample


@pytest.mark.parametrize(
    ("low", "high", "places", "step"),
    [
        ("2", "5", None, "0.1"),  # 30 steps
        ("0", "20", None, "1"),  # 20 steps
        ("0.5", "3", None, "0.1"),
        ("2.55", "20", None, "0.01"),  # 2.55 stays on the grid
        ("50000", "200000", None, "1000"),
        ("90", "100", 2, "0.1"),
        ("97.6", "97.61", 2, "0.01"),  # never finer than the declared places
        ("3", "3", None, "1"),
    ],
)
def test_a_decimal_range_is_searched_on_a_grid_of_a_power_of_ten(
    low: str, high: str, places: int | None, step: str
) -> None:
    assert grid_step(Decimal(low), Decimal(high), places) == Decimal(step)


def test_every_grid_value_of_every_decimal_setting_is_one_set_takes_and_echoes() -> None:
    """Over each Decimal setting's own bounds, a grid value as optuna computes it (in floats)
    is read back short, and ``/set`` (``change``) takes and shows exactly that text."""
    # the halt levels at their top, so the resume levels' cross-field rules allow any value
    roomy = RiskSettings(
        volatility_halt_pct=100, volatility_halt_percentile=100, volatility_resume_percentile=1
    )
    for field in specs(RiskSettings):
        if field.kind != "decimal" or field.low is None or field.high is None:
            continue
        step = grid_step(field.low, field.high, field.places)
        count = int((field.high - field.low) / step)
        for k in (1, count // 3, count // 2, count - 1):
            drawn = float(field.low) + k * float(step)  # float arithmetic, as optuna's
            value = risk_setting_values({field.name: drawn})[field.name]
            assert isinstance(value, Decimal)
            assert value == field.low + k * step, (field.name, drawn)
            text = show(value)
            changed = change(roomy, field.name, text, live_only=False)
            assert show(getattr(changed, field.name)) == text


def test_a_number_list_is_a_choice_of_numbers_in_the_settings_type() -> None:
    space = build_space(MaCross, {}, {"risk.atr_stop_mult": "2,3.5", "risk.atr_period": "7,14"})
    dims = {d.name: d for d in space.dimensions}
    assert dims["risk.atr_stop_mult"].choices == (2.0, 3.5)
    assert dims["risk.atr_period"].choices == (7, 14)
    fast = build_space(MaCross, {}, {"fast": "5,8,13"})
    assert {d.name: d for d in fast.dimensions}["fast"].choices == (5, 8, 13)
