"""``run_backtest`` on synthetic data: invariants, the stop fast path against a bar-by-bar
walk of the real ``TrailingStop``, position limits, bad frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from tests.engine.conftest import BEFORE_13
from trading.backtest import (
    BacktestSpec,
    fill_gaps,
    find_gaps,
    run_backtest,
)
from trading.backtest.stops import StopScanner, dec, print_time
from trading.backtest.synthetic import START, random_walk
from trading.domain import Bar
from trading.risk.limits import RiskLimits
from trading.risk.stops import Trail, TrailingStop
from trading.strategies import CandleFrame, build_strategy
from trading.upbit.market_rules import KRW_TICKS, UpbitMarketRules


def limits(**changes: object) -> RiskLimits:
    base: dict[str, object] = {
        "position_size_krw": D(1_000_000),
        "daily_loss_limit_krw": D(0),
        "max_drawdown_pct": D(0),
        "volatility_halt_pct": D(0),
        "atr_stop_mult": D(0),
        **BEFORE_13,
    }
    return RiskLimits(**{**base, **changes})  # type: ignore[arg-type]


def spec(**changes: object) -> BacktestSpec:
    values: dict[str, object] = {
        "strategy": build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        "limits": limits(),
        "timeframe": "1m",
        "rules": UpbitMarketRules(),
    }
    return BacktestSpec(**{**values, **changes})  # type: ignore[arg-type]


def test_random_walk_is_valid_seeded_and_whole_krw() -> None:
    a, b = random_walk(5000, 3, ticks=KRW_TICKS), random_walk(5000, 3, ticks=KRW_TICKS)
    assert np.array_equal(a.close, b.close)
    assert not np.array_equal(a.close, random_walk(5000, 4, ticks=KRW_TICKS).close)
    for column in (a.open, a.high, a.low, a.close):
        assert np.array_equal(column, np.round(column))
    assert np.all(a.low <= np.minimum(a.open, a.close))
    assert np.all(a.high >= np.maximum(a.open, a.close))
    assert not find_gaps(a, 60)


def test_cash_and_pnl_add_up() -> None:
    result = run_backtest(spec(), {"KRW-BTC": random_walk(20_000, 1, ticks=KRW_TICKS)})
    closed = [t for t in result.trades if t.exit_reason != "end"]
    assert len(closed) > 50
    pnl = sum((t.pnl_krw for t in result.trades), D(0))
    assert result.metrics.final_equity_krw == pytest.approx(float(D(10_000_000) + pnl), abs=1e-3)
    assert len(result.equity) == len(result.times) == 20_000
    for t in result.trades:
        assert t.entry_at < t.exit_at
        assert t.volume == t.volume.quantize(D("0.00000001"))
        assert t.entry_fee == t.entry_price * t.volume * D("0.0005")
    # one position at a time in one market, entries in time order
    for before, after in zip(result.trades, result.trades[1:], strict=False):
        assert before.exit_at <= after.entry_at


def test_position_limits_across_markets() -> None:
    frames = {f"KRW-C{i}": random_walk(5_000, 100 + i, ticks=KRW_TICKS) for i in range(10)}
    result = run_backtest(spec(limits=limits(max_open_positions=2)), frames)
    moments = sorted(
        [(t.entry_at, 1) for t in result.trades] + [(t.exit_at, -1) for t in result.trades],
        key=lambda m: (m[0], m[1]),
    )
    open_now = peak = 0
    for _, step in moments:
        open_now += step
        peak = max(peak, open_now)
    assert peak == 2
    assert {t.market for t in result.trades} == set(frames)


def test_stops_fire_and_cool_down() -> None:
    result = run_backtest(
        spec(
            limits=limits(
                atr_stop_mult=D(1), take_profit_pct=D("0.2"), stop_min_distance_pct=D("0.2")
            ),
            stop_cooldown_candles=7,
        ),
        {"KRW-BTC": random_walk(30_000, 5, ticks=KRW_TICKS)},
    )
    reasons = {t.exit_reason for t in result.trades}
    assert {"stop", "take_profit"} <= reasons
    stops = [t for t in result.trades if t.exit_reason == "stop"]
    later = {t.entry_at: t for t in result.trades}
    for stop in stops:
        following = [at for at in later if at > stop.exit_at]
        if following:
            gap = (min(following) - stop.exit_at).total_seconds()
            assert gap >= 7 * 60 - 60  # the entry signal comes 7 candles after the exit candle


def naive_scan(
    frame: CandleFrame, stop: TrailingStop, entry: int, last: int, period: int
) -> tuple[int, int, str] | None:
    """Every candle, every print: the engine's own loop, without any skipping."""
    scanner = StopScanner("KRW-BTC", "1m", frame, period)
    for k in range(entry, last + 1):
        o, h, lo, c = (float(x[k]) for x in (frame.open, frame.high, frame.low, frame.close))
        path = (o, lo, h, c) if c >= o else (o, h, lo, c)
        for index in range(1 if k == entry else 0, 4):
            hit = stop.should_exit(dec(path[index]))
            if hit is not None:
                return k, index, hit.kind
        if k + 1 < len(frame):
            atr = scanner.atr(k)  # None before the ATR warm-up: the fallback stands
            start = datetime.fromtimestamp(int(frame.start[k]), UTC)
            stop.update(Bar("KRW-BTC", "1m", start, dec(o), dec(h), dec(lo), dec(c), D(1)), atr)
    return None


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "start_price",
    [1_234_567.0, 150.0],  # ticks of 1,000 and 500 (the 1,000,000 band edge); a tick of 1
)
def test_stop_fast_path_never_changes_a_result(seed: int, start_price: float) -> None:
    """Also with the fallback (entries before the ATR warm-up) and the minimum distance,
    where at 150 KRW the one-tick minimum (0.67 %) is wider than the percentage."""
    frame = random_walk(3_000, seed, start_price=start_price, volatility=0.002, ticks=KRW_TICKS)
    rng = np.random.default_rng(seed)
    rules = UpbitMarketRules()
    scanner = StopScanner("KRW-BTC", "1m", frame, 14)
    for _ in range(30):
        entry = int(rng.integers(1, 2_900))
        last = min(len(frame) - 1, entry + int(rng.integers(1, 400)))
        mult = D(str(rng.choice(["0", "0.5", "1", "2", "3.5"])))
        tp = D(str(rng.choice(["0", "0.3", "1"])))
        gap = D(str(rng.choice(["0.05", "0.2", "1"])))
        price = dec(frame.open[entry])

        def fresh() -> TrailingStop:
            return TrailingStop.open(
                market="KRW-BTC",
                entry_price=price,  # noqa: B023
                atr=scanner.atr(entry - 1) if mult else None,  # noqa: B023
                atr_mult=mult,  # noqa: B023
                rules=rules,
                fallback_pct=D("0.5"),
                min_distance_pct=gap,  # noqa: B023
                take_profit_pct=tp,  # noqa: B023
            )

        fast, slow = fresh(), fresh()
        hit = scanner.scan(fast, entry, last)
        expected = naive_scan(frame, slow, entry, last, 14)
        assert (None if hit is None else (hit.bar, hit.print_index, hit.kind)) == expected
        if hit is None:
            assert fast.stop == slow.stop  # the trailing level ends the same too


