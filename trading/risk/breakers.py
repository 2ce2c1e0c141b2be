"""Stateful entry halts: the halt schedule, the volatility filter, daily loss and drawdown.

Each one is fed by ``observe``/``on_bar`` (the engine calls them on every candle and mark, the
gate on every entry check) and answered by ``check``. A halt switching on or off emits one
``HaltChanged`` so chat hears about it once, not once per refused entry; the refusals themselves
become ``RiskBreach`` events in the gate. Times are the request's time (``bar_time``), never the
wall clock, so a backtest replays the same halts as live trading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from trading.domain import Bar
from trading.events import EventSink, HaltChanged, ignore_event
from trading.risk.decision import APPROVED, Decision, Denied, krw, local_time, pct, trading_day
from trading.risk.halts import HaltSchedule
from trading.risk.limits import RiskLimits
from trading.risk.measures import atr_pct, realized_vol_pct
from trading.risk.memory import HaltMemory, VolatilityHalt


def _next_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


class ScheduleGuard:
    """No entries while any window of the ``HaltSchedule`` is active."""

    def __init__(self, schedule: HaltSchedule, sink: EventSink = ignore_event) -> None:
        self.schedule = schedule
        self._sink = sink
        self._active: set[str] = set()
        self._seen: datetime | None = None

    def observe(self, now: datetime) -> None:
        """Announce windows that started or ended since the last call; older times are ignored."""
        if self._seen is not None and now < self._seen:
            return
        self._seen = now
        if not self._active and not self.schedule.windows:
            return  # nothing scheduled, nothing to announce (the backtester's hot path)
        active = {w.name for w in self.schedule.active(now)}
        at = now.astimezone(UTC)
        for name in sorted(active - self._active):
            until = self.schedule.resumes_at(now)
            tail = f" until {local_time(until, self.schedule.zone)}" if until else ""
            reason = f"halt window {name!r} started: no new entries{tail}"
            when = local_time(until, self.schedule.zone) if until else "-"
            self._sink(
                HaltChanged(
                    name=f"halt_window:{name}",
                    active=True,
                    reason=reason,
                    at=at,
                    code="window_started",
                    values=(("name", name), ("until", when)),
                )
            )
        for name in sorted(self._active - active):
            reason = f"halt window {name!r} ended"
            self._sink(
                HaltChanged(
                    name=f"halt_window:{name}",
                    active=False,
                    reason=reason,
                    at=at,
                    code="window_ended",
                    values=(("name", name),),
                )
            )
        self._active = active

    def check(self, now: datetime) -> Decision:
        windows = self.schedule.active(now)
        if not windows:
            return APPROVED
        names = ", ".join(repr(w.name) for w in windows)
        noun = "halt window" if len(windows) == 1 else "halt windows"
        until = self.schedule.resumes_at(now)
        assert until is not None  # an active window always ends
        when = local_time(until, self.schedule.zone)
        return Denied(
            "halt_window",
            f"no new entries during {noun} {names} until {when}",
            code="halt_window",
            values=(("names", names), ("until", when)),
        )


class VolatilityFilter:
    """Halts entries into a market whose volatility rose above the halt level.

    Hysteresis: the halt lifts only once volatility falls below the (lower) resume level.
    """

    def __init__(self, sink: EventSink = ignore_event) -> None:
        self._sink = sink
        self._bars: dict[str, list[Bar]] = {}
        self._levels: dict[str, Decimal] = {}
        self.halted: set[str] = set()

    def level(self, market: str) -> Decimal | None:
        return self._levels.get(market)

    def memory(self) -> tuple[VolatilityHalt, ...]:
        """The halted markets with their last level, for ``RiskMemory``."""
        return tuple(VolatilityHalt(m, self._levels[m]) for m in sorted(self.halted))

    def restore(self, halts: tuple[VolatilityHalt, ...]) -> None:
        """Halt these markets again after a restart. Their candles are gone, so the halt holds
        until enough new candles measure the level below the resume level (the hysteresis)."""
        self.halted = {h.market for h in halts}
        self._levels.update({h.market: h.level for h in halts})

    def on_bar(self, bar: Bar, limits: RiskLimits) -> Decimal | None:
        """Feed one closed candle; returns the market's volatility in percent, if known."""
        bars = self._bars.setdefault(bar.market, [])
        if bars and bar.start <= bars[-1].start:
            if bar.start < bars[-1].start:
                return self._levels.get(bar.market)  # a late, older candle changes nothing
            bars.pop()  # the same candle again (backfill after a gap): the newer copy wins
        bars.append(bar)
        del bars[: -(limits.volatility_period + 1)]
        if limits.volatility_measure == "atr":
            level = atr_pct(bars, limits.volatility_period)
        else:
            level = realized_vol_pct(bars, limits.volatility_period)
        if level is None:
            return None
        self._levels[bar.market] = level
        at = bar.end.astimezone(UTC)
        halt_at, resume_at = limits.volatility_halt_pct, limits.resume_pct
        if bar.market not in self.halted and halt_at > 0 and level > halt_at:
            self.halted.add(bar.market)
            reason = self._reason(bar.market, limits)
            self._emit(
                bar.market, True, reason, at, "volatility_on", self._values(bar.market, limits)
            )
        elif bar.market in self.halted and (halt_at == 0 or level < resume_at):
            self.halted.discard(bar.market)
            reason = (
                f"{bar.market} volatility ({_label(limits)}) fell to {pct(level)}%,"
                f" below {pct(resume_at)}%: entries resume"
            )
            values = self._values(bar.market, limits)
            self._emit(bar.market, False, reason, at, "volatility_off", values)
        return level

    def check(self, market: str, limits: RiskLimits) -> Decision:
        if market in self.halted and limits.volatility_halt_pct > 0:
            return Denied(
                "volatility",
                self._reason(market, limits),
                code="volatility",
                values=self._values(market, limits),
            )
        return APPROVED

    def _reason(self, market: str, limits: RiskLimits) -> str:
        return (
            f"{market} volatility ({_label(limits)}) is {pct(self._levels[market])}%, above the"
            f" {pct(limits.volatility_halt_pct)}% halt level: no new entries until it falls"
            f" below {pct(limits.resume_pct)}%"
        )

    def _values(self, market: str, limits: RiskLimits) -> tuple[tuple[str, str], ...]:
        return (
            ("market", market),
            ("measure", _label(limits)),
            ("level", pct(self._levels[market])),
            ("halt", pct(limits.volatility_halt_pct)),
            ("resume", pct(limits.resume_pct)),
        )

    def _emit(
        self,
        market: str,
        active: bool,
        reason: str,
        at: datetime,
        code: str,
        values: tuple[tuple[str, str], ...],
    ) -> None:
        self._sink(
            HaltChanged(
                name=f"volatility:{market}",
                active=active,
                reason=reason,
                at=at,
                code=code,
                values=values,
            )
        )


