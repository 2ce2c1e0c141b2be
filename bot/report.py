"""The PnL report: daily on a schedule, weekly and monthly on demand (and by ``/report``).

``build_report(facade, store, period, catalog, now)`` covers the ``period`` ending at ``now``
(day = 24 h, week = 7 days, month = 30 days): realized PnL (average cost, from the fills),
unrealized PnL of open positions, fees, trades, win rate, max drawdown of the equity
snapshots, one line per market and an equity-curve PNG (matplotlib's Agg canvas: no display,
no pyplot global state, drawn in a worker thread so the loop never waits on it).

``ReportScheduler`` runs apscheduler's ``AsyncIOScheduler`` on the bot's own loop: the daily
report at ``report.daily_time`` in ``bot.timezone`` (09:00 Asia/Seoul, Upbit's daily candle
boundary), and an equity snapshot every ``report.snapshot_every_s`` and after every closed
position, so the chart has data.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.notify.render import SEOUL, Renderer
from handlers.i18n import Catalog
from handlers.reply import Image, Reply, Severity, Table
from trading.bus import EventBus, Subscription
from trading.engine.facade import EngineFacade
from trading.engine.pnl import Realized
from trading.events import Event, PositionClosed
from trading.store import Store

if TYPE_CHECKING:
    from bot.config import AppConfig

log = logging.getLogger(__name__)
ReportPeriod = Literal["day", "week", "month"]
SPANS: dict[str, timedelta] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
ZERO = Decimal(0)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(slots=True)
class Tally:
    """The sums a report keeps for the whole period and again for each market."""

    realized: Decimal = ZERO
    unrealized: Decimal = ZERO
    fees: Decimal = ZERO
    buys: int = 0
    sells: int = 0
    wins: int = 0

    def book(self, item: Realized) -> None:
        """One booked fill: its fee, and for a sell its PnL (a win when positive)."""
        self.fees += item.fee_krw
        if item.side == "bid":
            self.buys += 1
            return
        self.sells += 1
        self.realized += item.pnl_krw
        if item.pnl_krw > 0:
            self.wins += 1


@dataclass(slots=True, kw_only=True)
class MarketLine(Tally):
    market: str


@dataclass(slots=True, kw_only=True)
class ReportData(Tally):
    period: str
    start: datetime
    end: datetime
    max_drawdown_pct: Decimal = ZERO
    max_drawdown_krw: Decimal = ZERO
    equity: Decimal = ZERO
    equity_start: Decimal | None = None
    open_positions: int = 0
    markets: dict[str, MarketLine] = field(default_factory=dict)
    curve: list[tuple[datetime, Decimal]] = field(default_factory=list)

    @property
    def win_rate(self) -> Decimal | None:
        return None if not self.sells else Decimal(self.wins * 100) / self.sells

    def line(self, market: str) -> MarketLine:
        if market not in self.markets:
            self.markets[market] = MarketLine(market=market)
        return self.markets[market]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def realize(booked: Iterable[Realized], data: ReportData) -> None:
    """Sum the fills booked inside ``data``'s window (the engine's average-cost book, so the
    report, /pnl and /performance can never disagree)."""
    for item in booked:
        if data.start < item.at <= data.end:
            data.book(item)
            data.line(item.market).book(item)


def drawdown(curve: Sequence[tuple[datetime, Decimal]]) -> tuple[Decimal, Decimal]:
    """The largest peak-to-trough fall: (percent of the peak, KRW)."""
    peak: Decimal | None = None
    worst_pct, worst_krw = ZERO, ZERO
    for _, value in curve:
        if peak is None or value > peak:
            peak = value
        if peak and peak > 0 and peak - value > 0:
            pct = (peak - value) * 100 / peak
            if pct > worst_pct:
                worst_pct, worst_krw = pct, peak - value
    return worst_pct, worst_krw


async def collect(facade: EngineFacade, store: Store, period: str, now: datetime) -> ReportData:
    if period not in SPANS:
        raise ValueError(f"period must be day, week or month, not {period!r}")
    end = _aware(now)
    data = ReportData(period=period, start=end - SPANS[period], end=end)
    realize(await facade.realized(), data)
    status = await facade.status()
    data.equity = status.equity_krw
    for position in status.positions:
        price = status.prices.get(position.market)
        if position.volume <= 0 or price is None or not position.entry_volume:
            continue
        basis = (position.entry_cost + position.entry_fees) * position.volume
        pnl = price * position.volume - basis / position.entry_volume
        data.unrealized += pnl
        data.line(position.market).unrealized += pnl
        data.open_positions += 1
    history = await store.equity_history(since=data.start, limit=5000)
    data.curve = [(_aware(s.taken_at), s.equity_krw) for s in history if _aware(s.taken_at) <= end]
    if not data.curve or data.curve[-1][0] < end:
        data.curve.append((end, data.equity))
    data.equity_start = data.curve[0][1] if len(data.curve) > 1 else None
    data.max_drawdown_pct, data.max_drawdown_krw = drawdown(data.curve)
    return data


def equity_chart(
    curve: Sequence[tuple[datetime, Decimal]], *, title: str, zone: tzinfo = SEOUL
) -> bytes:
    """The equity curve as a PNG (Agg canvas; safe off the main thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = [at.astimezone(zone) for at, _ in curve]
    ys = [float(v) for _, v in curve]
    ax.plot(xs, ys, color="#1261c4", linewidth=1.5)  # type: ignore[arg-type]
    ax.fill_between(xs, ys, min(ys), color="#1261c4", alpha=0.08)  # type: ignore[arg-type]
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M", tz=zone))  # type: ignore[no-untyped-call]
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


#: a catalog lookup under ``notify.report.``
_Text = Callable[..., str]


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


async def build_report(
    facade: EngineFacade,
    store: Store,
    period: ReportPeriod | str,
    catalog: Catalog,
    now: datetime,
    *,
    zone: tzinfo = SEOUL,
    chart: bool = True,
) -> Reply:
    """The report for the ``period`` ending at ``now`` as a ``Reply`` (image = equity PNG)."""
    data = await collect(facade, store, period, now)
    fmt = Renderer(catalog, paper=facade.mode == "paper", zone=zone)

    def t(key: str, /, **values: object) -> str:
        return catalog.t(f"notify.report.{key}", **values)

    span = t(
        "span",
        start=data.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        end=data.end.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
    )
    fields = _summary(data, t, fmt)
    table = _by_market(data, t, fmt)
    lines: list[str] = [span]
    if not data.buys and not data.sells:
        lines.append(t("no_trades"))
    image = None
    if chart:
        if len(data.curve) >= 2:
            png = await asyncio.to_thread(
                equity_chart, data.curve, title=t("chart_title"), zone=zone
            )
            image = Image(f"equity-{period}.png", png, t("chart_caption", span=span))
        else:
            lines.append(t("no_chart"))
    severity = Severity.WARNING if data.realized + data.unrealized < 0 else Severity.INFO
    return Reply(
        f"{fmt.badge()} {t(f'title_{period}')}",
        lines=tuple(lines),
        fields=tuple(fields),
        table=table,
        image=image,
        severity=severity,
    )


def _summary(data: ReportData, t: _Text, fmt: Renderer) -> list[tuple[str, str]]:
    """The report's headline figures, as (label, value) fields."""
    win = (
        t("no_sells")
        if data.win_rate is None
        else t("win_rate_value", pct=_pct(data.win_rate), wins=data.wins, sells=data.sells)
    )
    fields: list[tuple[str, str]] = [
        (t("realized"), fmt.signed_krw(data.realized)),
        (t("unrealized"), fmt.signed_krw(data.unrealized)),
        (t("fees"), fmt.krw(data.fees)),
        (t("trades"), t("trades_value", buys=data.buys, sells=data.sells)),
        (t("win_rate"), win),
        (
            t("max_drawdown"),
            t(
                "drawdown_value",
                pct=_pct(data.max_drawdown_pct),
                krw=fmt.krw(data.max_drawdown_krw),
            ),
        ),
        (t("equity"), fmt.krw(data.equity)),
    ]
    if data.equity_start is not None:
        fields.append((t("equity_change"), fmt.signed_krw(data.equity - data.equity_start)))
    fields.append((t("positions"), str(data.open_positions)))
    return fields


def _by_market(data: ReportData, t: _Text, fmt: Renderer) -> Table | None:
    """The per-market table, one row a market by name; none when no market has a line."""
    rows = tuple(
        (
            line.market,
            fmt.signed_krw(line.realized),
            fmt.signed_krw(line.unrealized),
            fmt.krw(line.fees),
            str(line.sells),
            str(line.wins),
        )
        for line in sorted(data.markets.values(), key=lambda m: m.market)
    )
    return (
        Table(
            (
                t("col_market"),
                t("col_pnl"),
                t("col_unrealized"),
                t("col_fees"),
                t("col_trades"),
                t("col_wins"),
            ),
            rows,
        )
        if rows
        else None
    )


def daily_trigger(at: time, zone: tzinfo = SEOUL) -> CronTrigger:
    """Fires every day at ``at`` in ``zone`` (DST-aware for zones that have it)."""
    return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=zone)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReportScheduler:
    """The daily report and the equity snapshots, on an ``AsyncIOScheduler`` in our loop.

    ``push`` queues the report (``Notifier.push``). ``clock`` is the report's "now" (the
    engine's market time by default in tests, wall clock in the bot); ``trigger`` replaces the
    daily cron trigger (tests).
    """

    def __init__(
        self,
        *,
        facade: EngineFacade,
        store: Store,
        catalog: Catalog,
        push: Callable[[Reply], Awaitable[Any]],
        daily_time: time = time(9, 0),
        zone: tzinfo = SEOUL,
        snapshot_every_s: float = 300.0,
        include_chart: bool = True,
        daily: bool = True,
        clock: Callable[[], datetime] = _utcnow,
        trigger: Any = None,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        self.facade = facade
        self.store = store
        self.catalog = catalog
        self.push = push
        self.zone = zone
        self.snapshot_every_s = snapshot_every_s
        self.include_chart = include_chart
        self.daily = daily
        self.clock = clock
        self.trigger = trigger if trigger is not None else daily_trigger(daily_time, zone)
        self.scheduler = scheduler
        self.reports_sent = 0
        self.snapshots = 0

    @classmethod
    def from_config(
        cls,
        cfg: AppConfig,
        *,
        facade: EngineFacade,
        store: Store,
        catalog: Catalog,
        push: Callable[[Reply], Awaitable[Any]],
    ) -> ReportScheduler:
        return cls(
            facade=facade,
            store=store,
            catalog=catalog,
            push=push,
            daily_time=cfg.report.daily_time,
            zone=cfg.bot.tz,
            snapshot_every_s=cfg.report.snapshot_every_s,
            include_chart=cfg.report.include_chart,
            daily=cfg.report.enabled,
        )

    def start(self) -> None:
        """Schedule the jobs and start the scheduler on the running loop."""
        if self.scheduler is None:
            self.scheduler = AsyncIOScheduler(
                event_loop=asyncio.get_running_loop(), timezone=self.zone
            )
        if self.daily:
            self.scheduler.add_job(
                self.daily_job,
                self.trigger,
                id="daily-report",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
            )
        self.scheduler.add_job(
            self.snapshot,
            IntervalTrigger(seconds=self.snapshot_every_s, timezone=self.zone),
            id="equity-snapshot",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(self.snapshot_every_s),
        )
        self.scheduler.start()

    def next_daily_run(self) -> datetime | None:
        if self.scheduler is None:
            return None
        job = self.scheduler.get_job("daily-report")
        next_run: datetime | None = None if job is None else job.next_run_time
        return next_run

    def subscribe(self, bus: EventBus) -> Subscription:
        """A snapshot after every closed position (so the curve shows each trade)."""
        return bus.subscribe_callback("equity-snapshot", self._on_event, kinds=(PositionClosed,))

    async def _on_event(self, _event: Event) -> None:
        await self.snapshot()

    async def daily_job(self) -> Reply:
        """Build today's report and queue it; the scheduler calls this, tests may too."""
        reply = await self.report("day")
        await self.push(reply)
        self.reports_sent += 1
        log.info("daily report queued")
        return reply

    async def report(self, period: ReportPeriod | str) -> Reply:
        return await build_report(
            self.facade,
            self.store,
            period,
            self.catalog,
            self.clock(),
            zone=self.zone,
            chart=self.include_chart,
        )

    async def snapshot(self) -> None:
        status = await self.facade.status()
        await self.store.snapshot_equity(
            status.equity_krw, status.free_krw, taken_at=status.market_time
        )
        self.snapshots += 1

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
