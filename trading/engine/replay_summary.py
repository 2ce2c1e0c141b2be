"""The summary that ends a paper replay: trades, win rate, return, drawdown, fees, exits by
reason, against holding the market over the same data.

``ReplayTally`` watches one replay: the closed trades (``PositionClosed``, the position book's
own record of each round trip: its PnL after both fees and its exit reason), the account's
equity as the book marks it, and the first and last price of each market. ``finish`` turns
that into a ``ReplayFinished`` event; the numbers come from the backtest's metric definitions
(``trading.backtest.metrics.metrics_of_curve``), so a replay and a backtest measure alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from trading import events as ev
from trading.backtest.metrics import metrics_of_curve
from trading.domain import TradePrint

__all__ = ["ReplayTally"]


class ReplayTally:
    """What one replay did; fed by the trader (``on_event``, ``on_print``, ``mark``)."""

    def __init__(self, markets: Sequence[str], timeframe_s: int) -> None:
        self.markets = tuple(markets)
        self.timeframe_s = timeframe_s
        self.closed: list[ev.PositionClosed] = []
        self.equity: list[float] = []
        self.start_krw: Decimal | None = None
        self.end_krw: Decimal | None = None
        self.first_price: dict[str, Decimal] = {}
        self.last_price: dict[str, Decimal] = {}
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.PositionClosed):
            self.closed.append(event)

    def on_print(self, trade: TradePrint) -> None:
        self.first_price.setdefault(trade.market, trade.price)
        self.last_price[trade.market] = trade.price
        if self.first_at is None:
            self.first_at = trade.at
        self.last_at = trade.at

    def mark(self, equity: Decimal) -> None:
        """The account's equity now (the first mark is the start)."""
        if self.start_krw is None:
            self.start_krw = equity
        self.end_krw = equity
        self.equity.append(float(equity))

    def buy_and_hold_pct(self) -> float:
        """The markets' mean price change, first to last print, in percent (before fees)."""
        changes = [
            float(self.last_price[m] / first) - 1.0
            for m, first in self.first_price.items()
            if first > 0
        ]
        return sum(changes) / len(changes) * 100.0 if changes else 0.0

    def finish(self, open_positions: int = 0) -> ev.ReplayFinished:
        """The summary of everything seen so far (at least one ``mark`` is needed)."""
        if self.start_krw is None or self.end_krw is None:
            raise RuntimeError("a replay summary needs the equity at its start")
        metrics = metrics_of_curve(
            pnls=[c.pnl_krw for c in self.closed],
            fees_krw=sum((c.fees_krw for c in self.closed), Decimal(0)),
            curve=np.array(self.equity, dtype=np.float64),
            timeframe_s=self.timeframe_s,
            exposure_bars=0,
            buy_and_hold_pct=self.buy_and_hold_pct(),
        )
        exits = Counter(c.reason for c in self.closed)
        first = self.first_at or datetime.fromtimestamp(0, UTC)
        return ev.ReplayFinished(
            markets=self.markets,
            first=first,
            last=self.last_at or first,
            trades=metrics.trades,
            wins=sum(1 for c in self.closed if c.pnl_krw > 0),
            win_rate_pct=metrics.win_rate,
            start_krw=self.start_krw,
            end_krw=self.end_krw,
            return_pct=metrics.total_return_pct,
            max_drawdown_pct=metrics.max_drawdown_pct,
            fees_krw=sum((c.fees_krw for c in self.closed), Decimal(0)),
            buy_and_hold_pct=metrics.buy_and_hold_return_pct,
            exits=tuple(sorted(exits.items(), key=lambda kv: (-kv[1], kv[0]))),
            open_positions=open_positions,
        )
