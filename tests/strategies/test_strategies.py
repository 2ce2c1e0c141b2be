"""Built-in strategies: exact signals on synthetic series, live/backtest parity on real data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.strategies.conftest import DATA
from trading.backtest import load_frame
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
    strategy = VolatilityBreakout(VolatilityBreakoutParams(**{"trigger": "close", **changes}))
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
    VolatilityBreakout(VolatilityBreakoutParams(trigger="close")),
    VolatilityBreakout(VolatilityBreakoutParams(trigger="high", hold_bars=5, ma_bars=20)),
]
CROSS = [VolatilityBreakout(), VolatilityBreakout(VolatilityBreakoutParams(k=0.3, ma_bars=2))]


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
    for i in (1, 2, strategy.warmup_for(60), 97, 1000, 1733, len(btc) - 1):
        part = safe_signals(strategy, btc[:i])
        assert np.array_equal(part.entry, full.entry[:i]), i
        assert np.array_equal(part.exit, full.exit[:i]), i


def test_live_window_matches_backtest(strategy: Strategy[Any], btc: CandleFrame) -> None:
    """Live decides on the last bar of a ``warmup()``-bar window: the same as the backtest."""
    full = safe_signals(strategy, btc)
    window = strategy.warmup_for(60)
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
        ("ma_cross", {"fast": 40, "slow": 30}, "fast (40) must be less than slow (30)"),
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


def test_cross_targets_the_day_open_plus_k_previous_ranges_and_exits_each_day() -> None:
    """trigger="cross" on day candles: the level of day i is open[i] + k x range[i-1], and
    every day's candle is the last of its day (sell at the next day's open)."""
    signals = safe_signals(VolatilityBreakout(), ohlc(BREAKOUT_DAYS))
    assert signals.entry_trigger is not None
    assert np.isnan(signals.entry_trigger[0])  # no previous day
    assert signals.entry_trigger[1:].tolist() == [110.0, 120.0, 113.5, 112.0]
    assert not signals.entry.any()
    assert signals.exit.all()


def test_cross_on_hourly_candles_reads_whole_utc_days_and_buys_once_a_day() -> None:
    hours = []
    for day, (o, h, lo, c) in enumerate(BREAKOUT_DAYS):
        del day
        # the day's open first, its high at 06:00, its low at 12:00, its close last
        path = [o] * 6 + [h] + [o] * 5 + [lo] + [c] * 11
        hours += [(p, p, p, p) for p in path]
    rows = np.array(hours)
    frame = CandleFrame(
        np.arange(len(rows), dtype=np.int64) * 3600,
        rows[:, 0],
        rows[:, 1],
        rows[:, 2],
        rows[:, 3],
        np.ones(len(rows)),
    )
    signals = safe_signals(VolatilityBreakout(), frame)
    assert signals.entry_trigger is not None
    levels = signals.entry_trigger.reshape(5, 24)
    assert np.isnan(levels[0]).all()
    # day 1: 110 until the 06:00 candle reaches 115; not armed after it
    assert levels[1, :7].tolist() == [110.0] * 7
    assert np.isnan(levels[1, 7:]).all()
    assert levels[2].tolist() == [120.0] * 24  # never reached
    assert where(signals.exit) == [24 * d + 23 for d in range(5)]


@pytest.mark.parametrize("strategy", CROSS, ids=repr)
def test_cross_trigger_uses_earlier_candles_and_its_own_open_only(strategy: Strategy[Any]) -> None:
    """The engine arms candle i's level from the closed candles and candle i's open (its
    high, low and close are not known yet): the same value as the full run's."""
    btc = load_frame(DATA)[:14_000]  # nine and a half contiguous days of minutes
    full = safe_signals(strategy, btc).entry_trigger
    assert full is not None
    assert np.isfinite(full).any()
    window = strategy.warmup_for(60)
    for i in range(window - 1, len(btc), 97):
        part = btc[i + 1 - window : i + 1]
        o = part.open.copy()
        high, low, close = part.high.copy(), part.low.copy(), part.close.copy()
        high[-1] = low[-1] = close[-1] = o[-1]
        forming = CandleFrame(part.start, o, high, low, close, part.volume)
        live = safe_signals(strategy, forming).entry_trigger
        assert live is not None
        assert np.array_equal(live[-1:], full[i : i + 1], equal_nan=True), i


def test_warmup() -> None:
    assert MaCross(MaCrossParams(fast=10, slow=30)).warmup() == 31
    assert MaCross().warmup() == MaCrossParams().slow + 1
    assert MaCross(MaCrossParams(fast=5, slow=50, kind="ema")).warmup() == 251
    assert Momentum().warmup() == 22
    close = VolatilityBreakoutParams(trigger="close", ma_bars=20, hold_bars=3)
    assert VolatilityBreakout(close).warmup() == 23
    assert VolatilityBreakout(close).warmup_for(60) == 23
    assert VolatilityBreakout().warmup() == 2  # today and the previous day
    assert VolatilityBreakout().warmup_for(3600) == 48
    assert VolatilityBreakout(VolatilityBreakoutParams(ma_bars=5)).warmup_for(3600) == 144
