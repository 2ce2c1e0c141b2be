"""The classic volatility breakout against a small, separate loop (issue #13).

Day d's target is open(d) + k x (high(d-1) - low(d-1)), put on the tick grid (rounded up);
if the day's high reaches it, buy at the target (or the open, if the day opened above it) and
sell at the next day's open. On day candles the replay reaches the high on its second print
(a falling day, 06:00 UTC) or its third (a rising day, 12:00 UTC). The loop reads the CSV with
the standard library and computes in Decimal; it shares nothing with the backtester but the
file and the tick table.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from tests.backtest.test_reference import FEE, SHARED, STAKE, RefTrade
from trading.backtest import BacktestSpec, load_frame, run_backtest
from trading.domain.rules import Rounding
from trading.risk.limits import RiskLimits
from trading.risk.settings import PLAIN_RISK
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

DAILY = SHARED / "upbit_KRW-BTC_1d.csv"
K = Decimal("0.5")
WARM = 2  # the first day the backtester may trade: ATR(2) needs 3 candles, the last index 2


def reference_trades(path: Path) -> list[RefTrade]:
    with open(path, newline="") as handle:
        rows = [
            (
                datetime.fromisoformat(r["timestamp_utc"]),
                *(Decimal(r[c]) for c in ["open", "high", "low", "close"]),
            )
            for r in csv.DictReader(handle)
        ]
    rules = UpbitMarketRules()
    trades = []
    for d in range(WARM, len(rows) - 1):
        start, o, h, _, c = rows[d]
        previous = rows[d - 1]
        if start - previous[0] != timedelta(days=1):
            continue
        target = rules.round_price("KRW-BTC", o + K * (previous[2] - previous[3]), Rounding.UP)
        if h < target:
            continue
        price = max(target, o)
        at = start if o >= target else start + timedelta(hours=12 if c >= o else 6)
        exit_at, exit_price = rows[d + 1][0], rows[d + 1][1]
        volume = (STAKE / price).quantize(Decimal("1e-8"), ROUND_DOWN)
        cost, proceeds = price * volume, exit_price * volume
        pnl = proceeds - cost - cost * FEE - proceeds * FEE
        trades.append(
            RefTrade(at, exit_at, price, exit_price, volume, cost * FEE, proceeds * FEE, pnl)
        )
    return trades


def test_backtester_matches_the_classic_rule_on_daily_btc() -> None:
    if not DAILY.is_file():
        pytest.skip(f"{DAILY} is not here")
    limits = RiskLimits.model_validate(
        PLAIN_RISK
        | {
            "position_size_krw": STAKE,
            "max_open_positions": 1,
            "fee_rate": FEE,
            "atr_period": 2,
        }
    )
    spec = BacktestSpec(
        strategy=build_strategy("volatility_breakout", "", {"k": float(K)}),
        limits=limits,
        timeframe="1d",
        start_krw=Decimal(10) ** 12,
        fee_rate=FEE,
        slippage_bps=Decimal(0),
        slippage_check=False,
        rules=UpbitMarketRules(),
    )
    result = run_backtest(spec, {"KRW-BTC": load_frame(DAILY)})
    got = [
        RefTrade(
            t.entry_at,
            t.exit_at,
            t.entry_price,
            t.exit_price,
            t.volume,
            t.entry_fee,
            t.exit_fee,
            t.pnl_krw,
        )
        for t in result.trades
        if t.exit_reason != "end"
    ]
    reference = reference_trades(DAILY)
    assert len(reference) > 1000
    assert got == reference
