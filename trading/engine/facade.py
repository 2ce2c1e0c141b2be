"""The engine's one public API: what the chat layer (issue #4) and the console call.

Every change made here is persisted (pause state, parameter overrides, halt windows) so a
restart comes back as it was, and is announced as an event. Parameter changes are validated
by the strategy's parameter model or the risk limits, recorded with who/old/new, and undoable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from trading.engine.core import Engine
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
from trading.events import Event, EventSink, ParameterChanged, Paused, Resumed
from trading.positions import ExitReason, Position, PositionState
from trading.risk.gate import RiskState
from trading.risk.halts import HaltWindow
from trading.store import FillRecord, OrderRecord, ParamChangeRecord, Store
from trading.strategies import with_params
from trading.upbit.models import Account

log = logging.getLogger(__name__)
PAUSE_KEY, PARAMS_KEY, HALTS_KEY = "engine.pause", "engine.params", "engine.halts"
# risk keys that may change live; the rest (timezone, windows) have their own commands
RISK_KEYS = (
    "position_size_krw",
    "max_open_positions",
    "max_slippage_bps",
    "slippage_mode",
    "daily_loss_limit_krw",
    "max_drawdown_pct",
    "atr_period",
    "atr_stop_mult",
    "stop_fallback_pct",
    "stop_min_distance_pct",
    "take_profit_pct",
    "volatility_halt_pct",
)


@dataclass(frozen=True, slots=True)
class EngineStatus:
    mode: str
    markets: tuple[str, ...]
    strategy: str
    paused_all: bool
    paused_markets: tuple[str, ...]
    kill_switch: bool
    market_time: datetime
    equity_krw: Decimal
    free_krw: Decimal
    positions: tuple[Position, ...]
    prices: dict[str, Decimal]
    active_halts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HaltStatus:
    window: HaltWindow
    active: bool
    ends_at: datetime | None  # the end of the span in force
    next_start: datetime | None  # None: a one-off window that has begun or is over


@dataclass(frozen=True, slots=True)
class ParamChange:
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class FlattenReport:
    cancelled_orders: int
    exits: tuple[str, ...]


class EngineFacade:
    def __init__(self, engine: Engine, store: Store, *, sink: EventSink, mode: str) -> None:
        self.engine = engine
        self.store = store
        self._sink = sink
        self.mode = mode
        self._book = AverageCost(engine.limits.zone)
        self.research = ResearchDesk()

    async def restore(self) -> None:
        """Bring back what the last run changed live: pauses, parameters, halt windows."""
        pause = await self.store.get_state(PAUSE_KEY, {})
        self.engine.paused_all = bool(pause.get("all", False))
        self.engine.paused_markets = set(pause.get("markets", []))
        self.engine.kill_switch = bool(pause.get("kill_switch", False))
        for key, value in (await self.store.get_state(PARAMS_KEY, {})).items():
            self._apply(key, str(value))
        for raw in await self.store.get_state(HALTS_KEY, []):
            window = HaltWindow.model_validate(raw)
            if self.engine.gate.schedule.get(window.name) is None:
                self.engine.gate.schedule.add(window)
        for note in await catch_up(self.engine):
            log.warning("restart: %s", note)
        await resume_stops(self.engine)

    # -- reading -------------------------------------------------------------------------------

    @property
    def markets(self) -> tuple[str, ...]:
        return self.engine.config.markets

    def prices(self) -> dict[str, Decimal]:
        md = self.engine.market_data
        return {m: p for m in self.engine.config.markets if (p := md.price(m)) is not None}

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
            positions=tuple(engine.positions.get(m) for m in engine.config.markets),
            prices=self.prices(),
            active_halts=tuple(w.name for w in engine.gate.schedule.active(now)),
        )

    async def risk_state(self) -> RiskState:
        """Each risk limit and how much of it is used, as ``/risk`` shows it."""
        engine = self.engine
        return engine.gate.state(engine.market_time(), await engine.risk_context())

    def data_ages(self) -> dict[str, timedelta | None]:
        """Per market, how long since its last trade (None: none since start): staleness."""
        md = self.engine.market_data
        return {m: md.age(m) for m in self.engine.config.markets}

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

    async def balances(self) -> list[Account]:
        return await self.engine.exchange.accounts()

    async def orders(self) -> list[OrderRecord]:
        return await self.store.open_orders()

    async def trades(self, count: int = 10) -> list[FillRecord]:
        return await self.store.fills(limit=count)

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
            self._known(market)
            self.engine.paused_markets.add(market)
        await self._save_pause()
        self._sink(Paused(market=market, by=by))

    async def resume(self, market: str | None = None, *, by: str) -> None:
        if market is None:
            self.engine.paused_all = False
            self.engine.kill_switch = False
            self.engine.paused_markets.clear()
        else:
            self._known(market)
            self.engine.paused_markets.discard(market)
        await self._save_pause()
        self._sink(Resumed(market=market, by=by))

    async def _save_pause(self) -> None:
        await self.store.set_state(
            PAUSE_KEY,
            {
                "all": self.engine.paused_all,
                "markets": sorted(self.engine.paused_markets),
                "kill_switch": self.engine.kill_switch,
            },
        )

    def _known(self, market: str) -> None:
        if market not in self.engine.config.markets:
            known = ", ".join(self.engine.config.markets)
            raise ValueError(f"{market} is not traded by this bot (markets: {known})")

    # -- parameters ----------------------------------------------------------------------------

    def params(self) -> dict[str, str]:
        out = {
            f"strategy.{k}": str(v) for k, v in self.engine.strategy.params.model_dump().items()
        }
        out.update({f"risk.{k}": str(getattr(self.engine.limits, k)) for k in RISK_KEYS})
        return out

    def get(self, key: str) -> str:
        params = self.params()
        if key not in params:
            raise KeyError(f"unknown parameter {key!r} (known: {', '.join(sorted(params))})")
        return params[key]

    async def set(self, key: str, value: str, *, by: str, transport: str) -> ParamChange:
        """Validate, apply, persist, record, announce; raises ValueError/KeyError on bad input."""
        old = self.get(key)
        self._apply(key, value)
        await self.engine.arm_stops()  # stops switched on: every open long gets one
        new = self.get(key)
        overrides = await self.store.get_state(PARAMS_KEY, {})
        await self.store.set_state(PARAMS_KEY, {**overrides, key: new})
        await self.store.record_param_change(
            who=by, transport=transport, key=key, old_value=old, new_value=new
        )
        self._sink(ParameterChanged(key=key, old=old, new=new, by=by))
        return ParamChange(key, old, new)

    async def undo(self, *, by: str, transport: str) -> ParamChange:
        """Revert the newest change (an undo is itself a change, so undo twice = redo)."""
        history = await self.store.param_changes(1)
        if not history:
            raise LookupError("no parameter change to undo")
        last = history[0]
        return await self.set(last.key, str(last.old_value), by=by, transport=transport)

    async def history(self, count: int = 20) -> list[ParamChangeRecord]:
        return await self.store.param_changes(count)

    def _apply(self, key: str, value: str) -> None:
        section, _, name = key.partition(".")
        self.get(key)  # unknown keys fail here with the list of known ones
        if section == "strategy":
            self.engine.strategy = with_params(self.engine.strategy, **{name: value})
            return
        current = getattr(self.engine.limits, name)
        limits = self.engine.limits.replace(**{name: _parse_like(current, key, value)})
        self.engine.limits = limits
        self.engine.gate.update_limits(limits)

    # -- trading by hand -----------------------------------------------------------------------

    async def buy(self, market: str, krw: Decimal, *, by: str) -> bool:
        self._known(market)
        return await self.engine.enter_now(market, krw, f"manual buy by {by}")

    async def sell(self, market: str, percent: Decimal = Decimal(100), *, by: str) -> bool:
        self._known(market)
        if not 0 < percent <= 100:
            raise ValueError(f"percent must be in (0, 100], got {percent}")
        position = self.engine.positions.get(market)
        volume = position.volume * percent / 100
        return await self.engine.exit(market, ExitReason.MANUAL, f"manual sell by {by}", volume)

    async def close(self, market: str | None = None, *, by: str) -> tuple[str, ...]:
        """Sell every long position (or one); returns the markets an exit was sent for."""
        markets = [market] if market else list(self.engine.config.markets)
        sent = []
        for m in markets:
            self._known(m)
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
            raise LookupError(f"no order {intent_id}")
        return 1

    async def replace(self, intent_id: str, price: Decimal) -> OrderRecord | None:
        """Cancel-and-replace a resting limit order at ``price`` (a tick-valid price).

        Not for an order a position is waiting on: the position would lose track of it.
        """
        for position in self.engine.positions.all().values():
            if position.intent_id == intent_id:
                raise ValueError(
                    f"order {intent_id} belongs to the {position.market} position; "
                    "cancel it instead"
                )
        return await self.engine.orders.replace(intent_id, price)

    async def flatten(self, *, by: str) -> FlattenReport:
        """The kill switch: no new entries, cancel every open order, sell every position."""
        self.engine.kill_switch = True
        self.engine.paused_all = True
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
    ) -> OptimizeJob:
        return await optimize_job(
            self.engine,
            self.store,
            strategy=strategy,
            market=market,
            trials=trials,
            objective=objective,
        )

    def start_research(
        self, job: Job, *, by: str, label: str, finish: Callable[[Outcome], Event]
    ) -> RunningJob:
        """Start ``job`` in the background (``ResearchBusy`` if one runs); when it ends,
        ``finish(outcome)`` makes the event (``ResearchFinished``) that is published."""
        return self.research.start(
            job, by=by, label=label, done=lambda outcome: self._sink(finish(outcome))
        )

    # -- halt schedule -------------------------------------------------------------------------

    def schedule(self) -> list[HaltWindow]:
        return list(self.engine.gate.schedule.windows)

    async def add_halt(self, window: HaltWindow) -> None:
        self.engine.gate.schedule.add(window)
        await self._save_halts()

    async def remove_halt(self, name: str) -> HaltWindow:
        window = self.engine.gate.schedule.remove(name)
        await self._save_halts()
        return window

    async def _save_halts(self) -> None:
        windows = [w.model_dump(mode="json") for w in self.engine.gate.schedule.windows]
        await self.store.set_state(HALTS_KEY, windows)


def _parse_like(current: object, key: str, value: str) -> Any:
    """Turn chat text into the type the limit already has, with a message naming the key."""
    try:
        if isinstance(current, int):
            return int(value)
        if isinstance(current, Decimal):
            return Decimal(value)
    except (ValueError, InvalidOperation):
        kind = type(current).__name__
        raise ValueError(f"{key} = {value!r}: must be a {kind} number") from None
    return value
