"""Order book snapshots and the price a market order would really get (for slippage checks)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from trading.domain import BookSide as Side
from trading.domain.book import BookSnapshot
from trading.upbit.models import Orderbook as RestOrderbook
from trading.upbit.models import OrderbookUnit as RestUnit
from trading.upbit.ws_messages import Orderbook as WsOrderbook
from trading.upbit.ws_messages import OrderbookUnit as WsUnit

ZERO = Decimal(0)


BookLike = BookSnapshot | RestOrderbook | WsOrderbook


def to_snapshot(book: BookLike) -> BookSnapshot:
    """Normalise a REST or WebSocket order book (or a snapshot) to ``BookSnapshot``."""
    if isinstance(book, BookSnapshot):
        return book
    units: Sequence[RestUnit | WsUnit]
    if isinstance(book, RestOrderbook):
        market, units, at = book.market, book.orderbook_units, book.timestamp
    else:
        market, units, at = book.code, book.units, book.timestamp
    asks = sorted((u.ask_price, u.ask_size) for u in units if u.ask_size > 0)
    bids = sorted(((u.bid_price, u.bid_size) for u in units if u.bid_size > 0), reverse=True)
    return BookSnapshot(market, tuple(asks), tuple(bids), at)


def expected_fill(book: BookSnapshot, side: Side, amount: Decimal) -> Decimal | None:
    """Volume-weighted price of a market order walking the book.

    ``side="bid"`` buys for ``amount`` KRW (walks the asks, like Upbit's ``price`` order);
    ``side="ask"`` sells ``amount`` of the coin (walks the bids). ``None`` when the visible
    book cannot absorb the whole order: the caller should treat that as too much slippage.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    filled = cost = ZERO
    remaining = amount
    if side == "bid":
        for price, size in book.asks:
            value = size * price
            if value >= remaining:  # the last level takes exactly what is left
                return (cost + remaining) / (filled + remaining / price)
            filled, cost, remaining = filled + size, cost + value, remaining - value
        return None
    for price, size in book.bids:
        if size >= remaining:
            return (cost + remaining * price) / (filled + remaining)
        filled, cost, remaining = filled + size, cost + size * price, remaining - size
    return None
