"""The relative volatility filter (issue #13): the incremental measure equals a naive recompute,
the backtester's whole-frame series equals the gate fed candle by candle, and the defaults
trip in the January 2018 crash on the bundled minutes while staying off most of the time."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.risk.helpers import Recorder
from trading.backtest.data import load_frame, slice_frame
from trading.domain import Bar
from trading.events import HaltChanged
from trading.risk.breakers import VolatilityFilter
from trading.risk.limits import RiskLimits
from trading.risk.volatility import (
    Rule,
    VolatilityTrack,
    first_level,
    halt_series,
    levels_of,
    rank_at,
    ranks_of,
    verdicts_of,
)

BUNDLED = Path(__file__).resolve().parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
#: segment A of the bundled file: 2018-01-22 14:08 .. 2018-02-01 05:19 UTC, every minute
CRASH = slice_frame(load_frame(BUNDLED), None, int(datetime(2018, 2, 2, tzinfo=UTC).timestamp()))

candle = st.tuples(
    st.integers(1_000, 2_000),  # close
    st.integers(0, 300),  # high above the close
    st.integers(0, 300),  # low below the close
)


def naive_atr_pct(rows: list[tuple[float, float, float]], period: int) -> float:
    """ATR (mean of the last ``period`` true ranges) in % of the last close, from scratch."""
    ranges = []
    for i, (h, lo, _) in enumerate(rows):
        prev = rows[i - 1][2] if i else None
        ranges.append(h - lo if prev is None else max(h - lo, abs(h - prev), abs(lo - prev)))
    return sum(ranges[-period:]) / period / rows[-1][2] * 100


def naive_realized_pct(closes: list[float], period: int) -> float:
    returns = [
        (b - a) / a for a, b in zip(closes[-period - 1 : -1], closes[-period:], strict=True)
    ]
    mean = sum(returns) / period
    return math.sqrt(max(sum((r - mean) ** 2 for r in returns) / period, 0.0)) * 100


@settings(deadline=None, max_examples=150)
@given(
    rows=st.lists(candle, min_size=1, max_size=120),
    period=st.integers(2, 8),
    window=st.integers(1, 30),
    measure=st.sampled_from(["atr", "realized"]),
    block=st.integers(1, 40),
)
def test_incremental_measure_equals_a_naive_recompute(
    rows: list[tuple[int, int, int]], period: int, window: int, measure: str, block: int
) -> None:
    # Arrange
    hlc = [(float(c + up), float(c - down), float(c)) for c, up, down in rows]
    track = VolatilityTrack(measure, period, window)
    levels: list[float] = []
    # Act / Assert: each level is the measure of the candles so far, each rank the count of
    # the previous ``window`` levels strictly below it
    for i, (h, lo, c) in enumerate(hlc):
        got = track.push(h, lo, c)
        ready = i + 1 >= period if measure == "atr" else i >= period
        if not ready:
            assert got is None
            continue
        assert got is not None
        level, rank = got
        seen = hlc[: i + 1]
        want = (
            naive_atr_pct(seen, period)
            if measure == "atr"
            else naive_realized_pct([r[2] for r in seen], period)
        )
        assert level == pytest.approx(want, rel=1e-9, abs=1e-9)
        previous = levels[-window:]
        assert rank == (sum(v < level for v in previous) if len(previous) == window else None)
        levels.append(level)
    # the whole-frame numpy version computes the very same floats and counts
    high, low, close = (np.array(col, dtype=np.float64) for col in zip(*hlc, strict=True))
    frame_levels = levels_of(measure, period, high, low, close)
    assert frame_levels[~np.isnan(frame_levels)].tolist() == levels
    ranks = ranks_of(frame_levels, window, block)  # blocks of candles, numpy-wide
    first = len(hlc) - len(levels)
    expect = [
        sum(v < levels[k] for v in levels[k - window : k]) if k >= window else -1
        for k in range(len(levels))
    ]
    assert ranks[first:].tolist() == expect


def bars_of(frame_slice: slice, market: str = "KRW-BTC") -> list[Bar]:
    f = CRASH
    out = []
    for i in range(len(f))[frame_slice]:
        start = datetime.fromtimestamp(int(f.start[i]), UTC)
        o, h, lo, c = (D(repr(float(x[i]))) for x in (f.open, f.high, f.low, f.close))
        out.append(Bar(market, "1m", start, o, h, lo, c, D(1)))
    return out


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the defaults: percentile 99 of a day of minutes
        {"volatility_measure": "realized", "volatility_window_candles": 300},
        {"volatility_halt_pct": D("0.45"), "volatility_halt_percentile": D(0)},
        {"volatility_halt_pct": D("0.45"), "volatility_window_candles": 200},
    ],
)
def test_whole_frame_series_equals_the_gate_fed_candle_by_candle(
    changes: dict[str, object],
) -> None:
    # Arrange
    limits = RiskLimits(**changes)  # type: ignore[arg-type]
    n = 4000
    sink = Recorder()
    vol = VolatilityFilter(sink)
    # Act
    fed = [vol.on_bar(b, limits) is not None and b.market in vol.halted for b in bars_of(slice(n))]
    halted, _ = halt_series(
        Rule.of(limits), CRASH.high[:n].copy(), CRASH.low[:n].copy(), CRASH.close[:n].copy()
    )
    # Assert
    assert fed == halted.tolist()
    assert any(fed)
    changes_seen = sink.of(HaltChanged)
    assert [e.active for e in changes_seen] == [True, False] * (len(changes_seen) // 2) + (
        [True] if len(changes_seen) % 2 else []
    )


def test_defaults_trip_in_the_january_2018_crash_and_rest_most_of_the_time() -> None:
    # Arrange: the defaults on the bundled real minutes (segment A, 2018-01-22 .. 02-01)
    limits = RiskLimits()
    f = CRASH
    # Act
    halted, levels = halt_series(Rule.of(limits), f.high.copy(), f.low.copy(), f.close.copy())
    # Assert
    starts = [datetime.fromtimestamp(int(s), UTC) for s in f.start]
    trips = [starts[i] for i in np.flatnonzero(np.diff(halted.astype(np.int8)) == 1) + 1]

    def tripped_on(day: int, hours: tuple[int, int]) -> bool:
        lo = datetime(2018, 1, day, hours[0], tzinfo=UTC)
        return any(lo <= t < lo + timedelta(hours=hours[1] - hours[0]) for t in trips)

    assert tripped_on(26, (7, 11))  # the Coincheck news: 13.0M -> 11.5M KRW in an hour
    assert tripped_on(30, (13, 21))  # the 30 January slide: 12.3M -> 10.4M KRW
    judged = ranks_of(levels, limits.volatility_window_candles) >= 0
    share = float(halted[judged].mean())
    assert 0 < share < 0.06  # rarely on, even in the most volatile ten days of the file


def test_a_live_change_of_the_window_measures_the_kept_candles_again() -> None:
    # Arrange
    limits = RiskLimits(volatility_window_candles=50)
    vol = VolatilityFilter()
    bars = bars_of(slice(200))
    for b in bars[:150]:
        vol.on_bar(b, limits)
    wider = limits.replace(volatility_window_candles=100)
    fresh = VolatilityFilter()
    # Act
    for b in bars[150:]:
        vol.on_bar(b, wider)
    for b in bars:
        fresh.on_bar(b, wider)
    # Assert: the rebuilt track ranks like one that always had the wider window
    assert vol.rank("KRW-BTC") == fresh.rank("KRW-BTC") is not None
    assert vol.level("KRW-BTC") == fresh.level("KRW-BTC")


def test_the_same_candle_again_replaces_the_last_one() -> None:
    limits = RiskLimits(volatility_window_candles=20)
    bars = bars_of(slice(60))
    again = VolatilityFilter()
    once = VolatilityFilter()
    for b in bars:
        again.on_bar(b, limits)
        once.on_bar(b, limits)
    older = bars[-1]
    again.on_bar(
        Bar(
            older.market,
            "1m",
            older.start,
            older.open,
            older.high * 2,
            older.low,
            older.close,
            older.volume,
        ),
        limits,
    )
    again.on_bar(older, limits)  # the newer copy wins; here the original comes back
    assert again.level("KRW-BTC") == once.level("KRW-BTC")
    assert again.rank("KRW-BTC") == once.rank("KRW-BTC") is not None


def test_resume_percentile_above_the_halt_percentile_is_refused() -> None:
    with pytest.raises(ValidationError, match="volatility_resume_percentile"):
        RiskLimits(volatility_halt_percentile=D(90), volatility_resume_percentile=D(95))
    # off: the resume level is not compared
    assert RiskLimits(volatility_halt_percentile=D(0)).volatility_resume_percentile == D(95)
    with pytest.raises(ValidationError):
        RiskLimits(volatility_halt_percentile=D(101))
    with pytest.raises(ValidationError):
        RiskLimits(volatility_window_candles=10)


@settings(deadline=None, max_examples=200)
@given(
    levels=st.lists(st.integers(0, 6), min_size=1, max_size=200),  # many ties
    cold=st.integers(0, 4),
    window=st.integers(1, 40),
    block=st.integers(1, 50),
)
def test_block_ranks_count_ties_as_not_below(
    levels: list[int], cold: int, window: int, block: int
) -> None:
    # Arrange: a cold start (NaN) before the levels, as levels_of leaves it
    series = np.array([math.nan] * cold + [x / 2 for x in levels], dtype=np.float64)
    # Act
    ranks = ranks_of(series, window, block)
    # Assert
    for i, got in enumerate(ranks.tolist()):
        k = i - cold
        if k < window:
            assert got == -1
        else:
            level = levels[k]
            assert got == sum(x < level for x in levels[k - window : k])


@settings(deadline=None, max_examples=300)
@given(
    levels=st.lists(st.integers(0, 9), min_size=1, max_size=400),  # many ties
    cold=st.integers(0, 4),
    window=st.integers(1, 120),
    resume=st.integers(0, 100),
    halt=st.integers(0, 100),
)
def test_verdicts_judge_as_the_ranks_do(
    levels: list[int], cold: int, window: int, resume: int, halt: int
) -> None:
    # Arrange: rank thresholds anywhere in the window, the resume one at most the halt one
    series = np.array([math.nan] * cold + [x / 4 for x in levels], dtype=np.float64)
    resume_rank = min(resume, halt) * window // 100
    halt_rank = max(resume, halt) * window // 100
    # Act
    warm, trip, go = verdicts_of(series, window, resume_rank, halt_rank)
    # Assert
    ranks = ranks_of(series, window)
    assert warm.tolist() == (ranks >= 0).tolist()
    assert trip.tolist() == (warm & (ranks >= halt_rank)).tolist()
    assert go.tolist() == (warm & (ranks < resume_rank)).tolist()
    assert [rank_at(series, i, window) for i in range(len(series))] == ranks.tolist()
    first = first_level(series)  # kept by the backtester: rank_at then counts the window only
    assert first == cold
    assert [rank_at(series, i, window, first) for i in range(len(series))] == ranks.tolist()


def test_verdicts_on_the_crash_minutes_equal_the_ranks_for_the_default_window() -> None:
    # Arrange: real minutes, the default window (sub-blocks, their cores and the rest)
    limits = RiskLimits()
    rule = Rule.of(limits)
    levels = levels_of(rule.measure, rule.period, CRASH.high, CRASH.low, CRASH.close)
    # Act
    warm, trip, go = verdicts_of(levels, rule.window, rule.resume_rank, rule.halt_rank)
    # Assert
    ranks = ranks_of(levels, rule.window)
    assert trip.any()  # all three verdicts occur
    assert (warm & ~go & ~trip).any()
    assert trip.tolist() == (warm & (ranks >= rule.halt_rank)).tolist()
    assert go.tolist() == (warm & (ranks < rule.resume_rank)).tolist()


@settings(max_examples=200)
@given(
    closes=st.lists(st.integers(50, 150), min_size=1, max_size=300),
    spreads=st.lists(st.integers(0, 12), min_size=300, max_size=300),
    measure=st.sampled_from(["atr", "realized"]),
    period=st.integers(1, 6),
    window=st.integers(1, 80),
    percentiles=st.tuples(st.integers(0, 100), st.integers(0, 100)),
    absolute=st.sampled_from([0.0, 1.0, 4.0, 9.0]),
)
def test_the_series_holds_the_last_decisive_verdict_as_the_filter_does(
    closes: list[int],
    spreads: list[int],
    measure: str,
    period: int,
    window: int,
    percentiles: tuple[int, int],
    absolute: float,
) -> None:
    # Arrange: either mode, both or none, on random candles; the reference judges each
    # candle as the live filter does (Rule.trips, then Rule.lets_go) and keeps its state
    close = np.array(closes, dtype=np.float64)
    spread = np.array(spreads[: len(closes)], dtype=np.float64)
    high, low = close + spread, close - spread / 2
    resume, halt = sorted(percentiles)
    rule = Rule(
        measure,
        period,
        window,
        absolute,
        absolute * 0.6,
        math.ceil(halt * window / 100),
        math.ceil(resume * window / 100),
    )
    # Act
    halted, levels = halt_series(rule, high, low, close)
    # Assert
    ranks = ranks_of(levels, window)
    state, expect = False, []
    for level, rank in zip(levels.tolist(), ranks.tolist(), strict=True):
        if not math.isnan(level) and rule.on:
            judged_rank = rank if rank >= 0 else None
            if rule.trips(level, judged_rank):
                state = True
            elif rule.lets_go(level, judged_rank):
                state = False
        expect.append(state)
    assert halted.tolist() == expect
