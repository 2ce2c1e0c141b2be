"""Money over time: /pnl tables, /performance per market, /stats per exit reason, /report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from handlers.commands.info import refresh
from handlers.fmt import duration, krw, pct, signed_krw
from handlers.registry import ArgSpec, Call, Command
from handlers.reply import Reply, Table
from trading.command_api import FillRecord, Period

ZERO = Decimal(0)
ALL_FILLS = 1_000_000
PERIODS = ("day", "week", "month")
DEFAULT_COUNT = {"day": 7, "week": 8, "month": 6}


async def pnl(call: Call) -> Reply:
    t = call.t
    period = cast(Period, call.args["period"])
    count = int(call.args["n"] or DEFAULT_COUNT[period])
    rows = await call.api.pnl(period, count)
    table = tuple(
        (
            r.start.isoformat() if period != "month" else r.start.strftime("%Y-%m"),
            str(r.sells),
            str(r.wins),
            signed_krw(r.pnl_krw),
            krw(r.fees_krw),
        )
        for r in rows
    )
    total = sum((r.pnl_krw for r in rows), ZERO)
    fees = sum((r.fees_krw for r in rows), ZERO)
    sells = sum(r.sells for r in rows)
    wins = sum(r.wins for r in rows)
    cols = ("period", "sells", "wins", "pnl", "fee")
    return Reply(
        t.t("pnl.title", period=t.t(f"pnl.{period}"), n=count),
        fields=(
            (t.t("pnl.total"), f"{signed_krw(total)} KRW"),
            (t.t("col.fee"), f"{krw(fees)} KRW"),
            (t.t("pnl.win_rate"), _rate(wins, sells)),
        ),
        table=Table(tuple(t.t(f"col.{c}") for c in cols), table),
        buttons=(refresh(call, f"pnl {period} {count}"),),
    )


async def performance(call: Call) -> Reply:
    t = call.t
    per: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    for item in await call.api.realized():
        row = per[item.market]
        row[1] += item.fee_krw  # buys' fees too: the column is what was paid
        if item.side != "ask":
            continue
        row[0] += item.pnl_krw
        row[2] += 1
        row[3] += 1 if item.pnl_krw > 0 else 0
    if not per:
        return Reply(t.t("performance.title"), (t.t("performance.none"),))
    ranked = sorted(per.items(), key=lambda kv: kv[1][0], reverse=True)
    rows = tuple(
        (m, str(int(r[2])), _rate(int(r[3]), int(r[2])), signed_krw(r[0]), krw(r[1]))
        for m, r in ranked
    )
    cols = ("market", "sells", "win_rate", "pnl", "fee")
    return Reply(
        t.t("performance.title"),
        table=Table(tuple(t.t(f"col.{c}") for c in cols), rows),
        buttons=(refresh(call, "performance"),),
    )


@dataclass(frozen=True, slots=True)
class RoundTrip:
    market: str
    opened: datetime
    closed: datetime
    pnl: Decimal
    exit_intent: str | None


def round_trips(fills: list[FillRecord]) -> list[RoundTrip]:
    """Flat -> long -> flat again, per market, from the fills alone (average cost), in the
    order they were recorded (as the PnL book reads them): a buy and its sell may carry the
    same time, and their trade uuids are random."""
    trips: list[RoundTrip] = []
    held: dict[str, tuple[Decimal, Decimal, datetime | None, Decimal]] = {}
    for f in sorted(fills, key=lambda f: f.id):
        vol, cost, opened, pnl = held.get(f.market, (ZERO, ZERO, None, ZERO))
        if f.side == "bid":
            held[f.market] = (vol + f.volume, cost + f.funds + f.fee, opened or f.created_at, pnl)
            continue
        sold = min(f.volume, vol)
        basis = cost * sold / vol if vol else ZERO
        vol, cost, pnl = vol - sold, cost - basis, pnl + f.funds - f.fee - basis
        if vol <= ZERO or (opened is not None and vol * f.price < 1):  # dust counts as flat
            if opened is not None:
                trips.append(RoundTrip(f.market, opened, f.created_at, pnl, f.intent_id))
            held[f.market] = (ZERO, ZERO, None, ZERO)
        else:
            held[f.market] = (vol, cost, opened, pnl)
    return trips


def exit_kind(reason: str | None) -> str:
    """The exit reason family, from the text the engine stored with the sell order."""
    if reason is None:
        return "unknown"
    text = reason.lower()
    if text.startswith(("manual sell", "closed by")):
        return "manual"
    if "take-profit" in text or "take profit" in text:
        return "take_profit"
    if "roi target" in text:  # the texts of trading.risk.stops.TrailingStop (issue #13)
        return "roi"
    if "max_holding_minutes" in text:
        return "time"
    if "delist" in text:  # risk.exit_before_delisting_days (trading/engine/lifecycle.py)
        return "delisting"
    if "trailing stop" in text:
        return "trailing"
    if "stop" in text:
        return "stop"
    return "signal"


async def stats(call: Call) -> Reply:
    t, api = call.t, call.api
    trips = round_trips(await api.trades(ALL_FILLS))[-1000:]
    if not trips:
        return Reply(t.t("stats.title"), (t.t("stats.none"),))
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    held: dict[str, list[float]] = defaultdict(list)
    for trip in trips:
        order = await api.order(trip.exit_intent) if trip.exit_intent else None
        kind = exit_kind(order.reason if order else None)
        outcome = 0 if trip.pnl > 0 else 1 if trip.pnl < 0 else 2
        groups[kind][outcome] += 1
        key = ("win", "loss", "draw")[outcome]
        held[key].append((trip.closed - trip.opened).total_seconds())
    rows = tuple(
        (t.t(f"stats.reason.{k}"), str(w), str(lo), str(d), _rate(w, w + lo + d))
        for k, (w, lo, d) in sorted(groups.items())
    )
    fields = tuple(
        (t.t(f"stats.hold_{k}"), duration(sum(v) / len(v)) if v else "-")
        for k in ("win", "loss", "draw")
        for v in [held.get(k, [])]
    )
    total = sum((trip.pnl for trip in trips), ZERO)
    cols = ("reason", "wins", "losses", "draws", "win_rate")
    return Reply(
        t.t("stats.title"),
        fields=(
            (t.t("stats.trips"), str(len(trips))),
            (t.t("pnl.total"), f"{signed_krw(total)} KRW"),
            *fields,
        ),
        table=Table(tuple(t.t(f"col.{c}") for c in cols), rows),
    )


async def report(call: Call) -> Reply:
    t, d = call.t, call.dispatcher
    period = str(call.args["period"])
    if d.report_hook is not None:
        return await d.report_hook(period, t.language)
    row = (await call.api.pnl(cast(Period, period), 1))[0]
    s = await call.api.status()
    open_ = sum(1 for p in s.positions if p.volume > 0)
    return Reply(
        t.t("report.title", period=t.t(f"pnl.{period}")),
        fields=(
            (t.t("ui.mode"), d.badge(t)),
            (t.t("report.since"), row.start.isoformat()),
            (t.t("pnl.total"), f"{signed_krw(row.pnl_krw)} KRW"),
            (t.t("col.fee"), f"{krw(row.fees_krw)} KRW"),
            (t.t("col.sells"), str(row.sells)),
            (t.t("pnl.win_rate"), _rate(row.wins, row.sells)),
            (t.t("status.equity"), f"{krw(s.equity_krw)} KRW"),
            (t.t("report.open"), str(open_)),
        ),
    )


def _rate(wins: int, total: int) -> str:
    return "-" if not total else f"{pct(Decimal(wins) * 100 / total, '0.1')}%"


PERIOD_ARG = ArgSpec("period", "choice", False, choices=PERIODS, default="day")
COMMANDS = [
    Command(
        "pnl",
        pnl,
        args=(PERIOD_ARG, ArgSpec("n", "int", False, min=1, max=60)),
        aliases=("profit",),
        refreshable=True,
    ),
    Command("performance", performance, aliases=("perf",), refreshable=True),
    Command("stats", stats),
    Command("report", report, args=(PERIOD_ARG,)),
]
