"""Start-up reconciliation: make the store and the exchange agree before the first new order.

1. Every order the store still calls open is looked up on the exchange: its missing fills are
   recorded and its state settled. One the exchange has never seen (the process died between
   journalling an attempt and sending it) is marked ``rejected``: it never existed.
2. Every open order on the exchange whose identifier carries our prefix but is missing from the
   store (written by a crashed process before its intent row committed) is adopted.
3. Balances are compared with stored positions; differences are reported, not "fixed".
The result is one ``Reconciled`` event, so chat can show what was recovered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from trading.domain.orders import OrderStatus
from trading.errors import NotFound
from trading.events import Reconciled
from trading.orders.manager import OrderManager
from trading.store import OrderRecord

log = logging.getLogger(__name__)


async def reconcile(manager: OrderManager) -> Reconciled:
    """The three steps of the module's docstring, in order; one report of what each found."""
    open_rows = await manager.store.open_orders()
    settled, never_placed = await _settle_open(manager, open_rows)
    adopted, foreign = await _adopt_orphans(manager)
    report = Reconciled(
        checked=len(open_rows),
        settled=tuple(settled),
        never_placed=tuple(never_placed),
        adopted=tuple(adopted),
        foreign=foreign,
        mismatches=tuple(await _balance_mismatches(manager)),
    )
    log.info("reconciled: %s", report)
    return report


async def _settle_open(
    manager: OrderManager, open_rows: Sequence[OrderRecord]
) -> tuple[list[str], list[str]]:
    """Step 1: each order the store calls open, looked up on the exchange. Returns the intents
    settled (now terminal) and those the exchange never saw (marked rejected)."""
    store = manager.store
    settled: list[str] = []
    never_placed: list[str] = []
    for row in open_rows:
        try:
            updated = await manager.refresh(row)
        except NotFound:
            for attempt in await store.attempts_for(row.intent_id):
                await store.mark_attempt(attempt.identifier, "confirmed_absent", "reconcile")
            if row.identifier:
                await store.update_order_from_exchange(
                    identifier=row.identifier,
                    status=OrderStatus.REJECTED,
                    executed_volume=Decimal(0),
                    executed_funds=Decimal(0),
                    paid_fee=Decimal(0),
                )
            never_placed.append(row.intent_id)
            continue
        if updated is not None and updated.status.is_terminal:
            settled.append(row.intent_id)
    return settled, never_placed


async def _adopt_orphans(manager: OrderManager) -> tuple[list[str], int]:
    """Step 2: open orders on the exchange with our prefix but no row in the store are
    recorded and refreshed. Returns their intents and how many open orders were not ours."""
    store = manager.store
    adopted: list[str] = []
    foreign = 0
    for order in await manager.exchange.list_open():
        if await store.order_by_uuid(order.order_id) is not None:
            continue
        identifier = order.identifier or ""
        parts = identifier.split("-")
        if not identifier.startswith(manager.prefix + "-") or len(parts) < 3:
            foreign += 1
            continue
        intent_id = parts[-2]
        if await store.order_by_identifier(identifier) is None:
            await manager.journal(intent_id, order, identifier, reason="adopted at start-up")
        adopted_row = await store.order_by_identifier(identifier)
        if adopted_row is not None:
            await manager.refresh(adopted_row)
        adopted.append(intent_id)
    return adopted, foreign


async def _balance_mismatches(manager: OrderManager) -> list[str]:
    """Step 3: each stored position the account holds less of than the store says."""
    held = {a.currency: a.total for a in await manager.exchange.accounts()}
    mismatches: list[str] = []
    for position in await manager.store.positions():
        if position.volume <= 0:
            continue
        base = position.market.partition("-")[2]
        actual = held.get(base, Decimal(0))
        if actual < position.volume:
            mismatches.append(
                f"{position.market}: position {position.volume.normalize():f}, "
                f"exchange holds {actual.normalize():f}"
            )
    return mismatches