def _label(limits: RiskLimits) -> str:
    kind = "ATR" if limits.volatility_measure == "atr" else "realized"
    return f"{kind} {limits.volatility_period}"


class _DailyHalt:
    """A halt that, once tripped, lasts until the next trading day in the bot's zone."""

    name = ""

    def __init__(self, sink: EventSink = ignore_event) -> None:
        self._sink = sink
        self._day: date | None = None
        self.trip_reason: str | None = None
        self.trip_values: tuple[tuple[str, str], ...] = ()
        self._waived = False  # an admin lifted today's halt: do not trip again today
        self._memo_at: datetime | None = None
        self._memo_zone: tzinfo | None = None
        self._memo_day = date.min

    def _roll(self, at: datetime, zone: tzinfo) -> date:
        if at is self._memo_at and zone is self._memo_zone:
            day = self._memo_day  # observe and check of one entry ask about the same moment
        else:
            day = trading_day(at, zone)
            self._memo_at, self._memo_zone, self._memo_day = at, zone, day
        if self._day is not None and day < self._day:
            return self._day  # a late observation never re-opens a finished day
        if day != self._day:
            if self._day is not None and self.trip_reason is not None:
                reason = f"new trading day {day.isoformat()}: the {self.name} halt is lifted"
                self._emit(False, reason, at, f"{self.name}_lifted", (("day", day.isoformat()),))
            self._day, self.trip_reason, self._waived = day, None, False
        return day

    def _trip(
        self,
        at: datetime,
        day: date,
        zone: tzinfo,
        what: str,
        values: tuple[tuple[str, str], ...],
    ) -> None:
        if self._waived:
            return
        until = local_time(_next_midnight(day, zone), zone)
        self.trip_reason = f"{what}: no new entries until {until}"
        self.trip_values = (*values, ("until", until))
        self._emit(True, self.trip_reason, at, self.name, self.trip_values)

    def _emit(
        self,
        active: bool,
        reason: str,
        at: datetime,
        code: str,
        values: tuple[tuple[str, str], ...],
    ) -> None:
        self._sink(
            HaltChanged(
                name=self.name,
                active=active,
                reason=reason,
                at=at.astimezone(UTC),
                code=code,
                values=values,
            )
        )

    def check(self, at: datetime, limits: RiskLimits) -> Decision:
        self._roll(at, limits.zone)
        if self.trip_reason is not None:
            return Denied(self.name, self.trip_reason, code=self.name, values=self.trip_values)
        return APPROVED

    @property
    def waived(self) -> bool:
        """An admin lifted today's halt: it does not trip again before the next day."""
        return self._waived

    def memory(self) -> HaltMemory:
        """The day, the tripped halt and the waiver, for ``RiskMemory``."""
        return HaltMemory(self._day, self.trip_reason, self.trip_values, self._waived)

    def restore(self, memory: HaltMemory) -> None:
        """Take back a stored memory (a restart). An earlier day is rolled over, and the
        halt lifted and announced, by the first observation on a later day, as in one run."""
        self._day, self.trip_reason = memory.day, memory.reason
        self.trip_values, self._waived = memory.values, memory.waived
        self._memo_at = self._memo_zone = None

    def reset(self, at: datetime, *, rest_of_day: bool = True, by: str = "") -> None:
        """Lift a tripped halt (an admin's decision); it stays lifted until the next day."""
        self._waived = rest_of_day
        if self.trip_reason is not None:
            self.trip_reason = None
            who = f" by {by}" if by else ""
            values = (("by", by or "-"),)
            self._emit(
                False, f"the {self.name} halt was reset{who}", at, f"{self.name}_reset", values
            )


