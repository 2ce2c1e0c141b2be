"""The speed-ups behind ``run_backtest`` give the same bits as the plain code they replace:
the whole-number SMA, the crossings, read-only views for strategies, the gate's dispatch
table, metrics on one buffer, the union timeline and the zero-copy CSV columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from trading import indicators
from trading.backtest import BacktestSpec, compute_metrics, load_frame, run_backtest
from trading.backtest.metrics import metrics_of_curve
from trading.backtest.synthetic import random_walk
from trading.risk.gate import ORDER, EntryRequest, RiskContext, RiskGate
from trading.risk.halts import HaltWindow
from trading.risk.limits import RiskLimits
from trading.strategies import (
    CandleFrame,
    Signals,
    Strategy,
    StrategyError,
    build_strategy,
    safe_signals,
)
from trading.strategies._signals import crossed_above, crossed_below
from trading.strategies.params import StrategyParams
from trading.upbit.market_rules import KRW_TICKS, UpbitMarketRules


def window_mean(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1 :] = sliding_window_view(x, n).mean(axis=-1)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_sma_of_whole_numbers_has_the_sliding_window_bits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases = [
        rng.integers(1, 10**9, 3000).astype(float),  # KRW prices
        rng.integers(1, 4, 500).astype(float),  # many equal sums
        rng.integers(2**40, 2**44, 400).astype(float),  # large, still exact in float64
        random_walk(20_000, seed, ticks=KRW_TICKS).close,
    ]
    for x in cases:
        for n in (1, 2, 7, 20, 60, 199):
            assert indicators.sma(x, n).tobytes() == window_mean(x, n).tobytes()


@pytest.mark.parametrize(
    "x",
    [
        np.round(np.random.default_rng(1).uniform(0.1, 900.0, 2000), 1),  # fractions
        np.array([3.0, np.nan, 5.0, 6.0, 7.0, 8.0]),  # NaN
        np.array([-2.0, 4.0, -0.0, 0.0, 9.0, 1.0, 3.0]),  # signs and zeros
        np.full(50, 2.0**50),  # sums beyond 2**53
    ],
)
def test_sma_falls_back_where_sums_are_not_exact(x: np.ndarray) -> None:
    for n in (2, 3, 5):
        assert indicators.sma(x, n).tobytes() == window_mean(x, n).tobytes()


def test_crossings_match_the_definition() -> None:
    rng = np.random.default_rng(5)
    for length in (0, 1, 2, 3, 400):
        a, b = rng.normal(size=length), rng.normal(size=length)
        a[::5] = np.nan
        b[::7] = a[::7]  # ties
        up = np.zeros(length, bool)
        up[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
        down = np.zeros(length, bool)
        down[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
        assert np.array_equal(crossed_above(a, b), up)
        assert np.array_equal(crossed_below(a, b), down)


class _Spy(Strategy[StrategyParams]):
    name = "spy"
    version = 1
    Params = StrategyParams
    seen: list[CandleFrame]

    def warmup(self) -> int:
        return 1

    def signals(self, frame: CandleFrame) -> Signals:
        self.seen.append(frame)
        entry = frame.close > 1.5
        return Signals(entry, ~entry)


def test_safe_signals_hands_read_only_views_without_copying() -> None:
    frame = random_walk(100, 2, ticks=KRW_TICKS)
    spy = _Spy()
    spy.seen = []
    signals = safe_signals(spy, frame)
    seen = spy.seen[0]
    for name in ("start", "open", "high", "low", "close", "volume"):
        view, mine = getattr(seen, name), getattr(frame, name)
        assert view is not mine
        assert np.shares_memory(view, mine)
        assert not view.flags.writeable
    assert mine.flags.writeable  # the caller's arrays stay as they were
    with pytest.raises(ValueError, match="read-only"):
        seen.close[0] = 1.0
    assert not signals.entry.flags.writeable
    assert not signals.exit.flags.writeable


def test_a_strategy_writing_to_its_candles_fails_and_changes_nothing() -> None:
    class Writer(_Spy):
        def signals(self, frame: CandleFrame) -> Signals:
            frame.volume[:] = 0.0
            return super().signals(frame)

    frame = random_walk(50, 3, ticks=KRW_TICKS)
    before = frame.volume.copy()
    writer = Writer()
    writer.seen = []
    with pytest.raises(StrategyError, match="read-only"):
        safe_signals(writer, frame)
    assert np.array_equal(frame.volume, before)


def _gate_cases() -> list[tuple[RiskLimits, EntryRequest, RiskContext]]:
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    request = EntryRequest(market="KRW-BTC", signal_price=D(100), krw=D(10_000), bar_time=now)
    ok = RiskContext(free_krw=D(10**7), open_positions=0, equity=D(10**7), day_pnl=D(0))
    base = RiskLimits(position_size_krw=D(10_000))
    window = HaltWindow(name="w", start=now - timedelta(hours=1), end=now + timedelta(hours=1))
    halted = RiskLimits(position_size_krw=D(10_000), halt_windows=(window,))
    big = EntryRequest(market="KRW-BTC", signal_price=D(100), krw=D(10**10), bar_time=now)
    return [
        (base, request, ok),
        (base, request, RiskContext(**{**_fields(ok), "kill_switch": True})),
        (base, request, RiskContext(**{**_fields(ok), "paused": True})),
        (halted, request, ok),
        (base, request, RiskContext(**{**_fields(ok), "day_pnl": D(-(10**6))})),
        (base, request, RiskContext(**{**_fields(ok), "open_positions": 9})),
        (base, big, ok),
        (base, request, RiskContext(**{**_fields(ok), "free_krw": D(100)})),
        (base, request, RiskContext(**{**_fields(ok), "estimate_fill": lambda m, k: D(200)})),
        (base, request, RiskContext(**{**_fields(ok), "estimate_fill": lambda m, k: None})),
    ]


def _fields(ctx: RiskContext) -> dict[str, object]:
    return {name: getattr(ctx, name) for name in RiskContext.__dataclass_fields__}


@pytest.mark.parametrize("case", range(10))
def test_the_gate_dispatch_table_decides_as_the_checks_by_name(case: int) -> None:
    limits, request, ctx = _gate_cases()[case]
    fast, slow = (
        RiskGate(limits, rules=UpbitMarketRules()),
        RiskGate(limits, rules=UpbitMarketRules()),
    )
    decision = fast.check_entry(request, ctx)
    slow.observe(request.bar_time, ctx)
    expected = None
    for name in ORDER:
        expected = slow._run(name, request, ctx)
        if not expected.ok:
            break
    assert decision == expected
    assert (decision.ok, getattr(decision, "check", None)) == (
        expected.ok,
        getattr(expected, "check", None),
    )
    with pytest.raises(AssertionError):
        slow._run("nonsense", request, ctx)


def test_metrics_of_one_buffer_equal_compute_metrics() -> None:
    rng = np.random.default_rng(9)
    equity = 1e6 * np.cumprod(1 + rng.normal(0, 1e-3, 5000))
    pnls = [D(int(x)) for x in rng.normal(0, 1000, 300)]
    kwargs = {"pnls": pnls, "fees_krw": D(12), "timeframe_s": 60, "exposure_bars": 1234}
    a = compute_metrics(equity=equity, start_krw=1e6, buy_and_hold_pct=1.5, **kwargs)  # type: ignore[arg-type]
    curve = np.concatenate(([1e6], equity))
    b = metrics_of_curve(curve=curve, buy_and_hold_pct=1.5, **kwargs)  # type: ignore[arg-type]
    assert a == b


def test_markets_on_overlapping_and_separate_spans_make_the_union_timeline() -> None:
    spec = BacktestSpec(
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=RiskLimits(
            position_size_krw=D(1_000_000),
            max_open_positions=2,
            atr_stop_mult=D(0),
            volatility_halt_pct=D(0),
            volatility_halt_percentile=D(0),
            daily_loss_limit_krw=D(0),
            max_drawdown_pct=D(0),
        ),
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    start = 1_704_067_200
    for offsets in ((0, 600, 1200), (0, 4000, 100)):  # candles: overlapping; with a hole
        data = {
            f"KRW-X{i}": random_walk(3000, i, start=start + off * 60, ticks=KRW_TICKS)
            for i, off in enumerate(offsets)
        }
        result = run_backtest(spec, data)
        expected = np.unique(np.concatenate([f.start for f in data.values()]))
        assert np.array_equal(result.times, expected)
        assert len(result.equity) == len(expected)


def test_csv_columns_are_read_once(tmp_path: Path) -> None:
    frame = random_walk(3000, 4, ticks=KRW_TICKS)
    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    stamps = np.datetime_as_string(frame.start.astype("datetime64[s]"), unit="s")
    with path.open("w") as handle:
        handle.write("timestamp_utc,open,high,low,close,volume,value\n")
        for i in range(len(frame)):
            handle.write(
                f"{stamps[i]}Z,{frame.open[i]:.0f},{frame.high[i]:.0f},{frame.low[i]:.0f},"
                f"{frame.close[i]:.0f},{frame.volume[i]:.8f},1\n"
            )
    loaded = load_frame(path)
    for name in ("start", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(loaded, name), getattr(frame, name))
        assert getattr(loaded, name).dtype == getattr(frame, name).dtype


@pytest.mark.parametrize(("seed", "scale"), [(1, 1.0), (2, 1.0), (3, 0.0123)])
def test_the_stop_scanners_atr_is_the_engines_decimal_atr(seed: int, scale: float) -> None:
    """Whole-number prices take the running-total ATR (issue #13: summing 15 Decimals per
    candidate candle was the backtest's next hot spot); others the Decimal sum. Same value."""
    from trading.backtest.stops import StopScanner, dec
    from trading.risk.measures import atr_of

    # Arrange
    frame = random_walk(400, seed, ticks=KRW_TICKS)
    if scale != 1.0:
        frame = CandleFrame(
            start=frame.start,
            open=frame.open * scale,
            high=frame.high * scale,
            low=frame.low * scale,
            close=frame.close * scale,
            volume=frame.volume,
        )
    scanner = StopScanner("KRW-BTC", "1m", frame, 14)
    # Act / Assert
    for bar in range(len(frame)):
        rows = range(max(0, bar - 14), bar + 1)
        want = atr_of(
            [dec(frame.high[i]) for i in rows],
            [dec(frame.low[i]) for i in rows],
            [dec(frame.close[i]) for i in rows],
            14,
        )
        got = scanner.atr(bar)
        assert got == want
        assert str(got) == str(want)


@pytest.mark.parametrize(
    ("seed", "scale", "shared"),
    [(1, 1.0, True), (2, 1.0, True), (3, 1e3, True), (4, 0.0123, False), (5, 1.0000001, False)],
)
def test_volatility_levels_from_the_scanners_true_range_sums_have_the_same_bits(
    seed: int, scale: float, shared: bool
) -> None:
    """An ATR stop's exact integer true-range sums stand in for the volatility filter's own
    pass (issue #13, speed): whole-number prices only, and then the levels are the same bits;
    other prices (tenths, or a hair off whole) get no sums and keep the filter's own pass."""
    from trading.backtest.stops import StopScanner
    from trading.risk.settings import RiskSettings
    from trading.risk.volatility import Rule, halt_series, levels_of

    # Arrange
    frame = random_walk(6000, seed, ticks=KRW_TICKS)
    high, low, close = (frame.high * scale, frame.low * scale, frame.close * scale)
    if scale == 1e3:  # larger whole numbers, still exact in float64
        high, low, close = np.round(high), np.round(low), np.round(close)
    scaled = CandleFrame(frame.start, frame.open * scale, high, low, close, frame.volume)
    scanner = StopScanner("KRW-BTC", "1m", scaled, 14)
    rule = Rule.of(
        RiskSettings(
            volatility_halt_percentile=D(90),
            volatility_resume_percentile=D(80),
            volatility_window_candles=200,
        )
    )
    # Act
    sums = scanner.whole_tr_sums()
    # Assert
    assert (sums is not None) == shared
    if sums is None:
        return
    own = levels_of("atr", 14, high, low, close)
    assert levels_of("atr", 14, high, low, close, sums).tobytes() == own.tobytes()
    halted, levels = halt_series(rule, high, low, close, sums)
    want_halted, want_levels = halt_series(rule, high, low, close)
    assert levels.tobytes() == want_levels.tobytes()
    assert np.array_equal(halted, want_halted)
    assert scanner.atr(100) is not None


@settings(deadline=None, max_examples=300)
@given(
    price=st.decimals(D("0.00001"), D("3000000000"), allow_nan=False, allow_infinity=False),
    ref=st.decimals(D("0.0001"), D("3000000000"), allow_nan=False, allow_infinity=False),
    market=st.sampled_from(["KRW-BTC", "BTC-ETH", "USDT-BTC"]),
)
def test_the_stops_rounding_in_its_band_is_round_price(price: D, ref: D, market: str) -> None:
    """``TrailingStop._round_down`` (one division inside the band ``ceiling`` looked up, issue
    #13's next hot spot) rounds as ``UpbitMarketRules.round_price`` does, in every band."""
    from trading.domain.rules import Rounding
    from trading.risk.stops import TrailingStop

    rules = UpbitMarketRules()
    stop = TrailingStop.open(
        market=market,
        entry_price=ref,
        atr=None,
        atr_mult=D(0),
        rules=rules,
        fallback_pct=D(2),
        min_distance_pct=D("0.2"),
        take_profit_pct=D(0),
    )
    stop.ceiling(ref)  # looks the band of ``ref`` up, as ``_raise_to`` does first
    got = stop._round_down(price)
    want = rules.round_price(market, price, Rounding.DOWN)
    assert got == want
    assert str(got) == str(want)


@settings(max_examples=300, deadline=None)
@given(
    prices=st.lists(
        st.decimals(min_value=D("0.00001"), max_value=D(5_000_000), places=5), min_size=1
    ),
    bps=st.sampled_from([D(0), D(1), D(5), D("12.5"), D(100), D(10_000), D(20_000)]),
    exceptions=st.booleans(),
)
def test_the_tick_grid_slips_as_the_fill_model_does(
    prices: list[D], bps: D, exceptions: bool
) -> None:
    # Arrange: prices across many tick bands, one after another (the band kept between
    # them), with and without a venue exception to the published table
    from trading.backtest.grid import TickGrid
    from trading.domain.rules import Rounding
    from trading.paper.fill_model import slipped_price

    rules = UpbitMarketRules(band_ticks={"KRW-BTC": {D(1000): D(5)}} if exceptions else {})
    grid = TickGrid(rules, "KRW-BTC")
    for price in prices:
        for side in ("bid", "ask"):
            if bps:
                # Act / Assert: the same Decimal, digits and exponent alike
                got = grid.slipped(price, side, bps)
                assert str(got) == str(slipped_price(rules, "KRW-BTC", price, side, bps))
        for rounding in Rounding:
            assert str(grid.round(price, rounding)) == str(
                rules.round_price("KRW-BTC", price, rounding)
            )
