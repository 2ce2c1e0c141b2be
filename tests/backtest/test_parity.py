"""Parity: the same real candles through paper trading (the live engine, replay mode) and
through ``run_backtest`` give the same fills: times, prices, volumes and fees, exactly."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from tests.backtest.paper import Fill, paper_fills
from tests.engine.conftest import BEFORE_13, BUNDLED, limits
from trading.backtest import BacktestSpec, load_frame, run_backtest, slice_frame
from trading.risk.halts import HaltWindow
from trading.risk.settings import RiskSettings
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

FRAME = load_frame(BUNDLED)
FIRST = datetime.fromtimestamp(int(FRAME.start[0]), UTC)


def backtest_fills(
    markets: list[str], start: datetime, end: datetime, spec: BacktestSpec
) -> tuple[list[Fill], Counter[str]]:
    frame = slice_frame(FRAME, int(start.timestamp()), int(end.timestamp()))
    result = run_backtest(spec, dict.fromkeys(markets, frame))
    fills = []
    for t in result.trades:
        fills.append(Fill(t.market, "bid", t.entry_at, t.entry_price, t.volume, t.entry_fee))
        if t.exit_reason != "end":
            fills.append(Fill(t.market, "ask", t.exit_at, t.exit_price, t.volume, t.exit_fee))
    fills.sort(key=lambda f: (f.at, markets.index(f.market)))
    return fills, Counter(t.exit_reason for t in result.trades)


async def assert_parity(
    tmp_path: Path,
    *,
    strategy: str,
    params: dict[str, Any],
    minutes: int,
    markets: tuple[str, ...] = ("KRW-BTC",),
    offset: int = 0,
    cooldown: int = 0,
    stop_cooldown: int = 0,
    **risk: Any,
) -> Counter[str]:
    lim = limits(**risk)
    start = FIRST + timedelta(minutes=offset)
    end = start + timedelta(minutes=minutes)
    paper = await paper_fills(
        tmp_path,
        [(m, BUNDLED) for m in markets],
        strategy=build_strategy(strategy, "", params),
        limits=lim,
        timeframe="1m",
        start=start,
        end=end,
        cooldown_candles=cooldown,
        stop_cooldown_candles=stop_cooldown,
    )
    spec = BacktestSpec(
        strategy=build_strategy(strategy, "", params),
        limits=lim,
        timeframe="1m",
        cooldown_candles=cooldown,
        stop_cooldown_candles=stop_cooldown,
        rules=UpbitMarketRules(),
    )  # the paper defaults: 10,000,000 KRW, fee 0.05 %, slippage 5 bps
    backtest, reasons = backtest_fills(list(markets), start, end, spec)
    assert len(paper) >= 10
    assert backtest == paper
    return reasons


async def test_ma_cross_with_atr_stops_take_profit_and_cooldowns(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params={"fast": 5, "slow": 20},
        minutes=1500,
        atr_stop_mult=D(1),
        take_profit_pct=D("0.3"),
        cooldown=2,
        stop_cooldown=5,
    )
    assert reasons["stop"]
    assert reasons["take_profit"]


async def test_ma_cross_without_stops(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params={"fast": 5, "slow": 20},
        minutes=1500,
        offset=3000,
        atr_stop_mult=D(0),
    )
    assert set(reasons) <= {"signal", "end"}


async def test_momentum_with_trailing_stops(tmp_path: Path) -> None:
    reasons = await assert_parity(
        tmp_path,
        strategy="momentum",
        params={"lookback": 10, "entry_pct": 0.3, "exit_pct": 0.0},
        minutes=1500,
        offset=6000,
        atr_stop_mult=D("1.5"),
    )
    assert reasons["stop"]


async def test_volatility_breakout_default_risk(tmp_path: Path) -> None:
    """The older candle-close rule (the classic intraday rule: test_parity_breakout.py)."""
    await assert_parity(
        tmp_path,
        strategy="volatility_breakout",
        params={"k": 0.5, "trigger": "close"},
        minutes=400,
        offset=9000,
    )


async def test_position_limits_across_markets(tmp_path: Path) -> None:
    """Three markets signal at the same moments; two slots, the replay's market order wins."""
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params={"fast": 5, "slow": 20},
        minutes=800,
        markets=("KRW-BTC", "KRW-ETH", "KRW-XRP"),
        atr_stop_mult=D("1.5"),
        max_open_positions=2,
        position_size_krw=D(4_000_000),
    )
    assert reasons["stop"]


async def test_volatility_halt_limit_orders_daily_loss_and_halt_window(tmp_path: Path) -> None:
    """The stateful risk features: volatility hysteresis (every candle), slippage in limit
    mode (IOC limit buys), a daily loss limit marked across two markets, a halt window."""
    window = HaltWindow(name="lunch", start="03:00", end="04:00")
    await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params={"fast": 5, "slow": 20},
        minutes=1500,
        markets=("KRW-BTC", "KRW-ETH"),
        atr_stop_mult=D(1),
        volatility_halt_pct=D("0.3"),
        max_slippage_bps=2,
        slippage_mode="limit",
        daily_loss_limit_krw=D(25000),
        position_size_krw=D(3_000_000),
        halt_windows=(window,),
    )


def test_the_parity_data_is_contiguous() -> None:
    """Segment A of the bundled file has no missing minute (the replay would fill holes)."""
    assert FRAME.start[13_871] - FRAME.start[0] == 13_871 * 60


async def test_ma_cross_with_the_embedded_defaults(tmp_path: Path) -> None:
    """Issue #13: the defaults the walk-forward chose (ma_cross 72/180, a 2.66 ATR stop at
    least 1.85 % away, take-profit 1.06 %, the time exit, exit_profit_only, the stop
    cooldown, the 97.6th percentile volatility halt, the stoploss guard), unpinned."""
    defaults = RiskSettings()
    reasons = await assert_parity(
        tmp_path,
        strategy="ma_cross",
        params={},
        minutes=6000,
        cooldown=defaults.cooldown_candles,
        stop_cooldown=defaults.stop_cooldown_candles,
        **{name: getattr(defaults, name) for name in (*BEFORE_13, "atr_stop_mult")},
    )
    assert reasons["take_profit"]
    assert reasons["stop"]
