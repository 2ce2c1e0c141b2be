"""The search space comes from each strategy's declared bounds; user input is checked."""

from __future__ import annotations

import pytest

from trading.optimize import (
    OptimizeInputError,
    SpaceError,
    build_space,
    parse_assignments,
    split_assignments,
)
from trading.optimize.space import Dimension
from trading.strategies import REGISTRY
from trading.strategies.ma_cross import MaCross
from trading.strategies.momentum import Momentum
from trading.strategies.params import specs
from trading.strategies.volatility_breakout import VolatilityBreakout


class FakeTrial:
    """Records what the space asks for and answers with the low end / first choice."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object, object]] = []

    def suggest_int(self, name: str, low: int, high: int) -> int:
        self.asked.append((name, low, high))
        return low

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None
    ) -> float:
        self.asked.append((name, low, high))
        return low

    def suggest_categorical(self, name: str, choices: object) -> object:
        self.asked.append((name, tuple(choices), None))  # type: ignore[call-overload]
        return next(iter(choices))  # type: ignore[call-overload]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_declared_bounds_become_the_space(name: str) -> None:
    cls = REGISTRY[name]
    space = build_space(cls)
    by_name = {d.name: d for d in space.dimensions}
    for spec in specs(cls.Params):
        dim = by_name[spec.name]
        if spec.type in ("int", "float"):
            assert (dim.kind, dim.low, dim.high) == (spec.type, spec.ge, spec.le)
        elif spec.type == "bool":
            assert dim.choices == (True, False)
        else:
            assert dim.choices == spec.choices


def test_ma_cross_space_and_suggest() -> None:
    space = build_space(MaCross)
    assert space.dimensions == (
        Dimension("fast", "int", 2, 200),
        Dimension("slow", "int", 3, 500),
        Dimension("kind", "categorical", choices=("sma", "ema")),
    )
    trial = FakeTrial()
    assert space.suggest(trial) == {"fast": 2, "slow": 3, "kind": "sma"}
    assert trial.asked == [("fast", 2, 200), ("slow", 3, 500), ("kind", ("sma", "ema"), None)]


def test_fixed_and_narrowed() -> None:
    space = build_space(MaCross, {"kind": "ema"}, {"fast": "5:20", "slow": "30:90"})
    assert space.fixed == {"kind": "ema"}
    assert [d.describe() for d in space.dimensions] == ["fast in [5, 20]", "slow in [30, 90]"]
    assert space.suggest(FakeTrial()) == {"kind": "ema", "fast": 5, "slow": 30}


def test_float_bool_and_choice_lists() -> None:
    space = build_space(
        VolatilityBreakout,
        {"exit_below_open": "false", "ma_bars": "0"},
        {"k": "0.3:0.6", "trigger": "high"},
    )
    assert space.fixed == {"exit_below_open": False, "ma_bars": 0}
    dims = {d.name: d for d in space.dimensions}
    assert (dims["k"].kind, dims["k"].low, dims["k"].high) == ("float", 0.3, 0.6)
    assert dims["trigger"].choices == ("high",)
    assert dims["hold_bars"].kind == "int"
    momentum = build_space(Momentum, {"entry_pct": "2.5"})
    assert momentum.fixed == {"entry_pct": 2.5}


@pytest.mark.parametrize(
    ("fixed", "narrow", "message"),
    [
        (
            {"fastt": "3"},
            {},
            "--param fastt: ma_cross has no such parameter (known: fast, slow, kind)",
        ),
        ({}, {"fast": "1:20"}, "--space fast=1:20 is outside its declared bounds 2..200"),
        ({}, {"slow": "10:501"}, "--space slow=10:501 is outside its declared bounds 3..500"),
        ({"fast": "201"}, {}, "--param fast=201 is outside its declared bounds 2..200"),
        ({}, {"fast": "20:5"}, "--space fast=20:5: lo is above hi"),
        ({}, {"fast": "5"}, "--space fast=5: expected lo:hi or a,b"),
        ({}, {"fast": "2.5:9"}, "--space fast: '2.5' is not int"),
        ({"fast": "x"}, {}, "--param fast: 'x' is not int"),
        ({"kind": "wma"}, {}, "--param kind: 'wma' is not one of sma, ema"),
        ({}, {"kind": "sma,wma"}, "--space kind: 'wma' is not one of sma, ema"),
        ({"fast": "5"}, {"fast": "5:9"}, "fast is both fixed (--param) and searched (--space)"),
        (
            {"fast": "5", "slow": "9", "kind": "sma"},
            {},
            "nothing to search: every ma_cross parameter is fixed",
        ),
    ],
)
def test_bad_input_is_one_clear_line(
    fixed: dict[str, str], narrow: dict[str, str], message: str
) -> None:
    with pytest.raises(OptimizeInputError) as info:
        build_space(MaCross, fixed, narrow)
    assert str(info.value) == message


def test_float_bounds_and_nan_refused() -> None:
    with pytest.raises(OptimizeInputError, match="not a finite number"):
        build_space(Momentum, {"entry_pct": "nan"})
    with pytest.raises(OptimizeInputError, match=r"outside its declared bounds -100\.\.100"):
        build_space(Momentum, {}, {"exit_pct": "-101:0"})
    with pytest.raises(OptimizeInputError, match="is not true or false"):
        build_space(VolatilityBreakout, {"exit_below_open": "maybe"})


def test_parse_assignments() -> None:
    assert parse_assignments(["fast=20", " slow = 60 "], "--param") == {"fast": "20", "slow": "60"}
    with pytest.raises(OptimizeInputError, match="--param 'fast': expected key=value"):
        parse_assignments(["fast"], "--param")
    with pytest.raises(OptimizeInputError, match="--space fast given twice"):
        parse_assignments(["fast=1:2", "fast=3:4"], "--space")


def test_chat_words_pin_one_value_and_search_a_range_or_list() -> None:
    """Chat writes ``NAME=...`` without ``--param``/``--space``: the value's form decides."""
    words = {
        "fast": "7",
        "slow": "40..90",
        "kind": "sma,ema",
        "risk.atr_stop_mult": "2.5",
        "risk.atr_period": "7:21",
        "risk.trailing_stop": "true",
    }
    fixed, narrow = split_assignments(words)
    assert fixed == {"fast": "7", "risk.atr_stop_mult": "2.5", "risk.trailing_stop": "true"}
    assert narrow == {"slow": "40..90", "kind": "sma,ema", "risk.atr_period": "7:21"}
    space = build_space(MaCross, fixed, narrow)
    assert space.fixed == {"fast": 7, "risk.atr_stop_mult": 2.5, "risk.trailing_stop": True}
    by_name = {d.name: d for d in space.dimensions}
    assert by_name["slow"] == Dimension("slow", "int", 40, 90)  # lo..hi, as chat writes it
    assert by_name["kind"].choices == ("sma", "ema")
    assert by_name["risk.atr_period"] == Dimension("risk.atr_period", "int", 7, 21)


@pytest.mark.parametrize(
    ("words", "parts"),
    [
        ({"bogus": "1"}, ("unknown", "bogus", "1", "fast, slow, kind")),
        ({"fast": "500"}, ("bounds", "fast", "500", "2..200")),
        ({"fast": "1..9"}, ("bounds", "fast", "1..9", "2..200")),
        ({"fast": "abc"}, ("range", "fast", "abc", "2..200")),
        ({"kind": "wma"}, ("choice", "kind", "wma", "sma|ema")),
        ({"fast": "5", "slow": "9", "kind": "sma"}, ("empty", "", "", "")),
        ({"risk.atr_stop_mult": "99"}, ("bounds", "risk.atr_stop_mult", "99", "0..20")),
    ],
)
def test_a_refusal_carries_its_parts_for_chat(
    words: dict[str, str], parts: tuple[str, str, str, str]
) -> None:
    with pytest.raises(SpaceError) as info:
        build_space(MaCross, *split_assignments(words))
    error = info.value
    assert (error.reason, error.key, error.value, error.allowed) == parts
    # a risk setting belongs to no strategy; a parameter names its own
    assert error.strategy == ("" if error.key.startswith("risk.") else "ma_cross")