def test_stop_fast_path_sees_a_raise_that_only_the_minimum_distance_allows() -> None:
    """Quiet candles (ATR 200) put the stop at the 1 % minimum distance; then the price rises
    on wide candles: ``highest close - ATR`` falls below the earlier quiet candidates, yet
    under the cap the stop still rises, and the dip after it must hit that higher stop."""
    opens = [1_000_000.0] * 21 + [1_000_000.0 + 500 * i for i in range(10)] + [1_005_000.0]
    closes = [*opens[1:], 1_005_000.0]
    wicks = [100 if i < 21 else 4_000 for i in range(len(opens))]
    highs = [max(o, c) + w for o, c, w in zip(opens, closes, wicks, strict=True)]
    lows = [min(o, c) - w for o, c, w in zip(opens, closes, wicks, strict=True)]
    lows[-1] = 993_500.0  # under the raised stop (994,000), above the first one (990,000)
    n = len(opens)
    frame = CandleFrame(
        start=START + np.arange(n, dtype=np.int64) * 60,
        open=np.array(opens),
        high=np.array(highs),
        low=np.array(lows),
        close=np.array(closes),
        volume=np.ones(n),
    )
    scanner = StopScanner("KRW-BTC", "1m", frame, 14)

    def fresh() -> TrailingStop:
        return TrailingStop.open(
            market="KRW-BTC",
            entry_price=D(1_000_000),
            atr=scanner.atr(19),
            atr_mult=D(1),
            rules=UpbitMarketRules(),
            fallback_pct=D(2),
            min_distance_pct=D(1),
            trail=Trail(),
        )

    fast, slow = fresh(), fresh()
    assert fast.stop == D(990_000)
    hit = scanner.scan(fast, 20, n - 1)
    expected = naive_scan(frame, slow, 20, n - 1, 14)
    assert expected is not None
    assert expected[0] == n - 1
    assert (None if hit is None else (hit.bar, hit.print_index, hit.kind)) == expected


