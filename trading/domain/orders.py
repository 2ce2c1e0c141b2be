"""The exchange-neutral order model: what the engine, the order manager, the paper exchange and
the store speak, whichever venue is behind them.

A venue adapter (``trading/upbit/``) translates its wire types to and from these in one place;
nothing else sees a venue's vocabulary. Status changes go through one table, ``TRANSITIONS``,
as position changes go through ``trading.positions.machine``.

The store keeps the short codes it has always written (``bid``/``ask``, ``wait``/``done``...):
``*_CODE`` and ``*_FROM_CODE`` below are that encoding, the one place it is spelled, so
existing databases, paper-account snapshots, events and API payloads read as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from trading.domain import BookSide


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """``LIMIT`` rests at ``price``; ``MARKET`` takes the book (a buy spends ``funds``, a sell
    sells ``volume``); ``BEST`` is an immediate order at the best opposite price."""

    LIMIT = "limit"
    MARKET = "market"
    BEST = "best"


class OrderStatus(StrEnum):
    PENDING = "pending"  # recorded by us, not yet acknowledged by the venue
    OPEN = "open"
    TRIGGER_PENDING = "trigger_pending"  # a conditional order waiting for its trigger
    FILLED = "filled"
    CANCELLED = "cancelled"  # may carry fills: a market buy's unspent dust ends here too
    REJECTED = "rejected"  # never on the venue

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


#: the order-book side a taker of each order side trades as
BOOK_SIDE: Mapping[Side, BookSide] = {Side.BUY: "bid", Side.SELL: "ask"}

_OPEN = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING})
_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED})

#: The one table of status changes. An open order may move anywhere but back to PENDING; a
#: finished one only to another end: a later, better report corrects it (an order we marked
#: rejected after an ambiguous failure turns up filled), but it never reopens.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(OrderStatus),
    OrderStatus.OPEN: frozenset(OrderStatus) - {OrderStatus.PENDING},
    OrderStatus.TRIGGER_PENDING: frozenset(OrderStatus) - {OrderStatus.PENDING},
    OrderStatus.FILLED: _TERMINAL,
    OrderStatus.CANCELLED: _TERMINAL,
    OrderStatus.REJECTED: _TERMINAL,
}


def can_move(current: OrderStatus, new: OrderStatus) -> bool:
    """Whether a report saying ``new`` may replace ``current``."""
    return new in TRANSITIONS[current]


# -- the stored encoding (also what events and the HTTP API carry) -----------------------------

SIDE_CODE: Mapping[Side, BookSide] = BOOK_SIDE  # a side is stored as the book side it takes
SIDE_FROM_CODE: Mapping[str, Side] = {code: side for side, code in SIDE_CODE.items()}
STATUS_CODE: Mapping[OrderStatus, str] = {
    OrderStatus.PENDING: "pending",
    OrderStatus.OPEN: "wait",
    OrderStatus.TRIGGER_PENDING: "watch",
    OrderStatus.FILLED: "done",
    OrderStatus.CANCELLED: "cancel",
    OrderStatus.REJECTED: "rejected",
}
STATUS_FROM_CODE: Mapping[str, OrderStatus] = {code: s for s, code in STATUS_CODE.items()}
#: stored ``ord_type``: a market buy (sized by funds) and a market sell (by volume) differ
TYPE_CODE: Mapping[tuple[Side, OrderType], str] = {
    (Side.BUY, OrderType.LIMIT): "limit",
    (Side.SELL, OrderType.LIMIT): "limit",
    (Side.BUY, OrderType.MARKET): "price",
    (Side.SELL, OrderType.MARKET): "market",
    (Side.BUY, OrderType.BEST): "best",
    (Side.SELL, OrderType.BEST): "best",
}
TYPE_FROM_CODE: Mapping[str, OrderType] = {
    "limit": OrderType.LIMIT,
    "price": OrderType.MARKET,
    "market": OrderType.MARKET,
    "best": OrderType.BEST,
}


# -- commands and reports ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Place one order. ``intent_id`` is stable across retries: the client identifiers of
    the attempts derive from it, so a retry after an ambiguous failure never places twice.

    A limit order has ``price`` and ``volume``; a market or best buy spends ``funds`` of the
    quote currency; a market or best sell sells ``volume``. ``reference_price`` is what the
    venue's price checks of a market order compare with (its last trade, or our estimate).
    """

    intent_id: str
    market: str
    side: Side
    type: OrderType
    price: Decimal | None = None
    volume: Decimal | None = None
    funds: Decimal | None = None
    time_in_force: str | None = None
    reference_price: Decimal | None = None

    @property
    def is_budget(self) -> bool:
        """Sized by what it spends rather than by volume."""
        return self.side is Side.BUY and self.type is not OrderType.LIMIT


@dataclass(frozen=True, slots=True)
class FillReport:
    """One execution, however it arrived (a private stream, an order lookup, the paper
    exchange); deduplicated downstream by ``trade_id``."""

    trade_id: str
    order_id: str
    identifier: str | None
    market: str
    side: Side
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool | None
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What the venue says about one order now. ``order_id`` is the venue's id,
    ``identifier`` ours; ``price`` and ``volume`` as in ``SubmitOrder`` (a budget buy has
    ``funds`` instead); ``fills`` are present when the venue returned them (a lookup), empty
    in an acknowledgement or a bare status message."""

    order_id: str
    identifier: str | None
    market: str
    side: Side
    type: OrderType
    status: OrderStatus
    created_at: datetime
    price: Decimal | None = None
    volume: Decimal | None = None
    funds: Decimal | None = None
    executed_volume: Decimal = Decimal(0)
    executed_funds: Decimal | None = None
    paid_fee: Decimal = Decimal(0)
    time_in_force: str | None = None
    fill_count: int = 0
    fills: tuple[FillReport, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_budget(self) -> bool:
        return self.side is Side.BUY and self.type is not OrderType.LIMIT

    @property
    def has_fills(self) -> bool:
        """A market buy can end cancelled and still be filled: trust volumes, not status."""
        return self.executed_volume > 0 or self.fill_count > 0

    @property
    def remaining_volume(self) -> Decimal | None:
        return None if self.volume is None else self.volume - self.executed_volume
