"""Cancel-and-replace that never leaves two live orders.

Upbit cancels asynchronously: ``DELETE /v1/order`` answers while the order still rests, and it
can fill until the cancel is done. A replacement sent on the strength of that answer can fill
too, so the bot would buy (or sell) twice what it meant to.

With an exchange that has it (``trading.exchange.CancelAndNew``: the live client and the paper
exchange), the re-pricing is Upbit's atomic ``POST /v1/orders/cancel_and_new``: the new order
is created only once the old one is cancelled, sized by what the old one had left at that
moment (``remain_only``), and not at all if the old one filled first. Like a create, it is
sent exactly once, under the new intent's attempt identifier, journalled before it leaves. An
ambiguous failure (timeout, lost response, 5xx, 429) is resolved by looking that identifier up:

- found: that is the new order;
- absent, old order closed: the cancel happened and no new order came of it;
- absent on two lookups a settle time apart, old order still open: the request never took
  effect. The old order is then cancelled the plain way and confirmed closed, the identifier
  looked up once more (a late request creates its order when that cancel completes, never
  after), and only then is the rest placed as an ordinary order under the next identifier.
  Re-sending the cancel-and-new itself is never done.

Without it (any other ``Exchange``) the old order is cancelled, confirmed closed with its fills
read back, and only what it really left is placed. Either way the old order's end comes back
with the new order, so the caller counts its fills before it books the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import KW_ONLY, dataclass

from trading.domain.orders import OrderReport, OrderStatus, OrderType, SubmitOrder
from trading.errors import (
    NetworkError,
    NotFound,
    OrderOutcomeUnknown,
)
from trading.events import EventSink, OrderResubmitted, ignore_event
from trading.exchange import CancelAndNew, Exchange
from trading.orders.submit import Ambiguous, AttemptJournal, OrderSubmitter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplaceOutcome:
    """``old``: the replaced order, closed, with its fills; ``new``: the new order, None when
    none was created (the old one left nothing)."""

    old: OrderReport
    new: OrderReport | None


@dataclass(eq=False, slots=True)
class OrderReplacer:
    client: Exchange
    submitter: OrderSubmitter
    _: KW_ONLY
    journal: AttemptJournal
    close_checks: int = 20
    on_event: EventSink = ignore_event

    async def replace(
        self, intent: SubmitOrder, prev_uuid: str, *, first_journaled: bool = False
    ) -> ReplaceOutcome:
        """Put ``intent`` (a limit order: the new price, our book's remainder as volume) in
        place of the open order ``prev_uuid``; ``first_journaled`` as for ``submit``."""
        if intent.type is not OrderType.LIMIT or intent.price is None or intent.volume is None:
            raise ValueError("a replacement is a limit order with a price and a volume")
        if isinstance(self.client, CancelAndNew):
            return await self._atomic(self.client, intent, prev_uuid, first_journaled)
        return await self._cancel_then_place(
            intent, prev_uuid, first_attempt=1, first_journaled=first_journaled
        )

    async def closed(self, uuid: str) -> OrderReport:
        """The order once it is closed; an accepted cancel is awaited, never assumed."""
        for check in range(self.close_checks):
            if check:
                await asyncio.sleep(self.submitter.settle_s)
            order = await self.client.fetch_order(order_id=uuid)
            if not order.is_open:
                return order
        raise OrderOutcomeUnknown(
            f"order {uuid} is still open {self.close_checks} checks after its cancel",
            identifier=uuid,
        )

    async def _atomic(
        self, client: CancelAndNew, intent: SubmitOrder, prev_uuid: str, first_journaled: bool
    ) -> ReplaceOutcome:
        assert intent.price is not None
        assert intent.volume is not None
        identifier = self.submitter.identifier(intent.intent_id, 1)
        # validates before the identifier is journalled: a refused order burns nothing
        client.check_replace(prev_uuid, intent)
        if not first_journaled:
            await self.journal.record_attempt(intent.intent_id, identifier, 1)
        sent = await self.submitter.send(
            identifier, lambda: client.replace_order(prev_uuid, intent, identifier)
        )
        if not isinstance(sent, Ambiguous):
            old = await self.closed(prev_uuid)
            # after a cancel the new order exists (a settle time apart, to be sure); after
            # a fill Upbit created none
            if old.status is OrderStatus.CANCELLED:
                new = await self.submitter.resolve(identifier)
            else:
                new = await self.submitter.lookup(identifier)
            if new is None:
                await self.journal.mark_attempt(
                    identifier, "confirmed_absent", f"no new order: the old one is {old.status}"
                )
            return ReplaceOutcome(old, new)
        error = sent.error
        log.warning("replace %s: ambiguous failure (%s); looking it up", identifier, error)
        in_flight = isinstance(error, NetworkError)
        found = await self.submitter.resolve(identifier, in_flight=in_flight)
        if found is not None:
            await self.journal.mark_attempt(identifier, "accepted", str(error))
            return ReplaceOutcome(await self.closed(prev_uuid), found)
        current = await self.client.fetch_order(order_id=prev_uuid)
        if not current.is_open:  # the request did land: no new order came of it
            old = await self.closed(prev_uuid)
            late = await self.submitter.lookup(identifier)
            outcome = "accepted" if late is not None else "confirmed_absent"
            await self.journal.mark_attempt(identifier, outcome, str(error))
            return ReplaceOutcome(old, late)
        await self.journal.mark_attempt(identifier, "confirmed_absent", str(error))
        self.on_event(
            OrderResubmitted(
                intent_id=intent.intent_id,
                old_identifier=identifier,
                new_identifier=self.submitter.identifier(intent.intent_id, 2),
                reason=f"cancel-and-new did not take effect ({error}); cancel, then place",
            )
        )
        return await self._cancel_then_place(
            intent, prev_uuid, first_attempt=2, first_journaled=False, earlier=identifier
        )

    async def _cancel_then_place(
        self,
        intent: SubmitOrder,
        prev_uuid: str,
        *,
        first_attempt: int,
        first_journaled: bool,
        earlier: str | None = None,
    ) -> ReplaceOutcome:
        """Cancel, wait until the exchange shows the old order closed, then place its rest."""
        # NotFound: closed already (filled, or cancelled by an earlier request of ours)
        with contextlib.suppress(NotFound):
            await self.client.cancel(prev_uuid)
        old = await self.closed(prev_uuid)
        if earlier is not None:
            late = await self.submitter.lookup(earlier)
            if late is not None:
                await self.journal.mark_attempt(earlier, "accepted", "found late")
                return ReplaceOutcome(old, late)
        ordered = old.volume if old.volume is not None else intent.volume
        assert ordered is not None
        left = ordered - old.executed_volume
        if old.status is OrderStatus.FILLED or left <= 0:
            if first_journaled:
                first = self.submitter.identifier(intent.intent_id, first_attempt)
                await self.journal.mark_attempt(first, "not_sent", f"the old one is {old.status}")
            return ReplaceOutcome(old, None)
        rest = dataclasses.replace(intent, volume=left)
        new = await self.submitter.submit(
            rest, first_journaled=first_journaled, first_attempt=first_attempt
        )
        return ReplaceOutcome(old, new)