@pytest.mark.parametrize("gap", ["0.05", "0.2", "1"])
def test_the_float_ceiling_is_the_stops_own_in_and_across_tick_bands(gap: str) -> None:
    scanner = StopScanner("KRW-BTC", "1m", random_walk(30, 1, ticks=KRW_TICKS), 14)
    stop = TrailingStop.open(
        market="KRW-BTC",
        entry_price=D(150),
        atr=D(0),
        atr_mult=D(1),
        rules=UpbitMarketRules(),
        fallback_pct=D(2),
        min_distance_pct=D(gap),
    )
    spans = (
        [150.0, 160.0],  # one band, the tick (1) is the wider
        [5_000_000.0, 6_000_000.0],  # one band, the percentage is the wider
        [100_000.0, 120_000.0, 600_000.0],  # one band (100), either
        [99_000.0, 99_950.0, 100_000.0, 150_000.0],  # across the 100,000 edge
        [990_000.0, 999_500.0, 1_000_000.0, 1_200_000.0],  # across the 1,000,000 edge
    )
    for highs in spans:
        got = scanner._ceiling(stop, np.array(highs))
        want = [float(stop.ceiling(D(repr(h)))) for h in highs]
        assert np.allclose(got, want, rtol=1e-12, atol=0), highs


def test_frames_with_gaps_or_misalignment_are_refused() -> None:
    frame = random_walk(100, 1, ticks=KRW_TICKS)
    holed = CandleFrame(
        start=np.delete(frame.start, [10, 11]),
        open=np.delete(frame.open, [10, 11]),
        high=np.delete(frame.high, [10, 11]),
        low=np.delete(frame.low, [10, 11]),
        close=np.delete(frame.close, [10, 11]),
        volume=np.delete(frame.volume, [10, 11]),
    )
    with pytest.raises(ValueError, match="2 missing candle"):
        run_backtest(spec(), {"KRW-BTC": holed})
    filled, added = fill_gaps(holed, 60)
    assert added == 2
    assert np.array_equal(filled.start, frame.start)
    assert filled.close[10] == filled.open[10] == filled.high[10] == holed.close[9]
    assert filled.volume[10] == 0
    with pytest.raises(ValueError, match="not aligned"):
        run_backtest(spec(timeframe="15m"), {"KRW-BTC": frame})
    with pytest.raises(ValueError, match="no market data"):
        run_backtest(spec(), {})


def test_strategy_warm_up_and_last_candle_rules() -> None:
    """No entry before max(warmup, atr_period + 1) candles; the last candle never acts."""
    frame = random_walk(3_000, 9, ticks=KRW_TICKS)
    result = run_backtest(spec(limits=limits(atr_period=50)), {"KRW-BTC": frame})
    first = int(result.trades[0].entry_at.timestamp())
    assert first >= int(frame.start[51])
    end = datetime.fromtimestamp(int(frame.start[-1]) + 60, UTC)
    assert all(t.exit_at <= end for t in result.trades)


def test_skipping_certain_refusals_changes_nothing() -> None:
    """With the loss and drawdown halts off, entries the gate must refuse (no slot, no
    cash) are not put to it; asking it every time gives the same trades."""
    from trading.backtest import runner

    frames = {f"KRW-C{i}": random_walk(4_000, 300 + i, ticks=KRW_TICKS) for i in range(6)}
    the_spec = spec(limits=limits(max_open_positions=2, position_size_krw=D(3_000_000)))
    fast = run_backtest(the_spec, frames)
    slow = runner._Backtest(the_spec, frames)
    slow.quiet_gate = False
    slow.run()
    assert slow.result().trades == fast.trades
    assert fast.metrics.trades > 20


