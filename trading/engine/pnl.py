"""Realized PnL from the fills alone (average-cost method), by day, week or month.

The store keeps every fill; a round trip's PnL is derived, not stored, so it can never drift
from what actually executed. Buys add volume at cost (price x volume + fee); a sell realizes
proceeds minus fee minus the average cost of the volume sold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from trading.store import FillRecord

Period = Literal["day", "week", "month"]
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PnlRow:
    start: date
    pnl_krw: Decimal
    fees_krw: Decimal
    sells: int
    wins: int


@dataclass(frozen=True, slots=True)
class Realized:
    """One fill as booked: a sell carries its realized PnL, a buy only its fee."""

    market: str
    side: str
    at: datetime
    day: date
    pnl_krw: Decimal
    fee_krw: Decimal


class AverageCost:
    """The running cost basis per market; feed fills in recording order (``last_id`` says how
    far it got, so a reader can go on with ``Store.fills_after``)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.held: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
        self.realized: list[Realized] = []
        self.last_id = 0

    def add(self, fill: FillRecord) -> Realized:
        self.last_id = max(self.last_id, fill.id)
        volume, cost = self.held[fill.market]
        pnl = ZERO
        if fill.side == "bid":
            self.held[fill.market] = (volume + fill.volume, cost + fill.funds + fill.fee)
        else:
            sold = min(fill.volume, volume)
            basis = cost * sold / volume if volume else ZERO
            self.held[fill.market] = (volume - sold, cost - basis)
            pnl = fill.funds - fill.fee - basis
        at = fill.created_at.astimezone(self.zone)
        item = Realized(fill.market, fill.side, at, at.date(), pnl, fill.fee)
        self.realized.append(item)
        return item


def realized(fills: Iterable[FillRecord], zone: tzinfo) -> list[Realized]:
    """One entry per fill, in recording order."""
    book = AverageCost(zone)
    for fill in sorted(fills, key=lambda f: f.id):
        book.add(fill)
    return book.realized


def period_start(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def pnl_table(booked: Sequence[Realized], period: Period, count: int, today: date) -> list[PnlRow]:
    """The last ``count`` periods up to ``today``, newest first, empty periods included.

    ``pnl_krw`` is realized on sells only (a buy's fee is already in the cost basis the sell
    is measured against); ``fees_krw`` is every fee paid in the period, buys and sells, so
    it equals the stored fills' fees and the account's statement (issue #11.5)."""
    sums: dict[date, list[Decimal | int]] = defaultdict(lambda: [ZERO, ZERO, 0, 0])
    for item in booked:
        row = sums[period_start(item.day, period)]
        row[1] = Decimal(row[1]) + item.fee_krw  # paid on both sides, whatever the PnL says
        if item.side != "ask":
            continue
        row[0] = Decimal(row[0]) + item.pnl_krw
        row[2] = int(row[2]) + 1
        row[3] = int(row[3]) + (1 if item.pnl_krw > 0 else 0)
    starts: list[date] = []
    cursor = period_start(today, period)
    for _ in range(count):
        starts.append(cursor)
        if period == "month":
            cursor = (cursor - timedelta(days=1)).replace(day=1)
        else:
            cursor -= timedelta(days=7 if period == "week" else 1)
    table = []
    for start in starts:
        pnl, fees, sells, wins = sums.get(start, [ZERO, ZERO, 0, 0])
        table.append(PnlRow(start, Decimal(pnl), Decimal(fees), int(sells), int(wins)))
    return table
