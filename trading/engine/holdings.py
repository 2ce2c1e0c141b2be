"""The book against the account: what Upbit says the bot holds wins when it is less.

The account is touched by more than the bot: its owner sells in the Upbit app, withdraws
coins, places an order that locks them. ``Holdings.check`` reads the balances and, per market
whose position has no order in flight:

- the account holds **less** than the book (position plus dust): the book adopts it (the
  ``Adjust`` trigger, dust first; a long sold out by hand is flat) and ``BookAdjusted`` tells
  the chat. Exits then sell what is there instead of being refused forever;
- it holds **more**: the surplus is not the bot's (a deposit, a buy by hand): it is reported
  (log, ``surplus``), never traded, never adopted;
- the **free** part (not locked by the owner's own orders) caps what the next exit sells.

It runs every ``upbit.balance_check_s``, at start-up, at once after Upbit refuses an order
for insufficient funds, and on the balances every entry check reads anyway (what the bot has
read, it acts on). A position that changes while the balances are being read is left for
the next check: the balances may predate the change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from trading.domain.balance import Balance
from trading.positions import Position, PositionState

if TYPE_CHECKING:
    from trading.engine.core import Engine

log = logging.getLogger(__name__)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class HoldingsReport:
    reason: str
    adjusted: tuple[str, ...]  # markets whose book adopted the account's smaller holding
    surplus: tuple[tuple[str, Decimal], ...]  # markets where the account holds more


def _key(p: Position) -> tuple[PositionState, Decimal, Decimal]:
    return p.state, p.volume, p.dust


class Holdings:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.surplus: dict[str, Decimal] = {}
        self._free: dict[str, tuple[tuple[PositionState, Decimal, Decimal], Decimal]] = {}
        self.checks = 0
        self.adjustments = 0

    async def check(self, reason: str = "scheduled") -> HoldingsReport:
        """Read the balances and hold the book against them."""
        before = self.before()
        return await self.compare(before, await self._engine.exchange.accounts(), reason)

    async def compare(
        self, before: dict[str, Position], accounts: Sequence[Balance], reason: str
    ) -> HoldingsReport:
        """Hold the book against ``accounts``, read after the positions ``before`` were
        taken (every read of the balances does: an entry check's too)."""
        engine = self._engine
        balances = {a.currency: a for a in accounts}
        adjusted: list[str] = []
        for market in sorted(before):
            position = before[market]
            if position.in_flight:
                continue
            account = balances.get(market.partition("-")[2])
            free = account.free if account else ZERO
            total = free + (account.locked if account else ZERO)
            if total < position.holding:
                after = await engine.positions.adjust(market, total, reason, expect=position)
                if after is None:
                    continue  # it moved while the balances were read: next time
                if after.state is not PositionState.LONG:
                    engine.stops.pop(market, None)
                log.warning(
                    "%s: the account holds %s, the book %s (%s): adopted",
                    market,
                    total,
                    position.holding,
                    reason,
                )
                adjusted.append(market)
                position = after
            elif engine.positions.get(market) != position:
                continue
            self._free[market] = (_key(position), free)
            self._note_surplus(market, total - position.holding)
        self.checks += 1
        self.adjustments += len(adjusted)
        return HoldingsReport(
            reason, tuple(adjusted), tuple((m, v) for m, v in self.surplus.items() if v)
        )

    def before(self) -> dict[str, Position]:
        """The positions to hold against balances about to be read."""
        return {m: self._engine.positions.get(m) for m in self._markets()}

    def _markets(self) -> list[str]:
        engine = self._engine
        return sorted(set(engine.traded) | set(engine.positions.all()))

    def free(self, position: Position) -> Decimal | None:
        """The coin free to sell as the last check of this very position found it (the
        owner's own orders lock the rest); None: not known since the position changed."""
        known = self._free.get(position.market)
        if known is None or known[0] != _key(position):
            return None
        return known[1]

    def _note_surplus(self, market: str, surplus: Decimal) -> None:
        surplus = max(surplus, ZERO)
        if surplus and surplus != self.surplus.get(market):
            log.warning(
                "%s: the account holds %s more than the book: not the bot's, left alone",
                market,
                surplus,
            )
        self.surplus[market] = surplus

    async def run(self, every_s: float, read_errors: tuple[type[BaseException], ...]) -> None:
        """Check every ``every_s`` until cancelled; a failed read waits for the next turn."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.check()
            except read_errors as exc:
                log.warning("balances not read (again in %.0f s): %s", every_s, exc)