def test_atr_stop_off_keeps_the_take_profit() -> None:
    """``atr_stop_mult`` 0: no stop at all, live and backtest alike; a take-profit still works."""
    stop = TrailingStop.open(
        market="KRW-BTC",
        entry_price=D(100_000),
        atr=None,
        atr_mult=D(0),
        rules=UpbitMarketRules(),
        fallback_pct=D(2),
        min_distance_pct=D("0.2"),
        take_profit_pct=D(1),
    )
    assert stop.stop is None
    assert stop.take_profit == D(101_000)
    bar = Bar("KRW-BTC", "1m", datetime(2024, 1, 1, tzinfo=UTC), *(D(v) for v in (1, 1, 1, 1, 1)))
    assert stop.update(bar, D(5_000)) is None
    assert stop.should_exit(D(1)) is None  # far below the entry: nothing
    hit = stop.should_exit(D(101_000))
    assert hit is not None
    assert hit.kind == "take_profit"


def test_trades_are_built_on_demand_and_once() -> None:
    result = run_backtest(spec(), {"KRW-BTC": random_walk(5_000, 2, ticks=KRW_TICKS)})
    assert "trades" not in vars(result)
    first = result.trades
    assert result.trades is first
    assert result.metrics.trades == len(first)


def _flat_moment(trades: tuple, frame: CandleFrame, after: int) -> int:
    """A candle index >= ``after`` at which no position of ``trades`` is open."""
    spans = [(t.entry_at.timestamp(), t.exit_at.timestamp()) for t in trades]
    for k in range(after, len(frame)):
        at = int(frame.start[k])
        if not any(lo <= at <= hi for lo, hi in spans):
            return k
    raise AssertionError("never flat")


def test_trade_from_warms_up_on_earlier_candles_and_counts_from_there() -> None:
    frame = random_walk(20_000, 5, ticks=KRW_TICKS)
    full = run_backtest(spec(), {"KRW-BTC": frame})
    k = _flat_moment(full.trades, frame, 8_000)
    since = int(frame.start[k])
    windowed = run_backtest(spec(trade_from=since), {"KRW-BTC": frame})

    later = [t for t in full.trades if t.entry_at.timestamp() >= since]
    key = [(t.entry_at, t.exit_at, t.entry_price, t.exit_price, t.volume) for t in later]
    assert [
        (t.entry_at, t.exit_at, t.entry_price, t.exit_price, t.volume) for t in windowed.trades
    ] == key  # a fixed KRW stake: the same trades, whatever the cash before
    assert windowed.times[0] == since
    assert len(windowed.times) == len(frame) - k
    assert windowed.metrics.trades == len(later)
    assert windowed.equity[0] <= float(spec().start_krw) * 1.01  # starts with the start cash
    open_k = float(frame.open[k])
    expected_hold = (float(frame.close[-1]) / open_k - 1.0) * 100.0
    assert windowed.buy_and_hold.return_pct == pytest.approx(expected_hold)


def test_without_warm_up_a_window_loses_its_first_signals() -> None:
    frame = random_walk(20_000, 6, ticks=KRW_TICKS)
    full = run_backtest(spec(), {"KRW-BTC": frame})
    k = _flat_moment(full.trades, frame, 8_000)
    warmed = run_backtest(spec(trade_from=int(frame.start[k])), {"KRW-BTC": frame})
    cold = run_backtest(spec(), {"KRW-BTC": frame[k:]})
    warm_bars = spec().strategy.warmup()
    first_cold = min(t.entry_at for t in cold.trades)
    assert first_cold.timestamp() >= int(frame.start[k + warm_bars - 1])
    assert len(warmed.trades) >= len(cold.trades)


def test_trade_from_after_the_data_is_refused() -> None:
    frame = random_walk(500, 7, ticks=KRW_TICKS)
    with pytest.raises(ValueError, match="no candles at or after trade_from"):
        run_backtest(spec(trade_from=int(frame.start[-1]) + 60), {"KRW-BTC": frame})


def naive_exits(
    frame: CandleFrame, stop: TrailingStop, entry: int, last: int, period: int
) -> tuple[int, int, str] | None:
    """``naive_scan`` with the print times: every print asked with its market time."""
    scanner = StopScanner("KRW-BTC", "1m", frame, period)
    for k in range(entry, last + 1):
        o, h, lo, c = (float(x[k]) for x in (frame.open, frame.high, frame.low, frame.close))
        path = (o, lo, h, c) if c >= o else (o, h, lo, c)
        for index in range(1 if k == entry else 0, 4):
            at = print_time(int(frame.start[k]), 60, index)
            hit = stop.should_exit(dec(path[index]), at)
            if hit is not None:
                return k, index, hit.kind
        if k + 1 < len(frame):
            atr = scanner.atr(k) if stop.atr_mult > 0 else None
            start = datetime.fromtimestamp(int(frame.start[k]), UTC)
            stop.update(Bar("KRW-BTC", "1m", start, dec(o), dec(h), dec(lo), dec(c), D(1)), atr)
    return None


