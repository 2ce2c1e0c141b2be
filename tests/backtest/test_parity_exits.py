"""Parity for the exits (issue #13): a fixed stop, a trailing stop with an offset, the ROI
table, the holding time and the exit-signal switches give the same fills in paper trading
(the live engine, replay mode) and in ``run_backtest``, and each exit really happens."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from benchmarks.backtest_compare import write_csv
from tests.backtest.paper import Fill, paper_fills
from tests.backtest.test_parity import FRAME, assert_parity
from tests.engine.conftest import limits
from trading.backtest import BacktestSpec, load_frame, run_backtest
from trading.strategies import CandleFrame, build_strategy
from trading.upbit.market_rules import UpbitMarketRules

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


def five_minute_file(tmp_path: Path, minutes: int) -> Path:
    """The first ``minutes`` of the bundled file as 5-minute candles (segment A has no hole)."""
    frame = FRAME
    n = minutes // 5
    first = int(-(FRAME.start[0] // 60) % 5)  # the first whole five minutes
    take = slice(first, first + n * 5)
    o, h = frame.open[take].reshape(n, 5), frame.high[take].reshape(n, 5)
    lo, c = frame.low[take].reshape(n, 5), frame.close[take].reshape(n, 5)
    v = frame.volume[take].reshape(n, 5)
    five = CandleFrame(
        start=frame.start[take][::5],
        open=o[:, 0].copy(),
        high=h.max(axis=1),
        low=lo.min(axis=1),
        close=c[:, -1].copy(),
        volume=v.sum(axis=1),
    )
    path = tmp_path / "upbit_KRW-BTC_5m.csv"
    write_csv(five, path)
    return path


async def test_holding_time_and_roi_steps_inside_five_minute_candles(tmp_path: Path) -> None:
    """A holding time of 12 minutes and ROI rows at 7 and 18 minutes run out between the
    prints of 5-minute candles: the backtest finds the same print the engine sells on."""
    path = five_minute_file(tmp_path, 5_000)
    lim = limits(
        atr_stop_mult=D(0),
        stop_loss_pct=D(1),
        minimal_roi=((0, D(2)), (7, D("0.4")), (18, D("0.1"))),
        max_holding_minutes=12,
    )
    strategy = {"fast": 3, "slow": 8}
    frame = load_frame(path)
    start = datetime.fromtimestamp(int(frame.start[0]), UTC)
    end = start + timedelta(minutes=5 * len(frame))
    paper = await paper_fills(
        tmp_path,
        [("KRW-BTC", path)],
        strategy=build_strategy("ma_cross", "", strategy),
        limits=lim,
        timeframe="5m",
        start=start,
        end=end,
    )
    spec = BacktestSpec(
        strategy=build_strategy("ma_cross", "", strategy),
        limits=lim,
        timeframe="5m",
        rules=UpbitMarketRules(),
    )
    result = run_backtest(spec, {"KRW-BTC": frame})
    fills = []
    for t in result.trades:
        fills.append(Fill(t.market, "bid", t.entry_at, t.entry_price, t.volume, t.entry_fee))
        if t.exit_reason != "end":
            fills.append(Fill(t.market, "ask", t.exit_at, t.exit_price, t.volume, t.exit_fee))
    fills.sort(key=lambda f: f.at)
    reasons = Counter(t.exit_reason for t in result.trades)
    assert len(paper) >= 10
    assert fills == paper
    assert reasons["time"]
    assert reasons["roi"]
    mid_candle = [t for t in result.trades if t.exit_reason == "time" and t.exit_at.minute % 5]
    assert mid_candle  # exits on a print inside a candle, not at its open