class DailyLossBreaker(_DailyHalt):
    """Realized + unrealized PnL of the current day reaching ``-daily_loss_limit_krw``.

    ``day_pnl`` must be computed by the engine over ``trading_day(at, limits.zone)``.
    """

    name = "daily_loss"

    def __init__(self, sink: EventSink = ignore_event) -> None:
        super().__init__(sink)
        self.day_pnl = Decimal(0)

    def observe(self, at: datetime, day_pnl: Decimal, limits: RiskLimits) -> None:
        day = self._roll(at, limits.zone)
        self.day_pnl = day_pnl
        limit = limits.daily_loss_limit_krw
        if self.trip_reason is None and limit > 0 and day_pnl <= -limit:
            what = f"daily loss {krw(-day_pnl)} KRW reached the {krw(limit)} KRW limit"
            values = (("loss", krw(-day_pnl)), ("limit", krw(limit)))
            self._trip(at, day, limits.zone, what, values)


class DrawdownBreaker(_DailyHalt):
    """Equity more than ``max_drawdown_pct`` below its high-water mark.

    The peak is all-time (restore it with ``peak=`` after a restart), so a deep drawdown halts
    again each new day until equity recovers or an admin calls ``reset_peak``.
    """

    name = "drawdown"

    def __init__(self, sink: EventSink = ignore_event, peak: Decimal | None = None) -> None:
        super().__init__(sink)
        self.peak = peak
        self.drawdown_pct = Decimal(0)

    def observe(self, at: datetime, equity: Decimal, limits: RiskLimits) -> None:
        day = self._roll(at, limits.zone)
        if self.peak is None or equity > self.peak:
            self.peak = equity
        if self.peak <= 0:
            return
        self.drawdown_pct = (self.peak - equity) / self.peak * 100
        limit = limits.max_drawdown_pct
        if self.trip_reason is None and limit > 0 and self.drawdown_pct > limit:
            what = (
                f"equity {krw(equity)} KRW is {pct(self.drawdown_pct)}% below its peak of"
                f" {krw(self.peak)} KRW, more than the {pct(limit)}% limit"
            )
            values = (
                ("equity", krw(equity)),
                ("drawdown", pct(self.drawdown_pct)),
                ("peak", krw(self.peak)),
                ("limit", pct(limit)),
            )
            self._trip(at, day, limits.zone, what, values)

    def reset_peak(self, at: datetime, equity: Decimal, *, by: str = "") -> None:
        """Accept the drawdown: measure from ``equity`` from now on and lift today's halt.

        Announced even when no halt was tripped: moving the peak changes what trips next.
        """
        old = self.peak
        self.peak, self.drawdown_pct = equity, Decimal(0)
        self.trip_reason = None
        self._waived = False  # a new fall from the new peak trips again
        who = f" by {by}" if by else ""
        was = krw(old) if old is not None else "-"
        self._emit(
            False,
            f"the drawdown peak was re-based from {was} to {krw(equity)} KRW{who}",
            at,
            "drawdown_rebased",
            (("old", was), ("peak", krw(equity)), ("by", by or "-")),
        )