TRAILS = (
    None,
    Trail(),
    Trail(positive_pct=D("0.2"), offset_pct=D("0.4")),
    Trail(positive_pct=D("0.1"), offset_pct=D("0.3"), only_offset=True),
    Trail(offset_pct=D("0.2"), only_offset=True),
)
ROIS: tuple[tuple[tuple[int, D], ...], ...] = (
    (),
    ((0, D(1)), (20, D("0.4")), (90, D("0.1"))),
    ((30, D(0)),),
)


@pytest.mark.parametrize("seed", range(8))
def test_exit_fast_path_never_changes_a_result(seed: int) -> None:
    """Issue #13: fixed and percentage stops, trailing with offsets, the ROI table and a
    holding time that runs out inside a candle: the scanner finds what every print finds."""
    frame = random_walk(3_000, seed, start_price=1_234_567.0, volatility=0.002, ticks=KRW_TICKS)
    rng = np.random.default_rng(100 + seed)
    rules = UpbitMarketRules()
    scanner = StopScanner("KRW-BTC", "1m", frame, 14)
    kinds: set[str] = set()
    for _ in range(40):
        entry = int(rng.integers(1, 2_900))
        last = min(len(frame) - 1, entry + int(rng.integers(1, 400)))
        mult = D(str(rng.choice(["0", "1", "2"])))
        loss = D(str(rng.choice(["0", "0.3", "1"])))
        trail = TRAILS[int(rng.integers(len(TRAILS)))]
        roi = ROIS[int(rng.integers(len(ROIS)))]
        hold = int(rng.choice([0, 45, 200]))
        gap = D(str(rng.choice(["0.05", "0.2", "1"])))
        price = dec(frame.open[entry])
        entered = datetime.fromtimestamp(int(frame.start[entry]), UTC) + timedelta(seconds=20)

        def fresh() -> TrailingStop:
            return TrailingStop.open(
                market="KRW-BTC",
                entry_price=price,  # noqa: B023
                atr=scanner.atr(entry - 1) if mult else None,  # noqa: B023
                atr_mult=mult,  # noqa: B023
                rules=rules,
                fallback_pct=D("0.5"),
                min_distance_pct=gap,  # noqa: B023
                stop_loss_pct=loss,  # noqa: B023
                trail=trail,  # noqa: B023
                roi=roi,  # noqa: B023
                max_holding_minutes=hold,  # noqa: B023
                entered_at=entered,  # noqa: B023
            )

        fast, slow = fresh(), fresh()
        time_bar = None
        if fast.deadline is not None:
            time_bar = entry + hold  # 20 s into the entry candle + whole minutes: print 2
        hit = scanner.scan(fast, entry, last, time_bar)
        expected = naive_exits(frame, slow, entry, last, 14)
        assert (None if hit is None else (hit.bar, hit.print_index, hit.kind)) == expected
        if hit is None:
            assert fast.stop == slow.stop
        else:
            kinds.add(hit.kind)
    assert {"stop", "trailing", "roi"} <= kinds


@pytest.mark.parametrize("divisor", [1.0, 4.0, 1000.0, 3.0])
def test_the_exact_integer_atr_is_the_engines_decimal_atr(divisor: float) -> None:
    """Whole KRW, quarters, thousandths: the integer window sums give the Decimal ATR the
    engine computes; thirds (no whole unit of 10^-d) take the Decimal way."""
    walk = random_walk(600, 7, start_price=150.0, volatility=0.01, ticks=KRW_TICKS)
    frame = CandleFrame(
        start=walk.start,
        open=walk.open / divisor,
        high=walk.high / divisor,
        low=walk.low / divisor,
        close=walk.close / divisor,
        volume=walk.volume,
    )
    fast, slow = StopScanner("KRW-X", "1m", frame, 14), StopScanner("KRW-X", "1m", frame, 14)
    slow._tr_sums = False  # the Decimal way, as before
    assert [fast.atr(k) for k in range(600)] == [slow.atr(k) for k in range(600)]
    assert (fast._tr_sums is False) is (divisor == 3.0)
