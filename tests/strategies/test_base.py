"""CandleFrame, Signals, safe_signals and the parameter helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import Field

from trading.domain import Bar
from trading.strategies import (
    INTERFACE_VERSION,
    CandleFrame,
    MaCross,
    MaCrossParams,
    ParamError,
    ParamSpec,
    Signals,
    Strategy,
    StrategyError,
    StrategyParams,
    VolatilityBreakout,
    params_schema,
    safe_signals,
    with_params,
)


def frame_of(close: list[float]) -> CandleFrame:
    c = np.array(close, dtype=np.float64)
    start = np.arange(len(c), dtype=np.int64) * 60
    return CandleFrame(start=start, open=c, high=c, low=c, close=c, volume=np.ones(len(c)))


class EchoParams(StrategyParams):
    length: int = Field(3, ge=1, le=10, description="how many")


class Echo(Strategy[EchoParams]):
    """Test double: does whatever the ``behaviour`` callable says."""

    name: ClassVar[str] = "echo"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[EchoParams]] = EchoParams

    def __init__(self, behaviour: object) -> None:
        super().__init__()
        self.behaviour = behaviour

    def warmup(self) -> int:
        return 1

    def signals(self, frame: CandleFrame) -> Signals:
        assert callable(self.behaviour)
        result = self.behaviour(frame)
        assert isinstance(result, Signals)
        return result


# --- CandleFrame ---------------------------------------------------------------------------


def test_from_bars_converts_decimals_and_times() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    bars = [
        Bar(
            "KRW-BTC",
            "1m",
            start + timedelta(minutes=i),
            Decimal(1 + i),
            Decimal(3 + i),
            Decimal(i),
            Decimal("2.5") + i,
            Decimal("0.001"),
        )
        for i in range(3)
    ]
    frame = CandleFrame.from_bars(bars)
    assert len(frame) == 3
    assert frame.start.dtype == np.int64
    assert frame.start.tolist() == [1704067200, 1704067260, 1704067320]
    assert frame.close.tolist() == [2.5, 3.5, 4.5]
    assert frame.volume.dtype == np.float64


def test_from_bars_refuses_naive_times() -> None:
    one = Decimal(1)
    bar = Bar("KRW-BTC", "1m", datetime(2024, 1, 1), one, one, one, one, one)
    with pytest.raises(ValueError, match="timezone-aware"):
        CandleFrame.from_bars([bar])


def test_frame_checks_columns() -> None:
    one = np.ones(3)
    with pytest.raises(ValueError, match="equal length"):
        CandleFrame(start=np.arange(3), open=one, high=one, low=one, close=np.ones(2), volume=one)
    with pytest.raises(ValueError, match="strictly increasing"):
        CandleFrame(
            start=np.array([0, 60, 60]), open=one, high=one, low=one, close=one, volume=one
        )


def test_tail_and_slices() -> None:
    frame = frame_of([1.0, 2.0, 3.0, 4.0])
    assert frame.tail(2).close.tolist() == [3.0, 4.0]
    assert frame.tail(10).close.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert len(frame.tail(0)) == 0
    assert frame[:2].start.tolist() == [0, 60]
    with pytest.raises(TypeError, match="contiguously"):
        frame[::2]


# --- safe_signals --------------------------------------------------------------------------


def test_safe_signals_gives_a_read_only_copy() -> None:
    seen: list[CandleFrame] = []

    def behaviour(frame: CandleFrame) -> Signals:
        seen.append(frame)
        frame.close[0] = 99.0  # user bug: must not reach the engine's data
        return Signals(np.zeros(len(frame), bool), np.zeros(len(frame), bool))

    original = frame_of([1.0, 2.0])
    with pytest.raises(StrategyError, match="read-only"):
        safe_signals(Echo(behaviour), original)
    assert original.close.tolist() == [1.0, 2.0]
    assert seen[0].close is not original.close


def test_safe_signals_wraps_exceptions() -> None:
    def behaviour(frame: CandleFrame) -> Signals:
        raise KeyError("close_price")

    with pytest.raises(StrategyError) as info:
        safe_signals(Echo(behaviour), frame_of([1.0]))
    assert info.value.strategy == "echo"
    assert str(info.value) == "strategy 'echo': signals() raised KeyError: 'close_price'"
    assert isinstance(info.value.__cause__, KeyError)


@pytest.mark.parametrize(
    ("entry", "exit_", "message"),
    [
        (np.zeros(3, bool), np.zeros(3, bool), r"entry has shape \(3,\), expected \(2,\)"),
        (np.zeros(2), np.zeros(2, bool), "entry must be a bool numpy array, got float64"),
        (np.zeros(2, bool), [False, False], "exit must be a bool numpy array, got list"),
    ],
)
def test_safe_signals_checks_the_output(entry: object, exit_: object, message: str) -> None:
    def behaviour(frame: CandleFrame) -> Signals:
        return Signals(entry, exit_)  # type: ignore[arg-type]

    with pytest.raises(StrategyError, match=message):
        safe_signals(Echo(behaviour), frame_of([1.0, 2.0]))


def test_safe_signals_refuses_other_return_types() -> None:
    strategy = Echo(lambda frame: None)
    strategy.signals = lambda frame: (1, 2)  # type: ignore[method-assign,assignment,return-value]
    with pytest.raises(StrategyError, match="returned tuple, not Signals"):
        safe_signals(strategy, frame_of([1.0]))


def test_exit_wins_over_entry_on_the_same_bar() -> None:
    def behaviour(frame: CandleFrame) -> Signals:
        return Signals(np.array([True, True]), np.array([False, True]), "in", "out")

    signals = safe_signals(Echo(behaviour), frame_of([1.0, 2.0]))
    assert signals.entry.tolist() == [True, False]
    assert signals.exit.tolist() == [False, True]
    assert (signals.entry_reason, signals.exit_reason) == ("in", "out")
    assert not signals.entry.flags.writeable


# --- the Strategy contract -----------------------------------------------------------------


def test_incomplete_strategy_classes_are_refused() -> None:
    class Loose(StrategyParams):
        size: int = Field(1, description="no bounds")

    with pytest.raises(TypeError, match=r"Bad.Params.size needs bounds"):

        class Bad(Strategy[Loose]):
            name: ClassVar[str] = "bad"
            version: ClassVar[int] = INTERFACE_VERSION
            Params: ClassVar[type[Loose]] = Loose

            def warmup(self) -> int:
                return 1

            def signals(self, frame: CandleFrame) -> Signals:
                raise NotImplementedError

    with pytest.raises(TypeError, match="version must be 1"):

        class Old(Strategy[EchoParams]):
            name: ClassVar[str] = "old"
            version: ClassVar[int] = 0
            Params: ClassVar[type[EchoParams]] = EchoParams

            def warmup(self) -> int:
                return 1

            def signals(self, frame: CandleFrame) -> Signals:
                raise NotImplementedError


def test_strategy_refuses_another_params_model() -> None:
    with pytest.raises(TypeError, match="ma_cross needs MaCrossParams"):
        MaCross(EchoParams())  # type: ignore[arg-type]


# --- parameters ----------------------------------------------------------------------------


def test_params_schema() -> None:
    defaults = MaCrossParams()
    assert params_schema(MaCross) == [
        ParamSpec("fast", "int", defaults.fast, 2, 200, "fast moving average length, in bars"),
        ParamSpec("slow", "int", defaults.slow, 3, 500, "slow moving average length, in bars"),
        ParamSpec("kind", "str", "sma", None, None, "average type: sma or ema", ("sma", "ema")),
    ]
    by_name = {spec.name: spec for spec in params_schema(VolatilityBreakout)}
    assert by_name["k"] == ParamSpec(
        "k",
        "float",
        0.5,
        0.1,
        1.0,
        "fraction of the previous range: the day's (cross), the bar's (close/high)",
    )
    assert by_name["exit_below_open"].type == "bool"


def test_with_params_returns_a_new_validated_strategy() -> None:
    strategy = MaCross(MaCrossParams(fast=5, slow=20))
    changed = with_params(strategy, slow="40")  # chat sends text
    assert changed.params == MaCrossParams(fast=5, slow=40)
    assert strategy.params.slow == 20
    assert type(changed) is MaCross


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fast": 1}, "fast = 1: input should be greater than or equal to 2 (allowed 2..200)"),
        ({"slow": 501}, "slow = 501: input should be less than or equal to 500 (allowed 3..500)"),
        ({"fast": 30}, "fast (30) must be less than slow (30)"),
        ({"fats": 3}, "fats: unknown parameter (known: fast, slow, kind)"),
        ({"kind": "wma"}, "kind = 'wma': input should be 'sma' or 'ema'"),
    ],
)
def test_with_params_explains_refusals(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ParamError, match=re.escape(message)) as info:
        with_params(MaCross(MaCrossParams(fast=10, slow=30)), **changes)
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is None


def test_params_need_defaults_and_descriptions() -> None:
    class NoDefault(StrategyParams):
        size: int = Field(ge=1, le=2, description="required")

    class NoText(StrategyParams):
        size: int = Field(1, ge=1, le=2)

    for model, message in ((NoDefault, "size needs a default"), (NoText, "needs a description")):
        with pytest.raises(TypeError, match=message):

            class Bad(Strategy[Any]):
                name: ClassVar[str] = "bad"
                version: ClassVar[int] = INTERFACE_VERSION
                Params: ClassVar[type[StrategyParams]] = model

                def warmup(self) -> int:
                    return 1

                def signals(self, frame: CandleFrame) -> Signals:
                    raise NotImplementedError
