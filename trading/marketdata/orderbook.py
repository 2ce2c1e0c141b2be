"""The price a market order would really get from an order book (for slippage checks).

A venue's book arrives as ``trading.domain.book.BookSnapshot`` (Upbit's: mapped by
``trading.upbit.mapping.book_snapshot`` in the wiring)."""

from __future__ import annotations

from decimal import Decimal

from trading.domain import BookSide as Side
from trading.domain.book import BookSnapshot

ZERO = Decimal(0)


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
