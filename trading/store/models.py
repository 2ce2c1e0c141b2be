"""Typed declarative models; ``migrations/versions`` must create exactly these tables.

Every table has a surrogate integer key except ``bot_state`` (keyed by name). Constraint names
follow one convention so later migrations (SQLite batch mode included) can address them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from trading.store.types import ExactDecimal, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: ExactDecimal(),
        datetime: UTCDateTime(),
        Any: JSONType,
    }


class Order(Base):
    """One trading intent; ``identifier`` is the attempt currently in flight (see attempts)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("side IN ('bid', 'ask')", name="side"),
        Index(None, "state"),
        Index(None, "market", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[str] = mapped_column(String(64), unique=True)
    identifier: Mapped[str | None] = mapped_column(String(64), unique=True)
    uuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    market: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(3))
    ord_type: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal | None]
    volume: Mapped[Decimal | None]
    time_in_force: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    executed_volume: Mapped[Decimal]
    executed_funds: Mapped[Decimal]
    paid_fee: Mapped[Decimal]
    strategy: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderAttempt(Base):
    """Every identifier ever sent for an intent, written before it is sent: Upbit refuses a
    reused identifier forever, so the unique key here is the guard."""

    __tablename__ = "order_attempts"
    __table_args__ = (Index(None, "intent_id", "attempt", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("orders.intent_id", ondelete="CASCADE")
    )
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    attempt: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Fill(Base):
    """One trade; ``trade_uuid`` is unique so the WebSocket and REST reconciliation can both
    report it without double counting."""

    __tablename__ = "fills"
    __table_args__ = (
        CheckConstraint("side IN ('bid', 'ask')", name="side"),
        Index(None, "order_uuid"),
        Index(None, "intent_id"),
        Index(None, "market", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_uuid: Mapped[str] = mapped_column(String(64), unique=True)
    order_uuid: Mapped[str | None] = mapped_column(String(64))
    intent_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("orders.intent_id", ondelete="SET NULL")
    )
    market: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(3))
    price: Mapped[Decimal]
    volume: Mapped[Decimal]
    funds: Mapped[Decimal]
    fee: Mapped[Decimal]
    is_maker: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Position(Base):
    """The engine's per-market state machine (flat/entering/long/exiting/cooldown)."""

    __tablename__ = "positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    market: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    volume: Mapped[Decimal]
    avg_price: Mapped[Decimal | None]
    stop_price: Mapped[Decimal | None]
    opened_at: Mapped[datetime | None]
    extra: Mapped[Any]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BalanceSnapshot(Base):
    __tablename__ = "balance_snapshots"
    __table_args__ = (Index(None, "currency", "taken_at"), Index(None, "taken_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(16))
    balance: Mapped[Decimal]
    locked: Mapped[Decimal]
    avg_buy_price: Mapped[Decimal]
    taken_at: Mapped[datetime]


class EquitySnapshot(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (Index(None, "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equity_krw: Mapped[Decimal]
    cash_krw: Mapped[Decimal]
    taken_at: Mapped[datetime]


class BotState(Base):
    """Small durable switches (paused, halts, ...) that must survive a restart."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ParameterChange(Base):
    """Live parameter changes, kept so they can be shown and undone."""

    __tablename__ = "parameter_changes"
    __table_args__ = (Index(None, "at"), Index(None, "key", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str] = mapped_column(String(128))
    transport: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    old_value: Mapped[Any]
    new_value: Mapped[Any]


class AuditEntry(Base):
    """Every chat command, allowed or denied."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "user_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    transport: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[Any]
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """Outgoing message queue, so a message survives a transport outage or a restart."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class CandleRow(Base):
    """Downloaded history (``upbit-bot download``): one candle per market, timeframe and start.

    ``filled`` marks a flat candle written for an interval in which Upbit reported no trade
    (open = high = low = close = previous close, volume and value 0).
    """

    __tablename__ = "candles"

    market: Mapped[str] = mapped_column(String(20), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[Decimal]
    high: Mapped[Decimal]
    low: Mapped[Decimal]
    close: Mapped[Decimal]
    volume: Mapped[Decimal]
    value: Mapped[Decimal]
    filled: Mapped[bool] = mapped_column(default=False)
