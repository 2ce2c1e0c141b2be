"""Parity of the volatility breakout as traders run it (issue #13): the bundled real KRW-BTC
minutes as 15-minute candles over nine days, through paper trading (the live engine in
replay mode: it arms the day's target when each candle opens and buys on the print that
crosses it) and through ``run_backtest`` (the first candle whose high reaches the target,
filled at the target or the open above it), give the same fills, exactly."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.backtest.paper import Fill, paper_fills
from tests.engine.conftest import BUNDLED, limits
from trading.backtest import BacktestSpec, load_frame, run_backtest
from trading.candle_file import read_candles
from trading.domain import Bar
from trading.marketdata.bars import resample
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

M = "KRW-BTC"
TIMEFRAME = "15m"


def candles_15m(tmp: Path) -> Path:
    """The bundled minutes' first contiguous stretch (9.6 days) as whole 15-minute candles."""
    minutes = [
        Bar(M, "1m", c.start, c.open, c.high, c.low, c.close, c.volume)
        for c in read_candles(BUNDLED)
        if c.start < datetime(2018, 2, 1, 5, tzinfo=UTC)
    ]
    bars = list(resample(minutes, TIMEFRAME))[1:]  # the first one is partial
    path = tmp / f"upbit_{M}_{TIMEFRAME}.csv"
    lines = ["timestamp_utc,open,high,low,close,volume,value"]
    for b in bars:
        stamp = b.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{stamp},{b.open},{b.high},{b.low},{b.close},{b.volume},")
    path.write_text("\n".join(lines) + "\n")
    return path


async def assert_parity(
    tmp_path: Path,
    params: dict[str, Any],
    *,
    cooldown: int = 0,
    markets: tuple[str, ...] = (M,),
    **risk: Any,
) -> Counter[str]:
    path = candles_15m(tmp_path)
    frame = load_frame(path)
    start = datetime.fromtimestamp(int(frame.start[0]), UTC)
    end = datetime.fromtimestamp(int(frame.start[-1]), UTC) + timedelta(minutes=15)
    lim = limits(**risk)
    strategy = build_strategy("volatility_breakout", "", params)
    paper = await paper_fills(
        tmp_path,
        [(m, path) for m in markets],
        strategy=strategy,
        limits=lim,
        timeframe=TIMEFRAME,
        start=start,
        end=end,
        cooldown_candles=cooldown,
    )
    spec = BacktestSpec(
        strategy=strategy,
        limits=lim,
        timeframe=TIMEFRAME,
        cooldown_candles=cooldown,
        rules=UpbitMarketRules(),
    )  # the paper defaults: 10,000,000 KRW, fee 0.05 %, slippage 5 bps
    result = run_backtest(spec, dict.fromkeys(markets, frame))
    backtest = []
    for t in result.trades:
        backtest.append(Fill(t.market, "bid", t.entry_at, t.entry_price, t.volume, t.entry_fee))
        if t.exit_reason != "end":
            backtest.append(Fill(t.market, "ask", t.exit_at, t.exit_price, t.volume, t.exit_fee))
    backtest.sort(key=lambda f: (f.at, markets.index(f.market)))
    assert len(paper) >= 6
    assert backtest == paper
    # the buys are inside candles (the crossing print), not at their opens
    assert any(f.at.timestamp() % 900 for f in paper if f.side == "bid")
    return Counter(t.exit_reason for t in result.trades)


async def test_breakout_without_stops(tmp_path: Path) -> None:
    reasons = await assert_parity(tmp_path, {"k": 0.3}, atr_stop_mult=D(0))
    assert set(reasons) <= {"signal", "end"}


async def test_breakout_with_atr_stops_take_profit_and_cooldown(tmp_path: Path) -> None:
    """Stops judged from the print after the buy, a take-profit, a cooldown after exits."""
    reasons = await assert_parity(
        tmp_path,
        {"k": 0.3},
        atr_stop_mult=D(2),
        take_profit_pct=D(1),
        cooldown=3,
    )
    assert reasons["stop"] + reasons["take_profit"]


async def test_breakout_across_markets_with_one_slot(tmp_path: Path) -> None:
    """Two markets cross at the same prints; one slot: the replay's market order wins, the
    other's target is spent for the day (the risk gate refused it)."""
    await assert_parity(
        tmp_path,
        {"k": 0.3},
        markets=(M, "KRW-ETH"),
        atr_stop_mult=D(0),
        max_open_positions=1,
    )


async def test_breakout_with_a_holding_time_and_roi_from_the_crossing_print(
    tmp_path: Path,
) -> None:
    """Issue #13: an entry inside a candle starts its holding time and ROI table at the
    crossing print, in the engine and in the backtest alike (not at the candle's open)."""
    reasons = await assert_parity(
        tmp_path,
        {"k": 0.3},
        atr_stop_mult=D(0),
        stop_loss_pct=D(3),
        minimal_roi=((0, D(4)), (100, D("0.5"))),
        max_holding_minutes=100,
    )
    assert reasons["time"], reasons
