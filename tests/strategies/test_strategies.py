"""Built-in strategies: exact signals on synthetic series, live/backtest parity on real data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trading.strategies import (
    CandleFrame,
    MaCross,
    MaCrossParams,
    Momentum,
    MomentumParams,
    ParamError,
    Strategy,
    VolatilityBreakout,
    VolatilityBreakoutParams,
    build_strategy,
    safe_signals,
)


def closes(values: list[float]) -> CandleFrame:
    c = np.array(values, dtype=np.float64)
    start = np.arange(len(c), dtype=np.int64) * 60
    return CandleFrame(start=start, open=c, high=c, low=c, close=c, volume=np.ones(len(c)))


def ohlc(rows: list[tuple[float, float, float, float]]) -> CandleFrame:
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    start = np.arange(len(rows), dtype=np.int64) * 86400
    return CandleFrame(start=start, open=o, high=h, low=lo, close=c, volume=np.ones(len(rows)))


def where(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


# --- exact signals on synthetic series -----------------------------------------------------


def test_sma_cross_signals_on_the_crossing_bars() -> None:
    # SMA2/SMA3: 10 10 | 11.5>11 at bar 4 (entry) | 13=13 at 6 | 10<11 at bar 7 (exit)
    frame = closes([10, 10, 10, 10, 13, 13, 13, 7, 7, 7])
    signals = safe_signals(MaCross(MaCrossParams(fast=2, slow=3)), frame)
    assert where(signals.entry) == [4]
    assert where(signals.exit) == [7]
    assert signals.entry_reason == "SMA(2) crossed above SMA(3)"


def test_ema_cross_signals_on_the_steps() -> None:
    frame = closes([100.0] * 40 + [110.0] * 20 + [90.0] * 20)
    signals = safe_signals(MaCross(MaCrossParams(fast=3, slow=10, kind="ema")), frame)
    assert where(signals.entry) == [40]
    assert where(signals.exit) == [60]
    assert signals.exit_reason == "EMA(3) crossed below EMA(10)"


def test_momentum_enters_on_the_crossing_and_exits_on_the_level() -> None:
    frame = closes([100, 100, 100, 100, 100, 102, 102, 102, 101, 100, 100])
    params = MomentumParams(lookback=2, entry_pct=1.0, exit_pct=0.0)
    signals = safe_signals(Momentum(params), frame)
    assert where(signals.entry) == [5]  # ROC(2) = 2 % > 1 %; still 2 % at bar 6: no re-entry
    assert where(signals.exit) == [8, 9, 10]  # ROC below 0 %


BREAKOUT_DAYS = [
    (100.0, 110.0, 90.0, 100.0),  # range 20
    (100.0, 115.0, 99.0, 112.0),  # target 100 + 10 = 110, close 112: breakout
    (112.0, 113.0, 111.0, 112.5),  # target 120: none; 1 bar after the breakout
    (112.5, 114.0, 100.0, 105.0),  # target 113.5: high breaks it, close below open
    (105.0, 106.0, 104.0, 105.5),  # target 112: none
]


@pytest.mark.parametrize(
    ("changes", "entries", "exits"),
    [
        ({}, [1], [2, 3]),
        ({"hold_bars": 2}, [1], [3]),
        ({"hold_bars": 2, "exit_below_open": False}, [1], [3]),
        ({"hold_bars": 3, "exit_below_open": False}, [1], [4]),
        # bar 3's high breakout is cleared by its close-below-open exit; the time stop of that
        # raw breakout still fires at bar 4 (harmless when flat)
        ({"trigger": "high"}, [1], [2, 3, 4]),
        ({"ma_bars": 3}, [], [3]),  # no SMA(3) yet at bar 1; bar 3 is the only red bar
        ({"ma_bars": 2}, [1], [2, 3]),  # 112 > mean(100, 112)
        ({"k": 1.0}, [], [3]),  # target 120 at bar 1
    ],
)
def test_volatility_breakout(
    changes: dict[str, Any], entries: list[int], exits: list[int]
) -> None:
    strategy = VolatilityBreakout(VolatilityBreakoutParams(**changes))
    signals = safe_signals(strategy, ohlc(BREAKOUT_DAYS))
    assert where(signals.entry) == entries
    assert where(signals.exit) == exits


def test_empty_and_short_frames_give_no_signals() -> None:
    for name in ("ma_cross", "momentum", "volatility_breakout"):
        strategy = build_strategy(name, "", {})
        for frame in (closes([]), closes([1.0, 2.0])):
            signals = safe_signals(strategy, frame)
            assert signals.entry.shape == signals.exit.shape == (len(frame),)
            assert not signals.entry.any()


# --- real data: shape, no look-ahead, live/backtest parity ---------------------------------

STRATEGIES: list[Strategy[Any]] = [
    MaCross(),
    MaCross(MaCrossParams(fast=5, slow=50, kind="ema")),
    Momentum(),
    Momentum(MomentumParams(lookback=5, entry_pct=0.3, exit_pct=-0.2)),
    VolatilityBreakout(),
    VolatilityBreakout(VolatilityBreakoutParams(trigger="high", hold_bars=5, ma_bars=20)),
]


@pytest.fixture(params=STRATEGIES, ids=repr)
def strategy(request: pytest.FixtureRequest) -> Strategy[Any]:
    assert isinstance(request.param, Strategy)
    return request.param


def test_real_data_signals_have_the_frame_shape(strategy: Strategy[Any], btc: CandleFrame) -> None:
    signals = safe_signals(strategy, btc)
    for array in (signals.entry, signals.exit):
        assert array.dtype == np.bool_
        assert array.shape == (len(btc),)
    assert signals.entry.any()
    assert signals.exit.any()
    assert not (signals.entry & signals.exit).any()


def test_no_look_ahead(strategy: Strategy[Any], btc: CandleFrame) -> None:
    """Signals on the history up to bar i equal the full run truncated at i."""
    full = safe_signals(strategy, btc)
    for i in (1, 2, strategy.warmup(), 97, 1000, 1733, len(btc) - 1):
        part = safe_signals(strategy, btc[:i])
        assert np.array_equal(part.entry, full.entry[:i]), i
        assert np.array_equal(part.exit, full.exit[:i]), i


def test_live_window_matches_backtest(strategy: Strategy[Any], btc: CandleFrame) -> None:
    """Live decides on the last bar of a ``warmup()``-bar window: the same as the backtest."""
    full = safe_signals(strategy, btc)
    window = strategy.warmup()
    for i in range(window - 1, len(btc), 7):
        live = safe_signals(strategy, btc[i + 1 - window : i + 1])
        assert live.entry[-1] == full.entry[i], i
        assert live.exit[-1] == full.exit[i], i


# --- parameter bounds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ma_cross", {"fast": 1}, "fast = 1: input should be greater than or equal to 2"),
        ("ma_cross", {"slow": 600}, "(allowed 3..500)"),
        ("ma_cross", {"fast": 40}, "fast (40) must be less than slow (30)"),
        ("momentum", {"lookback": 0}, "lookback = 0"),
        ("momentum", {"entry_pct": 0.5, "exit_pct": 0.5}, "exit_pct (0.5) must be less than"),
        ("volatility_breakout", {"k": 0.05}, "k = 0.05: input should be greater than or equal"),
        ("volatility_breakout", {"k": 1.5}, "(allowed 0.1..1)"),
        ("volatility_breakout", {"hold_bars": 0}, "hold_bars = 0"),
        ("volatility_breakout", {"ma_bars": 1}, "ma_bars must be 0 (off) or at least 2"),
        ("volatility_breakout", {"trigger": "low"}, "trigger = 'low': input should be"),
    ],
)
def test_parameter_bounds(name: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(ParamError) as info:
        build_strategy(name, "", params)
    assert message in str(info.value)


def test_warmup() -> None:
    assert MaCross().warmup() == 31
    assert MaCross(MaCrossParams(fast=5, slow=50, kind="ema")).warmup() == 251
    assert Momentum().warmup() == 22
    assert VolatilityBreakout(VolatilityBreakoutParams(ma_bars=20, hold_bars=3)).warmup() == 23
