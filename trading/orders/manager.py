"""The order manager: every order the engine wants goes through here, and every fill comes back
through here into the store, exactly once.

It speaks the neutral order model (``trading.domain.orders``): a ``SubmitOrder`` goes out,
``OrderReport``s and ``FillReport``s come back, whichever exchange is behind it.

Placing: the intent is written to the store, then ``OrderSubmitter`` sends it (one intent,
never two orders). Fills arrive from the venue's private stream (live, mapped by its adapter),
from the paper exchange, or from polling as the fallback; all three are deduplicated by
``trade_id`` in the store, so a fill seen twice is recorded once and announced once. When an
order reaches its end (done, cancel, rejected) ``OrderSettled`` is announced once: the engine's
signal that no more fills follow.

Before anything is written, ``RefusalGuard`` refuses an order whose very body Upbit refused
within the hour, and every order of a market that collected too many refusals
(``refusals.py``).

Re-pricing (``replace``) goes through ``OrderReplacer``: the venue's atomic cancel-and-new, or
cancel, confirm, then place; never a new order beside an old one that can still fill.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from trading.domain.orders import (
    SIDE_CODE,
    TYPE_CODE,
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    SubmitOrder,
)
from trading.errors import (
    CircuitOpen,
    NotFound,
    OrderOutcomeUnknown,
    TradingError,
    TransientError,
    UpbitError,
)
from trading.events import (
    EventSink,
    OrderBecameUncertain,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    OrderSettled,
    OrdersSuspended,
    ignore_event,
)
from trading.exchange import CancelAndNew, Exchange
from trading.orders.refusals import RefusalGuard, sent_and_refused
from trading.orders.replace import OrderReplacer, ReplaceOutcome
from trading.orders.submit import OrderSubmitter
from trading.store import OrderRecord, Store

log = logging.getLogger(__name__)
ZERO = Decimal(0)


class OrderManager:
    def __init__(
        self,
        exchange: Exchange,
        store: Store,
        *,
        paper: bool,
        prefix: str = "ubot",
        on_event: EventSink = ignore_event,
        settle_s: float = 1.0,
        timeout_settle_s: float = 5.0,
        max_attempts: int = 3,
        guard: RefusalGuard | None = None,
    ) -> None:
        self.exchange = exchange
        self.guard = guard or RefusalGuard()
        self.store = store
        self.paper = paper
        self.prefix = prefix
        self._emit = on_event
        self._settled: set[str] = set()
        self.submitter = OrderSubmitter(
            exchange,
            journal=store,
            prefix=prefix,
            settle_s=settle_s,
            timeout_settle_s=timeout_settle_s,
            max_attempts=max_attempts,
            on_event=on_event,
        )
        self.replacer = OrderReplacer(exchange, self.submitter, journal=store, on_event=on_event)

    @staticmethod
    def new_intent_id() -> str:
        return uuid.uuid4().hex[:16]

    async def place(
        self, intent: SubmitOrder, *, strategy: str | None = None, reason: str | None = None
    ) -> OrderRecord:
        """Validate, journal, send; the returned record reflects the exchange's answer."""
        # refuse an order that cannot succeed before anything is written
        self.guard.check(intent)
        self.exchange.check(intent)
        await self._journal_intent(intent, strategy=strategy, reason=reason)
        try:
            order = await self.submitter.submit(intent, first_journaled=True)
        except OrderOutcomeUnknown as exc:
            self._uncertain(intent, exc)
            raise
        except TradingError as exc:  # the exchange's refusals and NotLeader
            await self._mark_rejected(intent, exc)
            if isinstance(exc, UpbitError) and sent_and_refused(exc):
                self._count_refusal(intent, exc)
            raise
        return await self._placed(intent, order)

    def _count_refusal(self, intent: SubmitOrder, exc: UpbitError) -> None:
        suspension = self.guard.refused(intent, exc)
        if suspension is None:
            return
        log.error(
            "%s: %d order requests refused within %d s (%s): orders suspended until /resume",
            suspension.market,
            suspension.refusals,
            self.guard.window_s,
            ", ".join(suspension.reasons),
        )
        self._emit(
            OrdersSuspended(
                market=suspension.market,
                refusals=suspension.refusals,
                window_s=int(self.guard.window_s),
                reasons=suspension.reasons,
            )
        )

    async def _journal_intent(
        self, intent: SubmitOrder, *, strategy: str | None, reason: str | None
    ) -> None:
        # attempt 1 is journalled with the intent: one commit fewer before the POST
        identifier = self.submitter.identifier(intent.intent_id, 1)
        await self.journal(intent.intent_id, intent, identifier, strategy=strategy, reason=reason)

    async def journal(
        self,
        intent_id: str,
        order: SubmitOrder | OrderReport,
        identifier: str,
        *,
        strategy: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Record ``order`` as intent ``intent_id`` with its attempt ``identifier`` (a budget
        order stores its funds as the price): a new intent, or one adopted from the exchange."""
        await self.store.record_intent(
            intent_id=intent_id,
            market=order.market,
            side=order.side,
            type=order.type,
            price=order.funds if order.is_budget else order.price,
            volume=order.volume,
            time_in_force=order.time_in_force,
            strategy=strategy,
            reason=reason,
            identifier=identifier,
        )

    def _uncertain(self, intent: SubmitOrder, exc: OrderOutcomeUnknown) -> None:
        log.warning("order %s: outcome unknown, left for reconciliation", intent.intent_id)
        self._emit(
            OrderBecameUncertain(
                intent_id=intent.intent_id,
                market=intent.market,
                side=SIDE_CODE[intent.side],
                ord_type=TYPE_CODE[intent.side, intent.type],
                reason=str(exc),
            )
        )

    async def _placed(self, intent: SubmitOrder, order: OrderReport) -> OrderRecord:
        self._emit(
            OrderPlaced(
                intent_id=intent.intent_id,
                identifier=order.identifier or "",
                uuid=order.order_id,
                market=order.market,
                side=SIDE_CODE[order.side],
                ord_type=TYPE_CODE[order.side, order.type],
                price=intent.funds if intent.is_budget else intent.price,
                volume=order.volume if order.volume is not None else intent.volume,
                paper=self.paper,
            )
        )
        return await self.on_order(order)

    async def _mark_rejected(
        self, intent: SubmitOrder, exc: Exception | None, *, announce: bool = True
    ) -> None:
        """End an intent that has no order on the exchange; ``announce``: as a rejection
        (a replacement that was simply not needed is not one)."""
        if announce and exc is not None:
            name = exc.name if isinstance(exc, TradingError) else type(exc).__name__
            self._emit(
                OrderRejected(
                    intent_id=intent.intent_id,
                    market=intent.market,
                    name=str(name),
                    reason=str(exc),
                )
            )
        attempts = await self.store.attempts_for(intent.intent_id)
        if attempts:
            after = await self.store.update_order_from_exchange(
                identifier=attempts[-1].identifier,
                status=OrderStatus.REJECTED,
                executed_volume=ZERO,
                executed_funds=ZERO,
                paid_fee=ZERO,
            )
            self._announce_if_settled(after)

    def _announce_if_settled(self, row: OrderRecord | None) -> None:
        """``OrderSettled`` once per order, however many paths report its end."""
        if row is None or not row.status.is_terminal or row.intent_id in self._settled:
            return
        self._settled.add(row.intent_id)
        self._emit(
            OrderSettled(
                intent_id=row.intent_id,
                market=row.market,
                side=SIDE_CODE[row.order_side],
                state=row.state,
                executed_volume=row.executed_volume,
            )
        )

    async def on_order(self, order: OrderReport) -> OrderRecord:
        """Store what the exchange says about an order; a terminal state is never left.

        Fills always land before the settlement: the trades an order carries are recorded
        first, and a finished order that arrives without its trades (an acknowledgement, a
        state message) is looked up to get them.
        """
        if order.status.is_terminal and order.has_fills and not order.fills:
            order = await self.exchange.fetch_order(order_id=order.order_id)
        for fill in order.fills:
            await self.on_fill(fill)
        funds = order.executed_funds
        if funds is None:
            funds = sum((f.funds for f in order.fills), ZERO)
        record = await self.store.update_order_from_exchange(
            identifier=order.identifier,
            uuid=order.order_id,
            status=order.status,
            executed_volume=order.executed_volume,
            executed_funds=funds,
            paid_fee=order.paid_fee,
            volume=order.volume,
        )
        if record is None:
            raise LookupError(f"order {order.identifier or order.order_id} is not in the store")
        # a filled market buy ends cancelled too (the unspent dust): that is no cancel
        immediate = order.type is OrderType.BEST or (
            order.type is OrderType.MARKET and order.side is Side.BUY
        )
        if order.status is OrderStatus.CANCELLED and not (immediate and order.has_fills):
            self._announce_cancel(record)
        self._announce_if_settled(record)
        return record

    def _announce_cancel(self, row: OrderRecord) -> None:
        if row.intent_id not in self._settled:
            self._emit(
                OrderCancelled(
                    intent_id=row.intent_id,
                    identifier=row.identifier or "",
                    market=row.market,
                    reason="cancelled on the exchange",
                )
            )

    async def on_fill(self, report: FillReport) -> bool:
        """Record one fill; True if it was new (and announced)."""
        row = await self.store.order_by_uuid(report.order_id)
        if row is None and report.identifier:
            row = await self.store.order_by_identifier(report.identifier)
        new = await self.store.record_fill(
            trade_uuid=report.trade_id,
            market=report.market,
            side=report.side,
            price=report.price,
            volume=report.volume,
            funds=report.funds,
            fee=report.fee,
            order_uuid=report.order_id,
            intent_id=row.intent_id if row else None,
            is_maker=report.is_maker,
            created_at=report.at,
        )
        if not new:
            return False
        if row is None:
            log.warning("fill %s for an order this bot did not place", report.trade_id)
            return True
        fills = await self.store.fills(intent_id=row.intent_id, limit=100_000)
        executed = sum((f.volume for f in fills), ZERO)
        spent = sum((f.funds for f in fills), ZERO)
        filled_volume = row.volume is not None and executed >= row.volume
        status = OrderStatus.FILLED if filled_volume else row.status
        if status is OrderStatus.PENDING:  # a fill is the acknowledgement we had not seen
            status = OrderStatus.OPEN
        # a buy sized in KRW is complete once what is left cannot buy one volume step
        spent_budget = (
            row.volume is None
            and row.order_side is Side.BUY
            and row.price is not None
            and row.price - spent < report.price * self.exchange.rules.volume_step
        )
        complete = filled_volume or spent_budget
        updated = await self.store.update_order_from_exchange(
            identifier=report.identifier,
            uuid=report.order_id,
            status=status,
            executed_volume=executed,
            executed_funds=spent,
            paid_fee=sum((f.fee for f in fills), ZERO),
        )
        self._emit(
            OrderFilled(
                intent_id=row.intent_id,
                identifier=row.identifier or "",
                market=row.market,
                side=SIDE_CODE[row.order_side],
                price=report.price,
                volume=report.volume,
                fee=report.fee,
                trade_uuid=report.trade_id,
                complete=complete,
                paper=self.paper,
                at=report.at,
            )
        )
        self._announce_if_settled(updated)
        return True

    async def on_stream(self, item: FillReport | OrderReport) -> None:
        """The live path (a venue's private stream, mapped by its adapter): a fill is
        recorded; an order that ended is looked up, so its fills land before its end."""
        if isinstance(item, FillReport):
            await self.on_fill(item)
        elif item.status.is_terminal:
            row = await self.store.order_by_uuid(item.order_id)
            if row is not None:
                await self.refresh(row)

    async def refresh(self, row: OrderRecord) -> OrderRecord | None:
        """Ask the exchange about one order: record missing fills, then its state."""
        if row.uuid:
            order = await self.exchange.fetch_order(order_id=row.uuid)
        elif row.identifier:
            order = await self.exchange.fetch_order(identifier=row.identifier)
        else:
            return row
        return await self.on_order(order)

    async def poll_open(self) -> int:
        """REST fallback for the fill stream: refresh every open order we know about."""
        refreshed = 0
        for row in await self.store.open_orders():
            if row.uuid is None:
                continue  # never acknowledged: reconciliation's job, not polling's
            try:
                await self.refresh(row)
            except (TransientError, CircuitOpen) as exc:
                log.warning("poll of order %s failed: %s", row.intent_id, exc)
                continue
            refreshed += 1
        return refreshed

    async def cancel(self, intent_id: str) -> OrderRecord | None:
        row = await self.store.order(intent_id)
        if row is None or row.uuid is None or row.status.is_terminal:
            return row
        await self.exchange.cancel(row.uuid)
        return await self.refresh(row)

    async def cancel_all(self, market: str | None = None) -> int:
        cancelled = 0
        for row in await self.store.open_orders(market):
            if row.uuid is not None:
                await self.cancel(row.intent_id)
                cancelled += 1
        return cancelled

    async def replace(self, intent_id: str, price: Decimal) -> OrderRecord | None:
        """Re-price a resting limit order: what it has left goes out at ``price``, never
        beside it (``OrderReplacer``: Upbit's cancel-and-new, or cancel, confirm, place).

        The old order's fills and end are recorded before the new order is. Returns the new
        order's record; None when nothing was left to replace (it filled, or it was not open).
        """
        row = await self.store.order(intent_id)
        if row is None or row.uuid is None or row.status.is_terminal:
            return None
        if row.order_type is not OrderType.LIMIT or row.volume is None or row.price is None:
            await self.cancel(intent_id)  # only a resting limit order has a price to change
            return None
        left = row.volume - row.executed_volume
        if left <= 0:  # filled; the book is a step behind the exchange
            await self.refresh(row)
            return None
        intent = SubmitOrder(
            intent_id=self.new_intent_id(),
            market=row.market,
            side=row.order_side,
            type=OrderType.LIMIT,
            price=price,
            volume=left,
            time_in_force=row.time_in_force,
        )
        self._check_replacement(intent, row.uuid)  # a refused price writes nothing
        await self._journal_intent(intent, strategy=row.strategy, reason=f"replaces {intent_id}")
        try:
            outcome = await self.replacer.replace(intent, row.uuid, first_journaled=True)
        except OrderOutcomeUnknown as exc:
            self._uncertain(intent, exc)
            raise
        except TradingError as exc:  # TransientError and NotLeader included
            try:
                old = await self.refresh(row)  # the book shows the old order as it is now
            except UpbitError:
                old = None
            gone = isinstance(exc, NotFound) and old is not None and not old.is_open
            await self._mark_rejected(intent, exc, announce=not gone)
            if gone:  # it filled (or was cancelled) before the request arrived
                return None
            raise
        return await self._replaced(intent, outcome)

    def _check_replacement(self, intent: SubmitOrder, prev_uuid: str) -> None:
        if isinstance(self.exchange, CancelAndNew):
            self.exchange.check_replace(prev_uuid, intent)
        else:
            self.exchange.check(intent)

    async def _replaced(self, intent: SubmitOrder, outcome: ReplaceOutcome) -> OrderRecord | None:
        old = await self.on_order(outcome.old)  # its fills and its end first
        if outcome.new is None:
            if old.status is OrderStatus.CANCELLED:  # cancelled, yet no new order: say so
                self._emit(
                    OrderRejected(
                        intent_id=intent.intent_id,
                        market=intent.market,
                        name="replacement_not_created",
                        reason=f"order {old.intent_id} was cancelled, its replacement not made",
                    )
                )
            await self._mark_rejected(intent, None, announce=False)
            return None
        return await self._placed(intent, outcome.new)
