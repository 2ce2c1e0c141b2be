"""Backtesting candles with gaps: one run per contiguous segment, one account across them.

A file with a hole in it (the bundled KRW-BTC minutes jump from 2018-02-01 to 2020-02-20) is
not one series: a moving average, an ATR or a volatility rank computed across the hole would
mix prices two years apart as if they were a minute apart, and filling the hole flat
(``data.fill_gaps``) invents two years of a market that did not move. So the data is cut at
every hole (of any market: the account is one) into segments that are each contiguous, and

* each segment is a ``run_backtest`` of its own: the strategy, the ATR and the volatility
  filter warm up again after a gap, exactly as the live engine does on a fresh history;
* the account carries over: a segment starts with the equity the previous one ended with
  (exact Decimal: the start plus every trade's PnL); a position still open at a gap is marked
  out at the last close before it (exit reason ``end``, no exit fee), like the end of data;
* the result is one curve over the candles that exist (the gaps take no time in it, so the
  annualized return and the Sharpe ratio speak of the traded time), every trade in order,
  buy-and-hold compounded over the segments (a holder could not trade in a gap either).

Short holes are not gaps in the market: Upbit has no candle for a minute without a trade, and
stops for maintenance for an hour or two; the live candle builder carries the last close
through them. The callers (``upbit-bot`` and chat) fill holes of up to ``QUIET_HOLE_S`` flat
first (``data.fill_gaps(..., longest_s=QUIET_HOLE_S)``), as live does, so only a real
absence of data (hours and more) cuts the run.

``run_backtest`` itself still refuses data with holes, so the parity of a backtest with a
paper replay (one contiguous window) is untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

import numpy as np

from trading.backtest.metrics import metrics_of_curve
from trading.backtest.result import BacktestResult, BuyAndHold, Trade
from trading.backtest.runner import run_backtest
from trading.backtest.spec import BacktestSpec
from trading.strategies import CandleFrame

#: the longest hole filled flat rather than cut at: three hours (minutes without a trade, an
#: exchange maintenance); a longer one is missing data (the bot or the download was not running)
QUIET_HOLE_S = 3 * 3_600


@dataclass(frozen=True, slots=True)
class Segment:
    """One contiguous stretch of every market's candles, ``[start, end)`` in epoch seconds."""

    start: int
    end: int
    data: dict[str, CandleFrame]

    @property
    def candles(self) -> int:
        return max(len(f) for f in self.data.values())


def split_at_gaps(data: Mapping[str, CandleFrame], timeframe_s: int) -> list[Segment]:
    """``data`` cut at every hole of any market; each market's slice of a segment is
    contiguous (a market without candles in a segment is left out of it)."""
    cuts: set[int] = set()
    for frame in data.values():
        steps = np.diff(frame.start)
        for i in np.flatnonzero(steps != timeframe_s):
            cuts.add(int(frame.start[i]) + timeframe_s)  # the end of the last candle before
            cuts.add(int(frame.start[i + 1]))  # the first candle after
    lo = min(int(f.start[0]) for f in data.values())
    hi = max(int(f.start[-1]) for f in data.values()) + timeframe_s
    bounds = sorted({lo, hi, *cuts})
    segments = []
    for start, end in pairwise(bounds):
        pieces = {}
        for name, frame in data.items():
            a = int(np.searchsorted(frame.start, start, "left"))
            b = int(np.searchsorted(frame.start, end, "left"))
            if b > a:
                pieces[name] = frame[a:b]
        if pieces:
            segments.append(Segment(start, end, pieces))
    return segments


def run_segments(spec: BacktestSpec, segments: list[Segment]) -> BacktestResult:
    """Backtest each segment in turn on one account (see the module); ``spec.trade_from``
    is not supported here (the optimizer's windows are contiguous)."""
    if not segments:
        raise ValueError("no market data: pass at least one market")
    if spec.trade_from is not None:
        raise ValueError("trade_from is for one contiguous window")
    cash = spec.start_krw
    results: list[BacktestResult] = []
    trades: list[Trade] = []
    for segment in segments:
        result = run_backtest(dataclasses.replace(spec, start_krw=cash), segment.data)
        results.append(result)
        trades += result.trades
        cash += sum((t.pnl_krw for t in result.trades), Decimal(0))
    return _joined(spec, results, tuple(trades))


def backtest_segmented(
    spec: BacktestSpec, data: Mapping[str, CandleFrame]
) -> tuple[BacktestResult, list[Segment]]:
    """The backtest of data that may have holes, as ``upbit-bot backtest`` and chat's
    ``/backtest`` both run it: ``run_backtest`` itself when the data is contiguous (the
    parity path), else its segments on one account; with the segments, so that a caller can
    say how many stretches were run."""
    segments = split_at_gaps(data, spec.timeframe_s)
    if len(segments) == 1:
        return run_backtest(spec, data), segments
    return run_segments(spec, segments), segments


def _joined(
    spec: BacktestSpec, results: list[BacktestResult], trades: tuple[Trade, ...]
) -> BacktestResult:
    times = np.concatenate([r.times for r in results])
    curve = np.empty(len(times) + 1)
    curve[0] = float(spec.start_krw)
    curve[1:] = np.concatenate([r.equity for r in results])
    lengths = [len(r.times) for r in results]
    exposure = round(
        sum(r.metrics.exposure_pct / 100.0 * n for r, n in zip(results, lengths, strict=True))
    )
    halted = sum(
        r.metrics.volatility_halted_pct * n for r, n in zip(results, lengths, strict=True)
    )
    hold = _compounded([r.buy_and_hold for r in results])
    metrics = metrics_of_curve(
        pnls=[t.pnl_krw for t in trades],
        fees_krw=sum((t.entry_fee + t.exit_fee for t in trades), Decimal(0)),
        curve=curve,
        timeframe_s=spec.timeframe_s,
        exposure_bars=exposure,
        buy_and_hold_pct=hold.return_pct,
        volatility_halted_pct=halted / max(1, len(times)),
    )
    return BacktestResult(
        times=times,
        equity=curve[1:],
        metrics=metrics,
        buy_and_hold=hold,
        make_trades=lambda: trades,
    )


def _compounded(holds: list[BuyAndHold]) -> BuyAndHold:
    """Each market's buy-and-hold chained over the segments it has candles in; the total is
    the segments' mean returns chained (what ``run_backtest`` reports for one segment)."""
    growth: dict[str, float] = {}
    total = 1.0
    for hold in holds:
        total *= 1.0 + hold.return_pct / 100.0
        for market, pct in hold.per_market:
            growth[market] = growth.get(market, 1.0) * (1.0 + pct / 100.0)
    per_market = tuple((m, (g - 1.0) * 100.0) for m, g in growth.items())
    return BuyAndHold(return_pct=(total - 1.0) * 100.0, per_market=per_market)


__all__ = [
    "QUIET_HOLE_S",
    "Segment",
    "backtest_segmented",
    "run_segments",
    "split_at_gaps",
]
