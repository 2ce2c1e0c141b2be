"""``RiskGate``: every entry passes through here before an order is built.

Checks run in a fixed order and the first denial wins, so a user always gets the most basic
reason ("paused" before "balance") and one ``RiskBreached`` per refused entry:

1. ``kill_switch``   2. ``paused``      3. ``halt_window``   4. ``daily_loss``
5. ``drawdown``      6. ``protection``  7. ``volatility``    8. ``delisting``
9. ``market_warning`` 10. ``max_positions`` 11. ``position_size`` 12. ``balance``
13. ``slippage`` (last: it reads the order book and may turn the order into a limit order,
which only makes sense for an order that passed everything else).

``protection`` is the locks the protections earned from closed trades (stoploss guard,
drawdown guard, low-profit guard; ``trading.risk.protections``): feed each closed round trip
to ``trade_closed``.

``delisting`` and ``market_warning`` read Upbit's designations (``lifecycle``, two plain sets
the engine updates on a schedule; see ``trading.risk.lifecycle``).

Exits are never checked: ``check_exit`` always approves, so stops fire while entries are halted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from trading.domain import Bar
from trading.domain.rules import MarketRules
from trading.events import EventSink, RiskBreached, ignore_event
from trading.risk import checks
from trading.risk.breakers import (
    DailyLossBreaker,
    DrawdownBreaker,
    ScheduleGuard,
    VolatilityFilter,
)
from trading.risk.decision import APPROVED, Approved, Decision, Denied, LimitUsage, krw, pct
from trading.risk.exit_usage import exit_usage
from trading.risk.halts import HaltSchedule
from trading.risk.lifecycle import MarketLifecycle, deny_closing, deny_warned
from trading.risk.limits import RiskLimits
from trading.risk.memory import ClosedTrade, GateMemory
from trading.risk.protection_usage import protection_usage
from trading.risk.protections import Protections

#: ``(market, krw) -> expected average fill price`` of a market buy, None if the book is too thin.
FillEstimator = Callable[[str, Decimal], Decimal | None]

ORDER = (
    "kill_switch",
    "paused",
    "halt_window",
    "daily_loss",
    "drawdown",
    "protection",
    "volatility",
    "delisting",
    "market_warning",
    "max_positions",
    "position_size",
    "balance",
    "slippage",
)


#: ``/risk`` lines that block entries into some markets, not all (``entries_allowed`` stays)
PER_MARKET = frozenset(
    {
        "volatility",
        "delisting",
        "market_warning",
        "cooldown",
        # protections: a lock of every market blocks entries through ``blocks_all`` instead
        "stoploss_guard",
        "drawdown_guard",
        "low_profit",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRequest:
    """A strategy wants to buy ``krw`` of ``market``.

    ``bar_time`` (aware) is "now" for every time-based check: pass the close (``Bar.end``) of
    the signal candle, live and in backtests alike, the same clock ``on_bar`` uses.
    """

    market: str
    signal_price: Decimal
    krw: Decimal
    bar_time: datetime
    strategy: str = ""
    #: the most this entry may spend: None = ``position_size_krw`` (every signal, an
    #: operator's ``/buy``); an admin's ``/buy`` may pass ``manual_buy_max_krw``
    max_krw: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """The account as the engine sees it at ``bar_time``.

    ``day_pnl`` is realized + unrealized PnL since 00:00 of the current day in the limits' zone
    (use ``trading_day``). ``estimate_fill`` None (backtest, paper without a book) skips the
    slippage check.
    """

    free_krw: Decimal
    open_positions: int
    equity: Decimal
    day_pnl: Decimal
    paused: bool = False
    kill_switch: bool = False
    estimate_fill: FillEstimator | None = None
    #: markets cooling down after an exit, with the candles left (``/risk`` only)
    cooling: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class RiskState:
    entries_allowed: bool
    items: tuple[LimitUsage, ...]


class RiskGate:
    """Composes the checks; owns the stateful halts and the live halt schedule."""

    def __init__(
        self,
        limits: RiskLimits,
        *,
        rules: MarketRules,
        sink: EventSink = ignore_event,
        schedule: HaltSchedule | None = None,
        peak_equity: Decimal | None = None,
    ) -> None:
        self.limits = limits
        self.rules = rules
        self._sink = sink
        self.schedule = schedule or HaltSchedule(limits.halt_windows, limits.zone)
        self.halts = ScheduleGuard(self.schedule, sink)
        self.volatility = VolatilityFilter(sink)
        self.daily_loss = DailyLossBreaker(sink)
        self.drawdown = DrawdownBreaker(sink, peak=peak_equity)
        self.lifecycle = MarketLifecycle()  # Upbit's warnings and delistings (engine-fed)
        self.protections = Protections(sink)  # locks earned by closed trades (engine-fed)
        # the checks in ORDER as functions of the class (bound methods would make a cycle):
        # a backtest asks the gate thousands of times, and a lookup per name (``_run``) cost
        # as much as the checks themselves
        self._checks: tuple[Callable[[RiskGate, EntryRequest, RiskContext], Decision], ...] = (
            tuple(getattr(type(self), f"_check_{name}") for name in ORDER)
        )

    def update_limits(self, limits: RiskLimits) -> None:
        """Apply a live ``/set``; the schedule is edited through ``schedule`` instead."""
        self.limits = limits

    def memory(self) -> GateMemory:
        """What a restart must not forget: the peak and every stateful halt (no store here:
        the engine keeps it, the backtester never asks)."""
        return GateMemory(
            peak=self.drawdown.peak,
            daily_loss=self.daily_loss.memory(),
            drawdown=self.drawdown.memory(),
            volatility=self.volatility.memory(),
            protections=self.protections.memory(),
        )

    def restore(self, memory: GateMemory) -> None:
        """Take back what ``memory`` exported, before the first check after a restart."""
        self.drawdown.peak = memory.peak
        self.daily_loss.restore(memory.daily_loss)
        self.drawdown.restore(memory.drawdown)
        self.volatility.restore(memory.volatility)
        self.protections.restore(memory.protections)

    def on_bar(self, bar: Bar) -> None:
        """Feed every closed candle: volatility levels and halt-window announcements."""
        self.volatility.on_bar(bar, self.limits)
        self.halts.observe(bar.end)
        if self.protections.locks:
            self.protections.observe(bar.end, self.limits)  # announce a pause that ended

    def trade_closed(self, trade: ClosedTrade) -> None:
        """Feed a closed round trip to the protections (live, paper and backtest alike)."""
        self.protections.on_trade_closed(trade, self.limits)

    def observe(self, at: datetime, ctx: RiskContext) -> None:
        """Update the loss and drawdown halts from the account; call on every mark too."""
        self.halts.observe(at)
        self.daily_loss.observe(at, ctx.day_pnl, self.limits)
        self.drawdown.observe(at, ctx.equity, self.limits)

    def check_entry(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        """Run every check in ``ORDER``; a denial is also sent as ``RiskBreached``."""
        self.observe(req.bar_time, ctx)
        decision: Decision = APPROVED
        for check in self._checks:
            decision = check(self, req, ctx)
            if not decision.ok:
                assert isinstance(decision, Denied)
                if self._sink is ignore_event:  # a backtest: nobody to tell
                    return decision
                self._sink(
                    RiskBreached(
                        check=decision.check,
                        market=req.market,
                        reason=decision.reason,
                        code=decision.code,
                        values=decision.values,
                        at=req.bar_time.astimezone(UTC),
                    )
                )
                return decision
        return decision

    def check_exit(self, market: str) -> Approved:
        """Exits (stops, take-profit, manual sells) are never blocked by entry checks."""
        return APPROVED

    def _run(self, name: str, req: EntryRequest, ctx: RiskContext) -> Decision:
        """One check of ``ORDER`` by name."""
        if name not in ORDER:
            raise AssertionError(name)
        check: Callable[[EntryRequest, RiskContext], Decision] = getattr(self, f"_check_{name}")
        return check(req, ctx)

    def _check_kill_switch(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return checks.check_kill_switch(ctx.kill_switch)

    def _check_paused(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return checks.check_paused(ctx.paused)

    def _check_halt_window(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return self.halts.check(req.bar_time)

    def _check_daily_loss(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return self.daily_loss.check(req.bar_time, self.limits)

    def _check_drawdown(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return self.drawdown.check(req.bar_time, self.limits)

    def _check_protection(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        if not self.protections.locks:
            return APPROVED  # the backtester's hot path: nothing locked, nothing to look at
        return self.protections.check(req.market, req.bar_time, self.limits)

    def _check_volatility(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        if not self.volatility.halted:
            return APPROVED  # what ``check`` answers for a market that is not halted
        return self.volatility.check(req.market, self.limits)

    def _check_delisting(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        if req.market not in self.lifecycle.closing:
            return APPROVED
        return deny_closing(self.lifecycle.statuses[req.market])

    def _check_market_warning(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        if req.market not in self.lifecycle.warned:
            return APPROVED
        return deny_warned(self.lifecycle.statuses[req.market])

    def _check_max_positions(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return checks.check_open_positions(ctx.open_positions, self.limits)

    def _check_position_size(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return checks.check_position_size(req.krw, self.limits, req.max_krw)

    def _check_balance(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        return checks.check_balance(req.krw, ctx.free_krw, self.limits)

    def _check_slippage(self, req: EntryRequest, ctx: RiskContext) -> Decision:
        if ctx.estimate_fill is None:
            return APPROVED
        return checks.check_slippage(
            market=req.market,
            signal_price=req.signal_price,
            size_krw=req.krw,
            expected_fill=ctx.estimate_fill(req.market, req.krw),
            limits=self.limits,
            rules=self.rules,
        )

    def state(self, now: datetime, ctx: RiskContext) -> RiskState:
        """The ``/risk`` summary: each limit and how much of it is used."""
        self.observe(now, ctx)
        self.protections.observe(now, self.limits)
        lim = self.limits
        trading = "kill switch on" if ctx.kill_switch else "paused" if ctx.paused else "active"
        state = "kill_switch" if ctx.kill_switch else "paused" if ctx.paused else "active"
        loss = max(Decimal(0), -ctx.day_pnl)
        loss_on, drawdown_on = lim.daily_loss_limit_krw > 0, lim.max_drawdown_pct > 0
        waived = self.daily_loss.waived
        loss_code = "daily_loss_waived" if waived else "daily_loss"
        peak = krw(self.drawdown.peak or Decimal(0))
        items = [
            LimitUsage(
                "trading",
                f"trading {trading}",
                ctx.kill_switch or ctx.paused,
                code=f"trading_{state}",
            ),
            LimitUsage(
                "max_positions",
                f"{ctx.open_positions} of {lim.max_open_positions} positions",
                ctx.open_positions >= lim.max_open_positions,
                code="positions",
                values=(("open", str(ctx.open_positions)), ("limit", str(lim.max_open_positions))),
            ),
            LimitUsage(
                "position_size",
                f"position size {krw(lim.position_size_krw)} KRW"
                f" (Upbit minimum {krw(lim.min_order_krw)} KRW)",
                code="position_size",
                values=(("size", krw(lim.position_size_krw)), ("min", krw(lim.min_order_krw))),
            ),
            LimitUsage(
                "daily_loss",
                f"daily loss {krw(loss)} of {krw(lim.daily_loss_limit_krw)} KRW"
                + (" (halt lifted by an admin for the rest of the day)" if waived else "")
                if loss_on
                else "daily loss limit off",
                self.daily_loss.trip_reason is not None,
                code=loss_code if loss_on else "daily_loss_off",
                values=(("loss", krw(loss)), ("limit", krw(lim.daily_loss_limit_krw))),
            ),
            LimitUsage(
                "drawdown",
                f"drawdown {pct(self.drawdown.drawdown_pct)}% of {pct(lim.max_drawdown_pct)}%"
                f" (peak {peak} KRW)"
                if drawdown_on
                else "drawdown limit off",
                self.drawdown.trip_reason is not None,
                code="drawdown" if drawdown_on else "drawdown_off",
                values=(
                    ("drawdown", pct(self.drawdown.drawdown_pct)),
                    ("limit", pct(lim.max_drawdown_pct)),
                    ("peak", peak),
                ),
            ),
            LimitUsage(
                "slippage",
                f"slippage up to {lim.max_slippage_bps} bps, then {lim.slippage_mode}",
                code=f"slippage_{lim.slippage_mode}",
                values=(("bps", str(lim.max_slippage_bps)),),
            ),
            self._volatility_usage(),
            *self._lifecycle_usage(),
            self._schedule_usage(now),
            *protection_usage(self.protections, lim, ctx.cooling),
            *exit_usage(lim),
        ]
        blocked = any(i.blocking for i in items if i.name not in PER_MARKET)
        blocked = blocked or self.protections.blocks_all()
        return RiskState(entries_allowed=not blocked, items=tuple(items))

    def _volatility_usage(self) -> LimitUsage:
        lim = self.limits
        absolute, relative = lim.volatility_halt_pct > 0, lim.volatility_halt_percentile > 0
        if not (absolute or relative):
            return LimitUsage("volatility", "volatility halt off", code="volatility_off")
        halted = ", ".join(sorted(self.volatility.halted))
        window = str(lim.volatility_window_candles)
        rank = (
            f"at percentile {pct(lim.volatility_halt_percentile)} of the last {window}"
            f" candles, resume below percentile {pct(lim.volatility_resume_percentile)}"
        )
        level = f"above {pct(lim.volatility_halt_pct)}%, resume below {pct(lim.resume_pct)}%"
        if absolute and relative:
            text, code = f"{level}; or {rank}", "volatility_both"
        elif relative:
            text, code = rank, "volatility_rank"
        else:
            text, code = level, "volatility"
        return LimitUsage(
            "volatility",
            f"volatility halt {text} (halted: {halted or 'none'})",
            bool(self.volatility.halted),
            code=code,
            values=(
                ("halt", pct(lim.volatility_halt_pct)),
                ("resume", pct(lim.resume_pct)),
                ("halt_rank", pct(lim.volatility_halt_percentile)),
                ("resume_rank", pct(lim.volatility_resume_percentile)),
                ("window", window),
                ("halted", halted or "-"),
            ),
        )

    def _lifecycle_usage(self) -> tuple[LimitUsage, LimitUsage]:
        """Which markets Upbit flags: each blocks entries into those markets only."""
        statuses = self.lifecycle.statuses
        closing = ", ".join(f"{m} ({statuses[m].tag})" for m in sorted(self.lifecycle.closing))
        warned = ", ".join(
            m if statuses[m].warning else f"{m} ({statuses[m].tag})"
            for m in sorted(self.lifecycle.warned)
        )
        return (
            LimitUsage(
                "delisting",
                f"no new entries into {closing} (delisting)"
                if closing
                else "no market is being delisted",
                bool(closing),
                code="delisting_on" if closing else "delisting_none",
                values=(("markets", closing),) if closing else (),
            ),
            LimitUsage(
                "market_warning",
                f"no new entries into {warned} (Upbit warning)"
                if warned
                else "no market is under an Upbit warning",
                bool(warned),
                code="market_warning_on" if warned else "market_warning_none",
                values=(("markets", warned),) if warned else (),
            ),
        )

    def _schedule_usage(self, now: datetime) -> LimitUsage:
        decision = self.halts.check(now)
        count = len(self.schedule.windows)
        if isinstance(decision, Denied):
            return LimitUsage(
                "halt_window", decision.reason, True, code="halt_active", values=decision.values
            )
        return LimitUsage(
            "halt_window",
            f"halt windows: {count} scheduled, none active",
            code="halt_idle",
            values=(("count", str(count)),),
        )
