"""Frozen, session-free results of ``Store`` methods.

The store hands out these instead of ORM rows so callers cannot mutate a detached row and
believe it was saved, and so nothing lazy-loads after its session is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.domain.orders import (
    SIDE_FROM_CODE,
    STATUS_CODE,
    STATUS_FROM_CODE,
    TYPE_FROM_CODE,
    OrderStatus,
    OrderType,
    Side,
)

#: The stored codes of the states the engine must still watch (``OrderStatus.is_open``).
OPEN_STATES = tuple(STATUS_CODE[s] for s in OrderStatus if s.is_open)
#: ... and of those an exchange report may never move an order out of.
TERMINAL_STATES = tuple(STATUS_CODE[s] for s in OrderStatus if s.is_terminal)


class StoreError(Exception):
    """Base of the store's own errors."""


class IdentifierReusedError(StoreError):
    """The identifier was recorded before; Upbit would refuse it, so it must not be sent."""


class DuplicateIntentError(StoreError):
    """An order with this intent_id already exists."""


class UnknownIntentError(StoreError, LookupError):
    """No order with this intent_id."""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: int
    intent_id: str
    identifier: str | None
    uuid: str | None
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    time_in_force: str | None
    state: str
    executed_volume: Decimal
    executed_funds: Decimal
    paid_fee: Decimal
    strategy: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def status(self) -> OrderStatus:
        return STATUS_FROM_CODE[self.state]

    @property
    def order_side(self) -> Side:
        return SIDE_FROM_CODE[self.side]

    @property
    def order_type(self) -> OrderType:
        return TYPE_FROM_CODE[self.ord_type]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    intent_id: str
    identifier: str
    attempt: int
    outcome: str
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FillRecord:
    id: int  # insertion order: what ``fills_after`` pages by
    trade_uuid: str
    order_uuid: str | None
    intent_id: str | None
    market: str
    side: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PositionRecord:
    market: str
    state: str
    volume: Decimal
    avg_price: Decimal | None
    stop_price: Decimal | None
    opened_at: datetime | None
    extra: Any
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BalanceRecord:
    currency: str
    balance: Decimal
    locked: Decimal
    avg_buy_price: Decimal
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class EquityRecord:
    equity_krw: Decimal
    cash_krw: Decimal
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class ParamChangeRecord:
    id: int
    at: datetime
    who: str
    transport: str
    key: str
    old_value: Any
    new_value: Any


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    transport: str
    user_id: str | None
    chat_id: str | None
    command: str
    arguments: Any
    outcome: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    channel: str
    kind: str
    payload: Any
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
