"""Realized PnL from the fills alone (average-cost method), by day, week or month.

The store keeps every fill; a round trip's PnL is derived, not stored, so it can never drift
from what actually executed. Buys add volume at cost (price x volume + fee); a sell realizes
proceeds minus fee minus the average cost of the volume sold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
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
    market: str
    day: date
    pnl_krw: Decimal
    fee_krw: Decimal


def realized(fills: Iterable[FillRecord], zone: tzinfo) -> list[Realized]:
    """One entry per sell fill, oldest first."""
    held: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))  # volume, cost
    out: list[Realized] = []
    for fill in sorted(fills, key=lambda f: (f.created_at, f.trade_uuid)):
        volume, cost = held[fill.market]
        if fill.side == "bid":
            held[fill.market] = (volume + fill.volume, cost + fill.funds + fill.fee)
            continue
        sold = min(fill.volume, volume)
        basis = cost * sold / volume if volume else ZERO
        held[fill.market] = (volume - sold, cost - basis)
        day = fill.created_at.astimezone(zone).date()
        out.append(Realized(fill.market, day, fill.funds - fill.fee - basis, fill.fee))
    return out


def period_start(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def pnl_table(
    fills: Iterable[FillRecord], zone: tzinfo, period: Period, count: int, today: date
) -> list[PnlRow]:
    """The last ``count`` periods up to ``today``, newest first, empty periods included."""
    sums: dict[date, list[Decimal | int]] = defaultdict(lambda: [ZERO, ZERO, 0, 0])
    for item in realized(fills, zone):
        row = sums[period_start(item.day, period)]
        row[0] = Decimal(row[0]) + item.pnl_krw
        row[1] = Decimal(row[1]) + item.fee_krw
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
