"""Keeps the risk layer's memory in the store, so a restart or a failover forgets no limit.

The engine calls ``save`` after every step that may change the memory (an entry check, a
closed candle, ``/risk``, ``/reset``); it writes only when the value differs from the one last
written, so a quiet market costs one comparison, not a database write. ``restore`` runs in
``EngineFacade.restore``, which a restarted leader and a standby taking over both run before
the first print. A failed write is logged and retried on the next change: the limits in memory
still hold, only their durability waits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import date
from decimal import Decimal

from trading.engine.account import AccountView
from trading.risk.gate import RiskGate
from trading.risk.memory import RiskMemory, from_json, to_json
from trading.store import Store

log = logging.getLogger(__name__)
RISK_MEMORY_KEY = "engine.risk_memory"


class RiskMemoryKeeper:
    def __init__(self, store: Store, key: str = RISK_MEMORY_KEY) -> None:
        self.store = store
        self.key = key
        self._saved: RiskMemory | None = None  # what the store holds, as far as we know

    @staticmethod
    def capture(gate: RiskGate, account: AccountView) -> RiskMemory:
        return RiskMemory(
            day=account.day, day_open_equity=account.day_open_equity, gate=gate.memory()
        )

    async def save(self, gate: RiskGate, account: AccountView) -> bool:
        """Write the memory if it changed since the last write; True if written."""
        memory = self.capture(gate, account)
        if memory == self._saved:
            return False
        try:
            await self.store.set_state(self.key, to_json(memory))
        except Exception:
            log.exception("could not store the risk memory; retrying on the next change")
            return False
        self._saved = memory
        return True

    async def restore(
        self, gate: RiskGate, account: AccountView, markets: Collection[str]
    ) -> RiskMemory | None:
        """Load the stored memory into the gate and the account; None if nothing is stored.

        Volatility halts of markets no longer traded are dropped (no candle would ever lift
        them). Raises ``RiskMemoryError`` (and changes nothing) when the stored value is
        unreadable; the caller decides how to start without it. The next ``save`` then
        overwrites it.
        """
        raw = await self.store.get_state(self.key)
        if raw is None:
            return None
        memory = from_json(raw)
        kept = tuple(v for v in memory.gate.volatility if v.market in markets)
        if kept != memory.gate.volatility:
            memory = replace(memory, gate=replace(memory.gate, volatility=kept))
        gate.restore(memory.gate)
        account.restore(memory.day, memory.day_open_equity)
        self._saved = memory
        return memory


def describe(memory: RiskMemory) -> str:
    """One log line: what came back after the restart."""
    gate = memory.gate
    halts = [
        name
        for name, halt in (("daily_loss", gate.daily_loss), ("drawdown", gate.drawdown))
        if halt.tripped
    ]
    halts += [f"volatility:{v.market}" for v in gate.volatility]
    halts += [
        f"{lock.protection}:{lock.market or 'all'} until {lock.until.isoformat()}"
        for lock in gate.protections.locks
    ]
    waived = [
        n for n, h in (("daily_loss", gate.daily_loss), ("drawdown", gate.drawdown)) if h.waived
    ]
    return (
        f"day {_day(memory.day)} opened at {_krw(memory.day_open_equity)} KRW,"
        f" peak {_krw(gate.peak)} KRW, halts: {', '.join(halts) or 'none'}"
        + (f", waived: {', '.join(waived)}" if waived else "")
    )


def _day(day: date | None) -> str:
    return "-" if day is None else day.isoformat()


def _krw(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,f}"
