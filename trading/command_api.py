"""The one API the command layer may use: what every chat command (and the HTTP API) reads and
asks of a trading instance.

``CommandApi`` returns snapshots (frozen values) and carries out the control verbs; the engine
and the store stay behind it. ``EngineFacade`` is the leader's implementation,
``StandbyApi`` (``trading.standby_api``) the read-only one a standby answers from the shared
store. A request the instance will not carry out raises ``Refused`` with a code the language
catalogs render (``refusal.<code>``). The value types the API hands out are re-exported here,
so ``handlers/`` imports nothing else from ``trading`` (a lint-imports contract holds it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from trading.engine.exits import ExitPlan
from trading.engine.pnl import Period, PnlRow, Realized
from trading.engine.research import (
    MAX_DAYS,
    MAX_TRIALS,
    BacktestJob,
    BacktestOutcome,
    GapCount,
    Job,
    JobFailed,
    OptimizeJob,
    OptimizeOutcome,
    Outcome,
    ResearchBusy,
    RunningJob,
    Sources,
)
from trading.engine.resets import RESETTABLE, HaltReset
from trading.engine.universe import UniverseView
from trading.engine.warmup import Warming
from trading.errors import TradingError, UpbitError
from trading.events import Event, Level
from trading.optimize import OBJECTIVES
from trading.positions import Position, PositionState
from trading.refusal import Code, Refused
from trading.risk.decision import Decision, Denied
from trading.risk.gate import RiskState
from trading.risk.halts import WEEKDAYS, HaltWindow
from trading.store import AuditRecord, FillRecord, OrderRecord, ParamChangeRecord, Store
from trading.strategies.registry import REGISTRY

#: the strategies a research job may name
STRATEGIES: tuple[str, ...] = tuple(sorted(REGISTRY))

__all__ = [
    "MAX_DAYS",
    "MAX_TRIALS",
    "OBJECTIVES",
    "RESETTABLE",
    "STRATEGIES",
    "WEEKDAYS",
    "AuditRecord",
    "AuditTrail",
    "BacktestJob",
    "BacktestOutcome",
    "BalanceView",
    "Code",
    "CommandApi",
    "Decision",
    "Denied",
    "DustHolding",
    "EngineStatus",
    "Event",
    "ExitPlan",
    "FeedView",
    "FillRecord",
    "FlattenReport",
    "GapCount",
    "HaltReset",
    "HaltStatus",
    "HaltWindow",
    "HealthView",
    "InstanceView",
    "Job",
    "JobFailed",
    "Level",
    "OptimizeJob",
    "OptimizeOutcome",
    "OrderRecord",
    "Outcome",
    "ParamChange",
    "ParamChangeRecord",
    "Period",
    "PnlRow",
    "Position",
    "PositionState",
    "Quote",
    "Realized",
    "Refused",
    "ResearchBusy",
    "RiskState",
    "RunningJob",
    "Sources",
    "StoreReads",
    "TradingError",
    "UniverseView",
    "UpbitError",
    "Warming",
]


@dataclass(frozen=True, slots=True)
class InstanceView:
    """Who this instance is: the leader trades; a standby reads the store and names the leader
    (``leader`` None: nobody holds the lock; a standby takes over within seconds)."""

    standby: bool
    leader: str | None = None
    lock: str = ""


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
    universe: UniverseView | None = None  # bot.markets = "top:N"; None: a fixed list
    #: a standby's view (from the store: equity is the leader's last snapshot, at ``market_time``)
    instance: InstanceView | None = None
    #: markets whose history is shorter than the strategy's warm-up: no signal on them yet
    warming: tuple[Warming, ...] = ()


@dataclass(frozen=True, slots=True)
class DustHolding:
    """Coin of ``market`` held apart from any position because it is worth less than the
    minimum order; it goes with the next exit on the market."""

    market: str
    volume: Decimal
    value_krw: Decimal | None  # at the last price (None: no price yet)
    minimum_krw: Decimal

    @property
    def sellable(self) -> bool:
        """Worth the minimum now (the price rose): still sold with the next exit."""
        return self.value_krw is not None and self.value_krw >= self.minimum_krw


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
    id: int | None = None  # the stored change (None: a preview)
    #: markets still warming up after the change (the strategy is silent on them until then)
    warming: tuple[Warming, ...] = ()
    loaded: int = 0  # candles backfilled over REST for a longer warm-up


@dataclass(frozen=True, slots=True)
class FlattenReport:
    cancelled_orders: int
    exits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BalanceView:
    """One currency of the account (``total`` = free + locked)."""

    currency: str
    total: Decimal
    locked: Decimal
    avg_buy_price: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """What an order of ``amount`` would meet now: the last price, and the expected average
    fill walking the book (None: no book, or too thin)."""

    last: Decimal | None
    has_book: bool
    expected_fill: Decimal | None


@dataclass(frozen=True, slots=True)
class FeedView:
    market: str
    age: timedelta | None  # since its last trade (None: none since start)
    has_book: bool


@dataclass(frozen=True, slots=True)
class HealthView:
    market_time: datetime
    strategy: str
    feeds: tuple[FeedView, ...]
    circuit: tuple[str, int] | None  # (state, failures); None: no circuit breaker
    kill_switch: bool
    instance: InstanceView


class CommandApi(Protocol):
    """Everything a command may read or ask. Reads return snapshots; a refusal is ``Refused``
    (nothing changed). On a standby (``instance().standby``) only reads served from the store
    answer; every other call is refused with ``Code.STANDBY``."""

    @property
    def markets(self) -> tuple[str, ...]:
        """The markets traded: the universe, and any held outside it."""
        ...

    async def instance(self) -> InstanceView: ...

    # -- reading
    async def status(self) -> EngineStatus: ...
    async def health(self) -> HealthView: ...
    async def risk_state(self) -> RiskState: ...
    def prices(self) -> dict[str, Decimal]: ...
    def dust(self, market: str | None = None) -> list[DustHolding]: ...
    async def balances(self) -> list[BalanceView]: ...
    async def orders(self) -> list[OrderRecord]: ...
    async def order(self, intent_id: str) -> OrderRecord | None: ...
    async def trades(self, count: int = 10) -> list[FillRecord]: ...
    async def realized(self) -> list[Realized]: ...
    async def pnl(self, period: Period = "day", count: int = 7) -> list[PnlRow]: ...
    async def audit_log(self, count: int = 20) -> list[AuditRecord]: ...
    def position(self, market: str) -> Position: ...
    def quote(self, market: str, *, buying: bool, amount: Decimal) -> Quote: ...
    def check_market(self, market: str, *, entry: bool = False) -> None: ...

    # -- pause, resume
    async def pause(self, market: str | None = None, *, by: str) -> None: ...
    async def resume(
        self, market: str | None = None, *, by: str, lift_kill_switch: bool = False
    ) -> None: ...
    def kill_switch_by(self) -> str | None: ...

    # -- parameters
    def params(self) -> dict[str, str]: ...
    def get(self, key: str) -> str: ...
    def preview_set(self, key: str, value: str) -> ParamChange: ...
    async def set(self, key: str, value: str, *, by: str, transport: str) -> ParamChange: ...
    async def last_change(self) -> ParamChangeRecord: ...
    async def undo(
        self, change_id: int | None = None, *, by: str, transport: str
    ) -> ParamChange: ...
    async def history(self, count: int = 20) -> list[ParamChangeRecord]: ...

    # -- trading by hand
    def buy_cap(self, manual_limit: bool = False) -> Decimal: ...
    def check_buy(self, market: str, krw: Decimal, manual_limit: bool = False) -> None: ...
    async def buy(
        self, market: str, krw: Decimal, *, by: str, manual_limit: bool = False
    ) -> Decision: ...
    def exit_plan(self, market: str) -> ExitPlan: ...
    def sell_plan(self, market: str, percent: Decimal = Decimal(100)) -> ExitPlan: ...
    async def sell(self, market: str, percent: Decimal = Decimal(100), *, by: str) -> bool: ...
    async def close(self, market: str | None = None, *, by: str) -> tuple[str, ...]: ...
    async def cancel(self, intent_id: str | None = None) -> int: ...
    async def flatten(self, *, by: str) -> FlattenReport: ...

    # -- research
    def research_running(self) -> RunningJob | None: ...
    @property
    def research_time_limit_s(self) -> float: ...
    async def backtest_job(
        self,
        *,
        strategy: str | None = None,
        market: str | None = None,
        days: int | None = None,
        params: Mapping[str, str] | None = None,
    ) -> BacktestJob: ...
    async def optimize_job(
        self,
        *,
        strategy: str | None = None,
        market: str | None = None,
        trials: int = 30,
        objective: str = "sharpe",
        space: Mapping[str, str] | None = None,
    ) -> OptimizeJob: ...
    def start_research(
        self, job: Job, *, by: str, label: str, finish: Callable[[Outcome], Event]
    ) -> RunningJob: ...

    # -- halts
    async def reset_preview(self, halt: str) -> HaltReset: ...
    async def reset_halt(self, halt: str, *, by: str) -> HaltReset: ...
    def halts(self) -> list[HaltStatus]: ...
    async def add_halt(self, window: HaltWindow) -> None: ...
    async def remove_halt(self, name: str) -> HaltWindow: ...


class StoreReads:
    """The reads the leader and a standby answer alike, from the shared store (the standby
    has nothing else to answer them from; the leader writes every order, fill, command and
    change there first)."""

    __slots__ = ()
    store: Store

    async def orders(self) -> list[OrderRecord]:
        return await self.store.open_orders()

    async def order(self, intent_id: str) -> OrderRecord | None:
        return await self.store.order(intent_id)

    async def trades(self, count: int = 10) -> list[FillRecord]:
        return await self.store.fills(limit=count)

    async def audit_log(self, count: int = 20) -> list[AuditRecord]:
        return await self.store.audit_log(count)

    async def history(self, count: int = 20) -> list[ParamChangeRecord]:
        return await self.store.param_changes(count)


class AuditTrail(Protocol):
    """Where the dispatcher records every invocation, allowed or denied (the store)."""

    async def audit(
        self,
        *,
        transport: str,
        command: str,
        outcome: str,
        user_id: str | None = None,
        chat_id: str | None = None,
        arguments: Mapping[str, Any] | None = None,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> object: ...
