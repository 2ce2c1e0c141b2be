"""``StandbyApi``: the ``CommandApi`` of an instance that does not lead, read from the store.

A standby runs no engine: it answers what the leader wrote to the shared store (positions,
open orders, fills, the pause state, the last equity snapshot, the audit log, parameter
changes) and names the leader. Every other call is refused with ``Code.STANDBY``; the
dispatcher refuses such commands before they run (``Command.standby``), so these refusals
are the backstop, not the usual path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NoReturn

from trading.command_api import (
    BalanceView,
    DustHolding,
    EngineStatus,
    FlattenReport,
    HaltStatus,
    HealthView,
    InstanceView,
    ParamChange,
    Quote,
    StoreReads,
)
from trading.engine.exits import ExitPlan
from trading.engine.facade import PAUSE_KEY
from trading.engine.pnl import Period, PnlRow, Realized
from trading.engine.research import BacktestJob, Job, OptimizeJob, Outcome, RunningJob
from trading.engine.resets import HaltReset
from trading.events import Event
from trading.positions import Position, from_record
from trading.refusal import Code, Refused
from trading.risk.decision import Decision
from trading.risk.gate import RiskState
from trading.risk.halts import HaltWindow
from trading.store import ParamChangeRecord, Store

HolderQuery = Callable[[], Awaitable[str | None]]
ZERO = Decimal(0)


@dataclass(eq=False, slots=True)
class StandbyApi(StoreReads):
    """Read-only, from ``store``; ``holder`` names the lock's holder (the leader)."""

    store: Store
    _: KW_ONLY
    holder: HolderQuery
    lock: str
    mode: str
    strategy: str = "-"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def markets(self) -> tuple[str, ...]:
        return ()

    async def instance(self) -> InstanceView:
        return InstanceView(standby=True, leader=await self.holder(), lock=self.lock)

    # -- what the store holds ------------------------------------------------------------------

    async def _pause(self) -> Mapping[str, object]:
        state = await self.store.get_state(PAUSE_KEY, {})
        return state if isinstance(state, Mapping) else {}

    async def status(self) -> EngineStatus:
        """The leader's positions, pause state and last equity snapshot (its time is
        ``market_time``; none yet: zero, now)."""
        positions = tuple(from_record(r) for r in await self.store.positions())
        pause = await self._pause()
        paused = pause.get("markets", [])
        history = await self.store.equity_history(limit=1)
        last = history[-1] if history else None
        return EngineStatus(
            mode=self.mode,
            markets=tuple(p.market for p in positions),
            strategy=self.strategy,
            paused_all=bool(pause.get("all", False)),
            paused_markets=tuple(sorted(str(m) for m in paused))
            if isinstance(paused, list)
            else (),
            kill_switch=bool(pause.get("kill_switch", False)),
            market_time=self.clock() if last is None else last.taken_at,
            equity_krw=ZERO if last is None else last.equity_krw,
            free_krw=ZERO if last is None else last.cash_krw,
            positions=positions,
            prices={},
            active_halts=(),
            instance=await self.instance(),
        )

    async def health(self) -> HealthView:
        pause = await self._pause()
        return HealthView(
            market_time=self.clock(),
            strategy=self.strategy,
            feeds=(),
            circuit=None,
            kill_switch=bool(pause.get("kill_switch", False)),
            instance=await self.instance(),
        )

    def prices(self) -> dict[str, Decimal]:
        return {}

    def dust(self, market: str | None = None) -> list[DustHolding]:
        return []

    # -- only the leader knows or does (a refusal ignores what was asked) ----------------------

    def _refuse(self, what: str) -> NoReturn:
        raise Refused(
            Code.STANDBY,
            f"this instance is a standby: {what} runs only on the leader",
            leader="-",
            command=what,
        )

    async def risk_state(self) -> RiskState:
        self._refuse("risk")

    async def balances(self) -> list[BalanceView]:
        self._refuse("balance")

    async def realized(self) -> list[Realized]:
        self._refuse("performance")

    async def pnl(self, period: Period = "day", count: int = 7) -> list[PnlRow]:
        self._refuse("pnl")

    def position(self, market: str) -> Position:
        self._refuse("position")

    def quote(self, market: str, *, buying: bool, amount: Decimal) -> Quote:
        self._refuse("quote")

    def check_market(self, market: str, *, entry: bool = False) -> None:
        self._refuse("market")

    async def pause(self, market: str | None = None, *, by: str) -> None:
        self._refuse("pause")

    async def resume(
        self, market: str | None = None, *, by: str, lift_kill_switch: bool = False
    ) -> None:
        self._refuse("resume")

    def kill_switch_by(self) -> str | None:
        self._refuse("resume")

    def params(self) -> dict[str, str]:
        self._refuse("params")

    def get(self, key: str) -> str:
        self._refuse("get")

    def preview_set(self, key: str, value: str) -> ParamChange:
        self._refuse("set")

    async def set(self, key: str, value: str, *, by: str, transport: str) -> ParamChange:
        self._refuse("set")

    async def last_change(self) -> ParamChangeRecord:
        self._refuse("undo")

    async def undo(self, change_id: int | None = None, *, by: str, transport: str) -> ParamChange:
        self._refuse("undo")

    def buy_cap(self, manual_limit: bool = False) -> Decimal:
        self._refuse("buy")

    def check_buy(self, market: str, krw: Decimal, manual_limit: bool = False) -> None:
        self._refuse("buy")

    async def buy(
        self, market: str, krw: Decimal, *, by: str, manual_limit: bool = False
    ) -> Decision:
        self._refuse("buy")

    def exit_plan(self, market: str) -> ExitPlan:
        self._refuse("sell")

    def sell_plan(self, market: str, percent: Decimal = Decimal(100)) -> ExitPlan:
        self._refuse("sell")

    async def sell(self, market: str, percent: Decimal = Decimal(100), *, by: str) -> bool:
        self._refuse("sell")

    async def close(self, market: str | None = None, *, by: str) -> tuple[str, ...]:
        self._refuse("close")

    async def cancel(self, intent_id: str | None = None) -> int:
        self._refuse("cancel")

    async def flatten(self, *, by: str) -> FlattenReport:
        self._refuse("flatten")

    def research_running(self) -> RunningJob | None:
        return None

    @property
    def research_time_limit_s(self) -> float:
        return 0.0

    async def backtest_job(self, **_request: object) -> BacktestJob:
        self._refuse("backtest")

    async def optimize_job(self, **_request: object) -> OptimizeJob:
        self._refuse("optimize")

    def start_research(
        self, job: Job, *, by: str, label: str, finish: Callable[[Outcome], Event]
    ) -> RunningJob:
        self._refuse("research")

    async def reset_preview(self, halt: str) -> HaltReset:
        self._refuse("reset")

    async def reset_halt(self, halt: str, *, by: str) -> HaltReset:
        self._refuse("reset")

    def halts(self) -> list[HaltStatus]:
        self._refuse("schedule")

    async def add_halt(self, window: HaltWindow) -> None:
        self._refuse("schedule")

    async def remove_halt(self, name: str) -> HaltWindow:
        self._refuse("schedule")
