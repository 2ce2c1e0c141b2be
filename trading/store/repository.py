"""``Store``: the persistence API the engine, the handlers and the notifier use.

Each method opens one session, does one short unit of work and commits, so no caller ever
holds a transaction across an await on the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.domain.balance import Balance
from trading.domain.orders import (
    SIDE_CODE,
    STATUS_CODE,
    STATUS_FROM_CODE,
    TYPE_CODE,
    OrderStatus,
    OrderType,
    Side,
    can_move,
)
from trading.store._base import to_record
from trading.store.models import (
    BalanceSnapshot,
    EquitySnapshot,
    Fill,
    Order,
    OrderAttempt,
    Position,
)
from trading.store.ops import OpsMixin
from trading.store.records import (
    OPEN_STATES,
    AttemptRecord,
    BalanceRecord,
    DuplicateIntentError,
    EquityRecord,
    FillRecord,
    IdentifierReusedError,
    OrderRecord,
    PositionRecord,
    UnknownIntentError,
)
from trading.store.types import utcnow

ZERO = Decimal(0)


class Store(OpsMixin):
    """Orders, attempts, fills, positions and snapshots (state, audit, queue: ``OpsMixin``)."""

    # --- orders and attempts -------------------------------------------------------------

    async def record_intent(
        self,
        *,
        intent_id: str,
        market: str,
        side: Side,
        type: OrderType,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        time_in_force: str | None = None,
        strategy: str | None = None,
        reason: str | None = None,
        identifier: str | None = None,
    ) -> OrderRecord:
        """Create the order row in state "pending"; with ``identifier``, also record attempt 1
        in the same transaction, so the first send needs one commit, not two.

        The unique constraints catch a reused intent or identifier; which one it was is
        looked up only then, so the path before an order is sent stays two INSERTs long."""
        order = Order(
            intent_id=intent_id,
            market=market,
            side=SIDE_CODE[side],
            ord_type=TYPE_CODE[side, type],
            price=price,
            volume=volume,
            time_in_force=time_in_force,
            state=STATUS_CODE[OrderStatus.PENDING],
            executed_volume=ZERO,
            executed_funds=ZERO,
            paid_fee=ZERO,
            strategy=strategy,
            reason=reason,
            identifier=identifier,
        )
        try:
            async with self._tx() as session:
                session.add(order)
                if identifier is not None:
                    await session.flush()  # the attempt row refers to the order row
                    session.add(
                        OrderAttempt(
                            intent_id=intent_id,
                            identifier=identifier,
                            attempt=1,
                            outcome="pending",
                        )
                    )
        except IntegrityError as exc:
            async with self._sessions() as session:
                if await _order(session, intent_id) is not None:
                    raise DuplicateIntentError(intent_id) from exc
            if identifier is not None:
                raise IdentifierReusedError(identifier) from exc
            raise
        return to_record(OrderRecord, order)

    async def record_attempt(self, intent_id: str, identifier: str, attempt: int) -> AttemptRecord:
        """Record an identifier before it is sent and make it the order's current one.

        Raises ``IdentifierReusedError`` if it was ever recorded: sending it again could only
        be refused by Upbit, or worse, be confused with the earlier attempt.
        """
        try:
            async with self._tx() as session:
                order = await _order(session, intent_id)
                if order is None:
                    raise UnknownIntentError(intent_id)
                row = await _add_attempt(session, order, identifier, attempt)
        except IntegrityError as exc:
            raise IdentifierReusedError(identifier) from exc
        return to_record(AttemptRecord, row)

    async def mark_attempt(
        self, identifier: str, outcome: str, error: str | None = None
    ) -> AttemptRecord | None:
        """Set what became of an attempt (sent, accepted, confirmed_absent, rejected, ...)."""
        async with self._tx() as session:
            row = await session.scalar(
                select(OrderAttempt).where(OrderAttempt.identifier == identifier)
            )
            if row is None:
                return None
            row.outcome = outcome
            row.error = error
            await session.flush()
            return to_record(AttemptRecord, row)

    async def update_order_from_exchange(
        self,
        *,
        status: OrderStatus,
        executed_volume: Decimal,
        executed_funds: Decimal,
        paid_fee: Decimal,
        identifier: str | None = None,
        uuid: str | None = None,
        volume: Decimal | None = None,
    ) -> OrderRecord | None:
        """Apply an order report from the WebSocket or REST, found by identifier (any attempt
        of the intent) or uuid. Reports can arrive out of order, so a terminal state is never
        left and executed amounts never shrink. ``volume``: what the exchange says was ordered
        (a cancel-and-new's ``remain_only`` is sized by Upbit, not by us). Returns None for an
        order we never placed."""
        if identifier is None and uuid is None:
            raise ValueError("need an identifier or a uuid")
        async with self._tx() as session:
            # FOR UPDATE (PostgreSQL) / BEGIN IMMEDIATE (SQLite): concurrent reports for one
            # order apply one after the other, so the guards below see the latest row.
            order: Order | None = None
            if identifier is not None:
                order = await session.scalar(
                    select(Order)
                    .join(OrderAttempt, OrderAttempt.intent_id == Order.intent_id)
                    .where(OrderAttempt.identifier == identifier)
                    .with_for_update(of=Order)
                )
            if order is None and uuid is not None:
                order = await session.scalar(
                    select(Order).where(Order.uuid == uuid).with_for_update()
                )
            if order is None:
                return None
            if uuid is not None and order.uuid is None:
                order.uuid = uuid
            if volume is not None:
                order.volume = volume
            if can_move(STATUS_FROM_CODE[order.state], status):
                order.state = STATUS_CODE[status]
            if executed_volume >= order.executed_volume:
                order.executed_volume = executed_volume
                order.executed_funds = executed_funds
                order.paid_fee = paid_fee
            if identifier is not None:
                await session.execute(
                    update(OrderAttempt)
                    .where(
                        OrderAttempt.identifier == identifier,
                        OrderAttempt.outcome.in_(("pending", "sent")),
                    )
                    .values(outcome="accepted", updated_at=utcnow())
                )
            await session.flush()
            return to_record(OrderRecord, order)

    async def open_orders(self, market: str | None = None) -> list[OrderRecord]:
        """Orders still to be watched or reconciled, oldest first."""
        query = select(Order).where(Order.state.in_(OPEN_STATES))
        if market is not None:
            query = query.where(Order.market == market)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(Order.created_at, Order.id))
            return [to_record(OrderRecord, row) for row in rows]

    async def recent_orders(self, limit: int = 50, market: str | None = None) -> list[OrderRecord]:
        """The newest orders in any state, newest first (the HTTP API's order history)."""
        query = select(Order)
        if market is not None:
            query = query.where(Order.market == market)
        return await self._newest(OrderRecord, query, limit, Order.created_at, Order.id)

    async def order(self, intent_id: str) -> OrderRecord | None:
        async with self._sessions() as session:
            row = await _order(session, intent_id)
            return None if row is None else to_record(OrderRecord, row)

    async def order_by_identifier(self, identifier: str) -> OrderRecord | None:
        """The order any attempt identifier (current or earlier) belongs to."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(Order)
                .join(OrderAttempt, OrderAttempt.intent_id == Order.intent_id)
                .where(OrderAttempt.identifier == identifier)
            )
            return None if row is None else to_record(OrderRecord, row)

    async def order_by_uuid(self, uuid: str) -> OrderRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(select(Order).where(Order.uuid == uuid))
            return None if row is None else to_record(OrderRecord, row)

    async def attempts_for(self, intent_id: str) -> list[AttemptRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OrderAttempt)
                .where(OrderAttempt.intent_id == intent_id)
                .order_by(OrderAttempt.attempt)
            )
            return [to_record(AttemptRecord, row) for row in rows]

    # --- fills ---------------------------------------------------------------------------

    async def record_fill(
        self,
        *,
        trade_uuid: str,
        market: str,
        side: Side,
        price: Decimal,
        volume: Decimal,
        funds: Decimal,
        fee: Decimal,
        order_uuid: str | None = None,
        intent_id: str | None = None,
        is_maker: bool | None = None,
        created_at: datetime | None = None,
    ) -> bool:
        """Store a trade once; False if ``trade_uuid`` was already stored, so the WebSocket
        and REST reconciliation can both report it safely."""
        async with self._tx() as session:
            if intent_id is None and order_uuid is not None:
                intent_id = await session.scalar(
                    select(Order.intent_id).where(Order.uuid == order_uuid)
                )
            stmt = (
                self._insert(session, Fill)
                .values(
                    trade_uuid=trade_uuid,
                    order_uuid=order_uuid,
                    intent_id=intent_id,
                    market=market,
                    side=SIDE_CODE[side],
                    price=price,
                    volume=volume,
                    funds=funds,
                    fee=fee,
                    is_maker=is_maker,
                    created_at=created_at or self.clock(),
                )
                .on_conflict_do_nothing(index_elements=["trade_uuid"])
                .returning(Fill.id)
            )
            return (await session.scalar(stmt)) is not None

    async def fills_after(self, after_id: int = 0, *, limit: int = 10_000) -> list[FillRecord]:
        """Fills recorded after ``after_id``, oldest first: incremental readers (PnL) page
        with it instead of reloading every fill."""
        query = select(Fill).where(Fill.id > after_id).order_by(Fill.id).limit(limit)
        async with self._sessions() as session:
            return [to_record(FillRecord, row) for row in await session.scalars(query)]

    async def fills(
        self, *, intent_id: str | None = None, market: str | None = None, limit: int = 100
    ) -> list[FillRecord]:
        """Most recent fills first."""
        query = select(Fill)
        if intent_id is not None:
            query = query.where(Fill.intent_id == intent_id)
        if market is not None:
            query = query.where(Fill.market == market)
        return await self._newest(FillRecord, query, limit, Fill.created_at, Fill.id)

    # --- positions -----------------------------------------------------------------------

    async def upsert_position(
        self,
        market: str,
        *,
        state: str,
        volume: Decimal,
        avg_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        opened_at: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> PositionRecord:
        """Replace the whole stored state of one market's position."""
        values: dict[str, Any] = {
            "state": state,
            "volume": volume,
            "avg_price": avg_price,
            "stop_price": stop_price,
            "opened_at": opened_at,
            "extra": dict(extra or {}),
            "updated_at": utcnow(),
        }
        async with self._tx() as session:
            stmt = (
                self._insert(session, Position)
                .values(market=market, **values)
                .on_conflict_do_update(index_elements=["market"], set_=values)
                .returning(Position)
            )
            row = await session.scalar(stmt, execution_options={"populate_existing": True})
            assert row is not None
            return to_record(PositionRecord, row)

    async def positions(self) -> list[PositionRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(select(Position).order_by(Position.market))
            return [to_record(PositionRecord, row) for row in rows]

    async def position(self, market: str) -> PositionRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(select(Position).where(Position.market == market))
            return None if row is None else to_record(PositionRecord, row)

    # --- snapshots -----------------------------------------------------------------------

    async def snapshot_balances(
        self, balances: Iterable[Balance], taken_at: datetime | None = None
    ) -> datetime:
        """Store one account snapshot; every line shares ``taken_at``, which is returned."""
        at = taken_at or self.clock()
        async with self._tx() as session:
            session.add_all(
                BalanceSnapshot(
                    currency=b.currency,
                    balance=b.free,
                    locked=b.locked,
                    avg_buy_price=b.avg_buy_price,
                    taken_at=at,
                )
                for b in balances
            )
        return at.astimezone(UTC)

    async def latest_balances(self) -> list[BalanceRecord]:
        """The most recent snapshot, by currency."""
        async with self._sessions() as session:
            last = select(BalanceSnapshot.taken_at).order_by(BalanceSnapshot.taken_at.desc())
            rows = await session.scalars(
                select(BalanceSnapshot)
                .where(BalanceSnapshot.taken_at == last.limit(1).scalar_subquery())
                .order_by(BalanceSnapshot.currency)
            )
            return [to_record(BalanceRecord, row) for row in rows]

    async def snapshot_equity(
        self, equity_krw: Decimal, cash_krw: Decimal, taken_at: datetime | None = None
    ) -> EquityRecord:
        row = EquitySnapshot(
            equity_krw=equity_krw, cash_krw=cash_krw, taken_at=taken_at or self.clock()
        )
        return await self._add(EquityRecord, row)

    async def equity_history(
        self, since: datetime | None = None, limit: int = 1000
    ) -> list[EquityRecord]:
        """Equity snapshots in time order (the newest ``limit`` of them), for PnL reports."""
        query = select(EquitySnapshot)
        if since is not None:
            query = query.where(EquitySnapshot.taken_at >= since)
        async with self._sessions() as session:
            rows = await session.scalars(
                query.order_by(EquitySnapshot.taken_at.desc(), EquitySnapshot.id.desc()).limit(
                    limit
                )
            )
            return [to_record(EquityRecord, row) for row in reversed(rows.all())]


async def _order(session: AsyncSession, intent_id: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.intent_id == intent_id))


async def _add_attempt(
    session: AsyncSession, order: Order, identifier: str, attempt: int
) -> OrderAttempt:
    if await session.scalar(select(OrderAttempt.id).where(OrderAttempt.identifier == identifier)):
        raise IdentifierReusedError(identifier)
    row = OrderAttempt(
        intent_id=order.intent_id, identifier=identifier, attempt=attempt, outcome="pending"
    )
    session.add(row)
    order.identifier = identifier
    await session.flush()
    return row
