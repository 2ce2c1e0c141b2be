"""The backtester against a small, separate, obviously-correct loop (issue #5's definition).

Moving-average cross: enter on the close of candle t when fast[t] > slow[t] and
fast[t-1] <= slow[t-1]; exit when fast[t] < slow[t] and fast[t-1] >= slow[t-1]; fill at the
open of t+1; the stake is a fixed KRW notional at the fill price (Upbit volumes have 8
decimals, so the volume is the stake / price rounded down to 1e-8), the fee on top on each
side. The loop below reads the CSV with the standard library and compares averages exactly
(sums of Decimals), so it shares nothing with the backtester but the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from trading.backtest import BacktestSpec, load_frame, run_backtest
from trading.risk.limits import RiskLimits
from trading.risk.settings import PLAIN_RISK
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data")
STAKE = Decimal(1_000_000)
FEE = Decimal("0.0005")


@dataclass(frozen=True)
class RefTrade:
    entry_at: datetime
    exit_at: datetime
    entry_price: Decimal
    exit_price: Decimal
    volume: Decimal
    entry_fee: Decimal
    exit_fee: Decimal
    pnl: Decimal


def read_rows(path: Path, limit: int | None) -> list[tuple[datetime, Decimal, Decimal]]:
    """(start, open, close) per row."""
    with open(path, newline="") as handle:
        rows = [
            (
                datetime.fromisoformat(r["timestamp_utc"].replace("Z", "+00:00")),
                Decimal(r["open"]),
                Decimal(r["close"]),
            )
            for r in csv.DictReader(handle)
        ]
    return rows[:limit] if limit else rows


def reference_trades(
    rows: list[tuple[datetime, Decimal, Decimal]], fast: int, slow: int
) -> list[RefTrade]:
    closes = [c for _, _, c in rows]

    def above(t: int) -> int:
        """sign(fast[t] - slow[t]), exactly: compare sum_f / fast with sum_s / slow."""
        f = sum(closes[t - fast + 1 : t + 1]) * slow
        s = sum(closes[t - slow + 1 : t + 1]) * fast
        return (f > s) - (f < s)

    trades: list[RefTrade] = []
    holding: tuple[datetime, Decimal, Decimal, Decimal] | None = None
    for t in range(slow, len(rows) - 1):  # t - 1 needs a full slow average; t + 1 must exist
        now, before = above(t), above(t - 1)
        at, open_next, _ = rows[t + 1]
        if holding is None and now > 0 and before <= 0:
            volume = (STAKE / open_next).quantize(Decimal("0.00000001"), ROUND_DOWN)
            holding = (at, open_next, volume, open_next * volume * FEE)
        elif holding is not None and now < 0 and before >= 0:
            entry_at, entry_price, volume, entry_fee = holding
            proceeds = open_next * volume
            exit_fee = proceeds * FEE
            pnl = proceeds - entry_price * volume - entry_fee - exit_fee
            trades.append(
                RefTrade(entry_at, at, entry_price, open_next, volume, entry_fee, exit_fee, pnl)
            )
            holding = None
    return trades


def plain_spec(fast: int, slow: int, timeframe: str) -> BacktestSpec:
    """Every risk feature off: no stops, cooldowns, volatility halt, breakers or slippage."""
    limits = RiskLimits.model_validate(
        PLAIN_RISK
        | {
            "position_size_krw": STAKE,
            "max_open_positions": 1,
            "fee_rate": FEE,
            "atr_period": 2,
        }
    )
    return BacktestSpec(
        strategy=build_strategy("ma_cross", "", {"fast": fast, "slow": slow}),
        limits=limits,
        timeframe=timeframe,
        start_krw=Decimal(10) ** 12,  # the balance check never binds
        fee_rate=FEE,
        slippage_bps=Decimal(0),
        slippage_check=False,
        same_candle_reentry=True,
        rules=UpbitMarketRules(),
    )


CASES = [
    (ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv", "1m", 13_872, 20, 60),  # segment A only
    (ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv", "1m", 13_872, 5, 20),
    (SHARED / "upbit_KRW-BTC_1d.csv", "1d", None, 10, 30),
]


@pytest.mark.parametrize(("path", "timeframe", "rows", "fast", "slow"), CASES)
def test_backtester_matches_reference_loop(
    path: Path, timeframe: str, rows: int | None, fast: int, slow: int
) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    reference = reference_trades(read_rows(path, rows), fast, slow)
    frame = load_frame(path)
    if rows:
        frame = frame[:rows]
    result = run_backtest(plain_spec(fast, slow, timeframe), {"KRW-BTC": frame})
    closed = [t for t in result.trades if t.exit_reason != "end"]
    assert len(reference) > 20
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
        for t in closed
    ]
    assert got == reference
