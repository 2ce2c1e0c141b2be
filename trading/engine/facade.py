"""The leader's ``CommandApi`` (``trading.command_api``): what chat, the console and the HTTP
API call; the engine and the store stay behind it.

Every change made here is persisted (pause state, parameter overrides, halt windows) so a
restart comes back as it was, and is announced as an event. Parameter changes are validated
by the strategy's parameter model or the risk limits, recorded with who/old/new, and undoable.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal

from trading.command_api import (
    BalanceView,
    DustHolding,
    EngineStatus,
    FeedView,
    FlattenReport,
    HaltStatus,
    HealthView,
    InstanceView,
    ParamChange,
    Quote,
    StoreReads,
)
from trading.engine import resets
from trading.engine.core import Engine
from trading.engine.exits import ExitPlan
from trading.engine.memory import describe
from trading.engine.pnl import AverageCost, Period, PnlRow, Realized, pnl_table
from trading.engine.recovery import catch_up, resume_stops
from trading.engine.research import (
    BacktestJob,
    Job,
    OptimizeJob,
    Outcome,
    ResearchDesk,
    RunningJob,
    backtest_job,
    optimize_job,
)
from trading.engine.tunables import SettingView, Tunables
from trading.engine.universe import UniverseKeeper
from trading.engine.warmup import lengthen, reserve, warming
from trading.events import (
    Event,
    EventSink,
    HaltChanged,
    ParameterChanged,
    Paused,
    Resumed,
    SettingRejected,
)
from trading.positions import ExitReason, Position, PositionState
from trading.refusal import Code, Refused, market_unknown
from trading.risk import checks
from trading.risk.decision import Decision, Denied, krw
from trading.risk.gate import RiskState
from trading.risk.halts import HaltWindow
from trading.risk.memory import RiskMemoryError
from trading.settings import shown
from trading.store import OrderRecord, ParamChangeRecord, Store

log = logging.getLogger(__name__)

PAUSE_KEY, PARAMS_KEY, HALTS_KEY = "engine.pause", "engine.params", "engine.halts"


class EngineFacade(StoreReads):
    def __init__(self, engine: Engine, store: Store, *, sink: EventSink, mode: str) -> None:
        self.engine = engine
        self.store = store
        self._sink = sink
        self.mode = mode
        self._book = AverageCost(engine.limits.zone)
        self._kill_switch_by: str | None = None
        self.research = ResearchDesk()
        self.universe: UniverseKeeper | None = None  # the trader's, with "top:N"
        engine.on_suspended = self._suspended

    async def _suspended(self, market: str) -> None:
        await self._save_pause()

    async def restore(self) -> None:
        """Bring back what the last run changed live or learned: pauses, parameters, halt
        windows, the risk layer's memory (day-open equity, peak, tripped halts)."""
        pause = await self.store.get_state(PAUSE_KEY, {})
        self.engine.paused_all = bool(pause.get("all", False))
        self.engine.paused_markets = set(pause.get("markets", []))
        self.engine.kill_switch = bool(pause.get("kill_switch", False))
        self._kill_switch_by = pause.get("kill_switch_by")
        self.engine.orders.guard.restore(pause.get("suspended", []))
        await self._restore_settings()
        for raw in await self.store.get_state(HALTS_KEY, []):
            window = HaltWindow.model_validate(raw)
            if self.engine.gate.schedule.get(window.name) is None:
                self.engine.gate.schedule.add(window)
        await self._restore_risk_memory()
        for note in await catch_up(self.engine):
            log.warning("restart: %s", note)
        await resume_stops(self.engine)

    async def _restore_settings(self) -> None:
        """Re-apply the live changes of earlier runs, each validated like a new ``/set``; one
        that no longer validates is dropped with an alert, and the config value applies."""
        stored = await self.store.get_state(PARAMS_KEY, {})
        replayed = self.tunables.replay(stored)
        self._install(replayed.tunables)
        for rejected in replayed.rejected:
            refusal = rejected.refusal
            log.warning("stored setting %s refused at start: %s", rejected.key, refusal.message)
            self._sink(
                SettingRejected(
                    key=rejected.key,
                    stored=shown(rejected.stored),
                    applies=rejected.applies,
                    reason=refusal.message,
                    code=refusal.code,
                    values=tuple(refusal.values.items()),
                )
            )
        if replayed.kept != stored:
            await self.store.set_state(PARAMS_KEY, replayed.kept)

    async def _restore_risk_memory(self) -> None:
        """The limits go on where the last run left them. An unreadable memory must not stop
        the start, but the day's loss and the peak are then unknown: start from nothing, say
        so, and pause entries until an operator has looked (``/risk``, then ``/resume``)."""
        engine = self.engine
        if engine.memory is None:
            return
        try:
            memory = await engine.memory.restore(engine.gate, engine.account, engine.traded)
        except RiskMemoryError as exc:
            log.exception("restart: the stored risk memory is unreadable; entries paused")
            self._sink(
                HaltChanged(
                    name="risk_memory",
                    active=True,
                    reason=f"the stored risk memory is unreadable ({exc}): the day's loss and"
                    " the equity peak start over, and new entries are paused until resumed",
                    code="risk_memory_lost",
                    values=(("error", str(exc)[:200]),),
                )
            )
            engine.paused_all = True
            await self._save_pause()
            self._sink(Paused(market=None, by="risk-memory"))
            return
        if memory is not None:
            log.info("restart: risk memory restored: %s", describe(memory))

    # -- reading -------------------------------------------------------------------------------

    @property
    def markets(self) -> tuple[str, ...]:
        """The markets traded: the universe, and any held outside it."""
        return self.engine.traded

    def prices(self) -> dict[str, Decimal]:
        md = self.engine.market_data
        return {m: p for m in self.engine.traded if (p := md.price(m)) is not None}

    async def status(self) -> EngineStatus:
        engine = self.engine
        account = await engine.account.snapshot(engine.positions.all(), self.prices())
        now = engine.market_time()
        return EngineStatus(
            mode=self.mode,
            markets=engine.config.markets,
            strategy=engine.strategy.name,
            paused_all=engine.paused_all,
            paused_markets=tuple(sorted(engine.paused_markets)),
            kill_switch=engine.kill_switch,
            market_time=now,
            equity_krw=account.equity,
            free_krw=account.free_krw,
            positions=tuple(engine.positions.get(m) for m in engine.traded),
            prices=self.prices(),
            active_halts=tuple(w.name for w in engine.gate.schedule.active(now)),
            universe=None if self.universe is None else self.universe.view(),
            warming=warming(engine),
        )

    async def risk_state(self) -> RiskState:
        """Each risk limit and how much of it is used, as ``/risk`` shows it."""
        engine = self.engine
        state = engine.gate.state(engine.market_time(), await engine.risk_context())
        await engine.remember_risk()  # looking measures: the day, the peak, a trip
        return state

    def data_ages(self) -> dict[str, timedelta | None]:
        """Per market, how long since its last trade (None: none since start): staleness."""
        md = self.engine.market_data
        return {m: md.age(m) for m in self.engine.traded}

    def halts(self) -> list[HaltStatus]:
        """Every halt window with whether it is in force now and its next start/end."""
        schedule, now = self.engine.gate.schedule, self.engine.market_time()
        out = []
        for window in schedule.windows:
            span = window.span_at(now, schedule.zone)
            out.append(
                HaltStatus(
                    window=window,
                    active=span is not None,
                    ends_at=None if span is None else span[1],
                    next_start=window.next_start(now, schedule.zone),
                )
            )
        return out

    def dust(self, market: str | None = None) -> list[DustHolding]:
        """Every market's dust (or ``market``'s), valued at the last price."""
        engine, prices = self.engine, self.prices()
        out = []
        for m in (market,) if market else engine.traded:
            dust = engine.positions.get(m).dust
            if dust:
                price = prices.get(m)
                value = None if price is None else dust * price
                out.append(DustHolding(m, dust, value, engine.min_order_total(m)))
        return out

    async def balances(self) -> list[BalanceView]:
        return [
            BalanceView(a.currency, a.total, a.locked, a.avg_buy_price)
            for a in await self.engine.exchange.accounts()
        ]

    async def instance(self) -> InstanceView:
        return InstanceView(standby=False)

    async def health(self) -> HealthView:
        """Feed ages, order books, the Upbit circuit, the kill switch: ``/health``."""
        engine, md = self.engine, self.engine.market_data
        circuit = engine.circuit
        return HealthView(
            market_time=engine.market_time(),
            strategy=engine.strategy.name,
            feeds=tuple(
                FeedView(m, md.age(m), md.orderbook(m) is not None) for m in engine.traded
            ),
            circuit=None if circuit is None else (circuit.state.value, circuit.failures),
            kill_switch=engine.kill_switch,
            instance=await self.instance(),
        )

    def position(self, market: str) -> Position:
        return self.engine.positions.get(market)

    def quote(self, market: str, *, buying: bool, amount: Decimal) -> Quote:
        """The last price and the expected fill of ``amount`` (KRW buying, coin selling)."""
        md = self.engine.market_data
        last, book = md.price(market), md.orderbook(market) is not None
        fill = md.expected_fill(market, "bid" if buying else "ask", amount) if book else None
        return Quote(last, book, fill)

    async def realized(self) -> list[Realized]:
        """Every fill as booked by average cost. Fills are append-only, so only the ones
        recorded since the last call are read (10,000 stored fills cost nothing per call)."""
        while batch := await self.store.fills_after(self._book.last_id, limit=5_000):
            for fill in batch:
                self._book.add(fill)
        return list(self._book.realized)

    async def pnl(self, period: Period = "day", count: int = 7) -> list[PnlRow]:
        today = self.engine.market_time().astimezone(self.engine.limits.zone).date()
        return pnl_table(await self.realized(), period, count, today)

    # -- pause, resume, kill switch --------------------------------------------------------------

    async def pause(self, market: str | None = None, *, by: str) -> None:
        if market is None:
            self.engine.paused_all = True
        else:
            self.check_market(market)
            self.engine.paused_markets.add(market)
        await self._save_pause()
        self._sink(Paused(market=market, by=by))

    async def resume(
        self, market: str | None = None, *, by: str, lift_kill_switch: bool = False
    ) -> None:
        """Resume entries (all, or one market). While the kill switch is on, resuming all
        needs ``lift_kill_switch`` (an admin's confirmed decision; the caller checks roles)."""
        engine = self.engine
        if market is None:
            if engine.kill_switch and not lift_kill_switch:
                raise self._kill_switch_locked()
            engine.paused_all = False
            engine.kill_switch = False
            self._kill_switch_by = None
            engine.paused_markets.clear()
        else:
            self.check_market(market)
            engine.paused_markets.discard(market)
        engine.orders.guard.lift(market)  # orders suspended after refusals may go again
        await self._save_pause()
        self._sink(Resumed(market=market, by=by))

    def kill_switch_by(self) -> str | None:
        """Who turned the kill switch on (None: it is off)."""
        return (self._kill_switch_by or "-") if self.engine.kill_switch else None

    def _kill_switch_locked(self) -> Refused:
        who = self._kill_switch_by or "-"
        return Refused(
            Code.KILL_SWITCH_LOCKED,
            f"the kill switch is on (set by {who}); only an admin can lift it, with /resume"
            " and a confirmation",
            by=who,
        )

    async def _save_pause(self) -> None:
        await self.store.set_state(
            PAUSE_KEY,
            {
                "all": self.engine.paused_all,
                "markets": sorted(self.engine.paused_markets),
                "kill_switch": self.engine.kill_switch,
                "kill_switch_by": self._kill_switch_by,
                "suspended": sorted(self.engine.orders.guard.suspended),
            },
        )

    def check_market(self, market: str, *, entry: bool = False) -> None:
        """``market`` is traded (an ``entry``: in the universe; a held market outside it may
        still be sold, paused, resumed)."""
        markets = self.engine.universe if entry else self.engine.traded
        if market not in markets:
            raise market_unknown(market, markets)

    # -- parameters ----------------------------------------------------------------------------

    @property
    def tunables(self) -> Tunables:
        return Tunables(self.engine.strategy, self.engine.limits)

    def settings(self) -> list[SettingView]:
        """Every setting chat may read, with its value and its spec (type, bounds, live)."""
        return self.tunables.views()

    def params(self) -> dict[str, str]:
        return self.tunables.values()

    def get(self, key: str) -> str:
        return self.tunables.get(key)

    def preview_set(self, key: str, value: str) -> ParamChange:
        """What ``set`` would change, changing nothing; refuses exactly like ``set``."""
        return ParamChange(key, self.get(key), self.tunables.changed(key, value).get(key))

    async def set(self, key: str, value: str, *, by: str, transport: str) -> ParamChange:
        """Validate, apply, persist, record, announce; ``SettingRefused`` on bad input."""
        old = self.get(key)
        self._install(self.tunables.changed(key, value))
        await self.engine.arm_stops()  # stops switched on: every open long gets one
        # a longer warm-up: backfilled over REST, or said in the reply (never a silent stop)
        warm = await lengthen(self.engine)
        new = self.get(key)
        overrides = await self.store.get_state(PARAMS_KEY, {})
        await self.store.set_state(PARAMS_KEY, {**overrides, key: new})
        record = await self.store.record_param_change(
            who=by, transport=transport, key=key, old_value=old, new_value=new
        )
        self._sink(ParameterChanged(key=key, old=old, new=new, by=by))
        return ParamChange(
            key, old, new, record.id, warming=warm.warming, loaded=sum(warm.loaded.values())
        )

    async def last_change(self) -> ParamChangeRecord:
        """The change ``/undo`` would revert now."""
        history = await self.store.param_changes(1)
        if not history:
            raise Refused(Code.UNDO_NOTHING, "no parameter change to undo")
        return history[0]

    async def undo(self, change_id: int | None = None, *, by: str, transport: str) -> ParamChange:
        """Revert change ``change_id``, which must still be the newest (an undo is itself a
        change, so undo twice = redo); None reverts whatever is newest."""
        last = await self.last_change()
        if change_id is not None and last.id != change_id:
            raise Refused(
                Code.UNDO_MOVED,
                f"change #{change_id} is no longer the newest (#{last.id}, {last.key}, is):"
                " nothing was undone",
                id=change_id,
                newest=last.id,
                key=last.key,
            )
        return await self.set(last.key, str(last.old_value), by=by, transport=transport)

    def _install(self, tunables: Tunables) -> None:
        engine, limits = self.engine, tunables.limits
        engine.strategy = tunables.strategy
        changed = limits is not engine.limits
        engine.limits = limits
        reserve(engine)  # the history can hold the (maybe longer) warm-up from now on
        if not changed:
            return
        engine.gate.update_limits(limits)
        engine.positions.rules = dataclasses.replace(
            engine.positions.rules,
            cooldown_candles=limits.cooldown_candles,
            stop_cooldown_candles=limits.stop_cooldown_candles,
        )

    # -- trading by hand -----------------------------------------------------------------------

    def buy_cap(self, manual_limit: bool = False) -> Decimal:
        """The most one ``/buy`` may spend: the position size, like a signal; with
        ``manual_limit`` (an admin) ``risk.manual_buy_max_krw`` when that is set higher."""
        limits = self.engine.limits
        if manual_limit and limits.manual_buy_max_krw > limits.position_size_krw:
            return limits.manual_buy_max_krw
        return limits.position_size_krw

    def check_buy(self, market: str, krw: Decimal, manual_limit: bool = False) -> None:
        """Refuse a ``/buy`` before anything is asked or sent: a market not traded, a size
        above its cap, a market Upbit warns about or delists (the gate would refuse it)."""
        self.check_market(market, entry=True)
        decision = checks.check_position_size(krw, self.engine.limits, self.buy_cap(manual_limit))
        if isinstance(decision, Denied):
            raise Refused(decision.code, decision.reason, **dict(decision.values))
        flagged = self.engine.gate.lifecycle.refusal(market)
        if flagged is not None:
            raise Refused(flagged.code, flagged.reason, **dict(flagged.values))

    def exit_plan(self, market: str) -> ExitPlan:
        """What a whole exit of ``market`` would send now (``blocked`` says why not)."""
        return self.engine.plan_exit(market)

    async def buy(
        self, market: str, krw: Decimal, *, by: str, manual_limit: bool = False
    ) -> Decision:
        """A manual buy through the same gate as a signal; the decision says why not."""
        self.check_market(market, entry=True)
        return await self.engine.enter_now(
            market, krw, f"manual buy by {by}", cap=self.buy_cap(manual_limit)
        )

    def sell_plan(self, market: str, percent: Decimal = Decimal(100)) -> ExitPlan:
        """What ``sell`` would send now: the engine's own plan, so the preview and the order
        agree. Refuses a sell that nothing can carry out (``Refused``)."""
        self.check_market(market)
        if not 0 < percent <= 100:
            raise Refused(
                Code.PERCENT_RANGE, f"percent must be in (0, 100], got {percent}", percent=percent
            )
        position = self.engine.positions.get(market)
        wanted = None if percent == 100 else position.volume * percent / 100
        plan = self.engine.plan_exit(market, wanted)
        if plan.blocked == "below_min":
            value, minimum = krw(plan.value or Decimal(0)), krw(plan.minimum)
            raise Refused(
                Code.SELL_BELOW_MIN,
                f"{market}: a {value} KRW sell is below the {minimum} KRW minimum order;"
                " sell a larger share",
                market=market,
                value=value,
                min=minimum,
            )
        return plan

    async def sell(self, market: str, percent: Decimal = Decimal(100), *, by: str) -> bool:
        """Sell ``percent`` of the position, as ``sell_plan`` says (a rest worth less than the
        minimum order goes too; the dust goes with a whole exit)."""
        plan = self.sell_plan(market, percent)
        wanted = None if plan.whole else plan.wanted
        return await self.engine.exit(market, ExitReason.MANUAL, f"manual sell by {by}", wanted)

    async def close(self, market: str | None = None, *, by: str) -> tuple[str, ...]:
        """Sell every long position (or one); returns the markets an exit was sent for. A
        market holding only dust sends nothing (``dust`` says why); a long worth less than
        the minimum order becomes dust."""
        markets = [market] if market else list(self.engine.traded)
        sent = []
        for m in markets:
            self.check_market(m)
            if self.engine.positions.get(m).state is PositionState.LONG and await self.engine.exit(
                m, ExitReason.MANUAL, f"closed by {by}"
            ):
                sent.append(m)
        return tuple(sent)

    async def cancel(self, intent_id: str | None = None) -> int:
        if intent_id is None:
            return await self.engine.orders.cancel_all()
        row = await self.engine.orders.cancel(intent_id)
        if row is None:
            raise Refused(Code.ORDER_UNKNOWN, f"no order {intent_id}", order=intent_id)
        return 1

    async def replace(self, intent_id: str, price: Decimal) -> OrderRecord | None:
        """Cancel-and-replace a resting limit order at ``price`` (a tick-valid price).

        Not for an order a position is waiting on: the position would lose track of it.
        """
        for position in self.engine.positions.all().values():
            if position.intent_id == intent_id:
                raise Refused(
                    Code.ORDER_OF_POSITION,
                    f"order {intent_id} belongs to the {position.market} position; "
                    "cancel it instead",
                    order=intent_id,
                    market=position.market,
                )
        return await self.engine.orders.replace(intent_id, price)

    async def flatten(self, *, by: str) -> FlattenReport:
        """The kill switch: no new entries, cancel every open order, sell every position."""
        self.engine.kill_switch = True
        self.engine.paused_all = True
        self._kill_switch_by = by
        await self._save_pause()
        self._sink(Paused(market=None, by=by))
        cancelled = await self.engine.orders.cancel_all()
        exits = await self.close(by=by)
        log.warning("flatten by %s: %d order(s) cancelled, exits %s", by, cancelled, exits)
        return FlattenReport(cancelled, exits)

    # -- research: /backtest and /optimize from chat -------------------------------------------

    async def backtest_job(
        self,
        *,
        strategy: str | None = None,
        market: str | None = None,
        days: int | None = None,
        params: Mapping[str, str] | None = None,
    ) -> BacktestJob:
        """A backtest over the candles this bot has, with its live limits and fill settings;
        ValueError names a bad strategy, market or parameter."""
        return await backtest_job(
            self.engine,
            self.store,
            strategy=strategy,
            market=market,
            days=days,
            params=params or {},
        )

    async def optimize_job(
        self,
        *,
        strategy: str | None = None,
        market: str | None = None,
        trials: int = 30,
        objective: str = "sharpe",
        space: Mapping[str, str] | None = None,
    ) -> OptimizeJob:
        return await optimize_job(
            self.engine,
            self.store,
            strategy=strategy,
            market=market,
            trials=trials,
            objective=objective,
            space=space,
        )

    def research_running(self) -> RunningJob | None:
        return self.research.running

    @property
    def research_time_limit_s(self) -> float:
        return self.research.time_limit_s

    def start_research(
        self, job: Job, *, by: str, label: str, finish: Callable[[Outcome], Event]
    ) -> RunningJob:
        """Start ``job`` in the background (``ResearchBusy`` if one runs); when it ends,
        ``finish(outcome)`` makes the event (``ResearchFinished``) that is published."""
        return self.research.start(
            job, by=by, label=label, done=lambda outcome: self._sink(finish(outcome))
        )

    # -- lifting a daily halt by hand ------------------------------------------------------------

    async def reset_preview(self, halt: str) -> resets.HaltReset:
        """What ``reset_halt`` would lift, with the numbers; lifts nothing."""
        state = await resets.preview(self.engine, halt)
        await self.engine.remember_risk()
        return state

    async def reset_halt(self, halt: str, *, by: str) -> resets.HaltReset:
        """An admin's reset: ``daily_loss`` waived for the rest of the day, ``drawdown``
        re-based to the current equity; persisted and announced (``HaltChanged``)."""
        before = await resets.apply(self.engine, halt, by=by)
        log.warning("%s reset by %s (%s)", halt, by, before.reason or "not tripped")
        return before

    # -- halt schedule -------------------------------------------------------------------------

    def schedule(self) -> list[HaltWindow]:
        return list(self.engine.gate.schedule.windows)

    async def add_halt(self, window: HaltWindow) -> None:
        schedule = self.engine.gate.schedule
        if schedule.get(window.name) is not None:
            raise Refused(
                Code.HALT_EXISTS,
                f"a halt window named {window.name!r} already exists",
                name=window.name,
            )
        if len(schedule.windows) >= schedule.MAX_WINDOWS:
            raise Refused(
                Code.HALT_FULL,
                f"at most {schedule.MAX_WINDOWS} halt windows are allowed",
                max=schedule.MAX_WINDOWS,
            )
        schedule.add(window)
        await self._save_halts()

    async def remove_halt(self, name: str) -> HaltWindow:
        schedule = self.engine.gate.schedule
        if schedule.get(name) is None:
            known = ", ".join(w.name for w in schedule.windows) or "-"
            raise Refused(
                Code.HALT_UNKNOWN, f"no halt window named {name!r}", name=name, known=known
            )
        window = schedule.remove(name)
        await self._save_halts()
        return window

    async def _save_halts(self) -> None:
        windows = [w.model_dump(mode="json") for w in self.engine.gate.schedule.windows]
        await self.store.set_state(HALTS_KEY, windows)
