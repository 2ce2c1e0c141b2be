"""Stateful entry halts: the halt schedule, the volatility filter, daily loss and drawdown.

Each one is fed by ``observe``/``on_bar`` (the engine calls them on every candle and mark, the
gate on every entry check) and answered by ``check``. A halt switching on or off emits one
``HaltChanged`` so chat hears about it once, not once per refused entry; the refusals themselves
become ``RiskBreached`` events in the gate. Times are the request's time (``bar_time``), never the
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
from trading.risk.memory import HaltMemory, VolatilityHalt
from trading.risk.volatility import Rule, VolatilityTrack


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

    Absolute (``volatility_halt_pct``) or relative to the market's own recent volatility
    (``volatility_halt_percentile`` of the last ``volatility_window_candles``), or both:
    ``trading.risk.volatility`` measures, incrementally, and says how the two combine.
    Hysteresis: the halt lifts only once volatility falls below the (lower) resume level.
    """

    def __init__(self, sink: EventSink = ignore_event) -> None:
        self._sink = sink
        self._tracks: dict[str, VolatilityTrack] = {}
        self._last: dict[str, datetime] = {}  # start of the newest candle measured
        self._levels: dict[str, Decimal] = {}
        self._ranks: dict[str, int | None] = {}
        self._cause: dict[str, str] = {}  # the mode that tripped: "level", "rank" or "any"
        self._rule: tuple[RiskLimits, Rule] | None = None
        self.halted: set[str] = set()

    def level(self, market: str) -> Decimal | None:
        return self._levels.get(market)

    def rank(self, market: str) -> int | None:
        """How many of the window's levels lie below the last one; None while it fills."""
        return self._ranks.get(market)

    def memory(self) -> tuple[VolatilityHalt, ...]:
        """The halted markets with their last level, for ``RiskMemory``."""
        return tuple(VolatilityHalt(m, self._levels[m]) for m in sorted(self.halted))

    def restore(self, halts: tuple[VolatilityHalt, ...]) -> None:
        """Halt these markets again after a restart. Their candles are gone, so the halt holds
        until enough new candles measure the level below the resume level (the hysteresis)."""
        self.halted = {h.market for h in halts}
        self._cause.update({h.market: "any" for h in halts})
        self._levels.update({h.market: h.level for h in halts})

    def rule(self, limits: RiskLimits) -> Rule:
        """The filter's settings as the measure compares them (kept while ``limits`` is)."""
        if self._rule is None or self._rule[0] is not limits:
            self._rule = (limits, Rule.of(limits))
        return self._rule[1]

    def assume(self, market: str, halted: bool, level: float, rank: int) -> None:
        """Take the state the backtester computed for a whole frame (``halt_series``) at one
        candle: what ``on_bar`` would have left after feeding every candle up to it."""
        if halted:
            self.halted.add(market)
            self._cause[market] = "any"
            self._levels[market] = _dec(level)
            self._ranks[market] = rank if rank >= 0 else None
        else:
            self.halted.discard(market)

    def on_bar(self, bar: Bar, limits: RiskLimits) -> Decimal | None:
        """Feed one closed candle; returns the market's volatility in percent, if known."""
        rule = self.rule(limits)
        market = bar.market
        track = self._tracks.get(market)
        if track is None:
            track = self._tracks[market] = VolatilityTrack(rule.measure, rule.period, rule.window)
        elif not track.fits(rule):
            track.rebuild(rule)  # a live /set of the period, the measure or the window
        last = self._last.get(market)
        if last is not None and bar.start <= last:
            if bar.start < last:
                return self._levels.get(market)  # a late, older candle changes nothing
            track.drop_last()  # the same candle again (backfill after a gap): the newer wins
        self._last[market] = bar.start
        measured = track.push(float(bar.high), float(bar.low), float(bar.close))
        if measured is None:
            return None
        level_f, rank = measured
        level = self._levels[market] = _dec(level_f)
        self._ranks[market] = rank
        at = bar.end.astimezone(UTC)
        if market not in self.halted and rule.trips(level_f, rank):
            self.halted.add(market)
            self._cause[market] = (
                "rank" if rule.halt_rank and (rank or 0) >= rule.halt_rank else "level"
            )
            code = f"{self._code(market, limits)}_on"
            self._emit(market, True, self._reason(market, limits), at, code, limits)
        elif market in self.halted and (
            not self._holds(market, rule) or rule.lets_go(level_f, rank)
        ):
            self.halted.discard(market)
            relative = rule.halt_rank > 0 and rank is not None
            code = "volatility_rank_off" if relative else "volatility_off"
            self._emit(market, False, self._lifted(market, limits), at, code, limits)
        return level

    def _holds(self, market: str, rule: Rule) -> bool:
        """Whether the mode that halted ``market`` is still on (a live ``/set`` may turn it
        off: the halt it caused goes with it)."""
        cause = self._cause.get(market, "any")
        if cause == "level":
            return rule.halt_pct > 0
        if cause == "rank":
            return rule.halt_rank > 0
        return rule.on

    def check(self, market: str, limits: RiskLimits) -> Decision:
        if market in self.halted and self._holds(market, self.rule(limits)):
            return Denied(
                "volatility",
                self._reason(market, limits),
                code=self._code(market, limits),
                values=self._values(market, limits),
            )
        return APPROVED

    def _relative(self, market: str, limits: RiskLimits) -> bool:
        """Whether the relative mode speaks for ``market``: it is on and its window is full
        (else the absolute level is the reason)."""
        rule = self.rule(limits)
        rank = self._ranks.get(market)
        return (
            rule.halt_rank > 0
            and rank is not None
            and (rule.halt_pct == 0 or rank >= rule.halt_rank)
        )

    def _code(self, market: str, limits: RiskLimits) -> str:
        return "volatility_rank" if self._relative(market, limits) else "volatility"

    def _reason(self, market: str, limits: RiskLimits) -> str:
        level = pct(self._levels[market], LEVEL_PLACES)
        if self._relative(market, limits):
            rank = self._ranks.get(market) or 0
            return (
                f"{market} volatility ({_label(limits)}) is {level}%, percentile"
                f" {_pctl(rank, limits)} of its last {limits.volatility_window_candles} candles,"
                f" at or above the {pct(limits.volatility_halt_percentile)} halt percentile:"
                f" no new entries until it falls below percentile"
                f" {pct(limits.volatility_resume_percentile)}"
            )
        return (
            f"{market} volatility ({_label(limits)}) is {level}%, above the"
            f" {pct(limits.volatility_halt_pct)}% halt level: no new entries until it falls"
            f" below {pct(limits.resume_pct)}%"
        )

    def _lifted(self, market: str, limits: RiskLimits) -> str:
        level = pct(self._levels[market], LEVEL_PLACES)
        rank = self._ranks.get(market)
        if self.rule(limits).halt_rank > 0 and rank is not None:
            return (
                f"{market} volatility ({_label(limits)}) fell to {level}%, percentile"
                f" {_pctl(rank, limits)} of its last {limits.volatility_window_candles} candles,"
                f" below {pct(limits.volatility_resume_percentile)}: entries resume"
            )
        return (
            f"{market} volatility ({_label(limits)}) fell to {level}%,"
            f" below {pct(limits.resume_pct)}%: entries resume"
        )

    def _values(self, market: str, limits: RiskLimits) -> tuple[tuple[str, str], ...]:
        rank = self._ranks.get(market)
        return (
            ("market", market),
            ("measure", _label(limits)),
            ("level", pct(self._levels[market], LEVEL_PLACES)),
            ("halt", pct(limits.volatility_halt_pct)),
            ("resume", pct(limits.resume_pct)),
            ("rank", _pctl(rank, limits) if rank is not None else "-"),
            ("window", str(limits.volatility_window_candles)),
            ("halt_rank", pct(limits.volatility_halt_percentile)),
            ("resume_rank", pct(limits.volatility_resume_percentile)),
        )

    def _emit(
        self,
        market: str,
        active: bool,
        reason: str,
        at: datetime,
        code: str,
        limits: RiskLimits,
    ) -> None:
        self._sink(
            HaltChanged(
                name=f"volatility:{market}",
                active=active,
                reason=reason,
                at=at,
                code=code,
                values=self._values(market, limits),
            )
        )


#: volatility levels are small on short candles (ATR of a minute: some 0.05 %)
LEVEL_PLACES = "0.0001"


def _dec(level: float) -> Decimal:
    return Decimal(repr(level))


def _pctl(rank: int, limits: RiskLimits) -> str:
    return pct(Decimal(rank) * 100 / limits.volatility_window_candles)


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
