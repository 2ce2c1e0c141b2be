"""The market data the paper exchange fills against: the latest order book and last trade.

Takers walk the book's opposite side and consume it, so two quick orders between snapshots do
not both fill at the same best price. Without a book side, the last trade price moved by
``slippage_bps`` against the taker stands in, with unlimited size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trading.domain import BookSide
from trading.domain.book import BookSnapshot
from trading.domain.orders import BOOK_SIDE, Side
from trading.domain.rules import MarketRules
from trading.paper.fill_model import slipped_price

Level = list[Decimal]  # [price, size]; mutable so takers can consume it
UNLIMITED = Decimal("Infinity")
BPS = Decimal(10_000)


@dataclass(slots=True)
class Book:
    asks: list[Level]
    bids: list[Level]
    at: datetime


class MarketData:
    def __init__(self, rules: MarketRules, slippage_bps: Decimal) -> None:
        self.rules = rules
        self.slippage_bps = slippage_bps
        self.books: dict[str, Book] = {}
        self.last: dict[str, Decimal] = {}

    def set_book(
        self,
        market: str,
        asks: Iterable[tuple[Decimal, Decimal]],
        bids: Iterable[tuple[Decimal, Decimal]],
        at: datetime,
    ) -> None:
        self.books[market] = Book(
            asks=[[Decimal(p), Decimal(s)] for p, s in asks if s > 0],
            bids=[[Decimal(p), Decimal(s)] for p, s in bids if s > 0],
            at=at,
        )

    def opposite(self, market: str, side: Side) -> list[Level]:
        """Levels a taker of ``side`` trades with, best first; live lists when from the book."""
        book = self.books.get(market)
        levels = (book.asks if side is Side.BUY else book.bids) if book else []
        if levels:
            return levels
        last = self.last.get(market)
        if last is None:
            return []
        return [[self.slipped(market, last, BOOK_SIDE[side]), UNLIMITED]]

    def slipped(self, market: str, last: Decimal, side: BookSide) -> Decimal:
        """The last price moved against the taker, put on the tick grid (worse, never better)."""
        return slipped_price(self.rules, market, last, side, self.slippage_bps)

    def reference_price(self, market: str, side: Side) -> Decimal | None:
        """What a market order of ``side`` would trade at first (values a sell's min total)."""
        levels = self.opposite(market, side)
        return levels[0][0] if levels else None

    def prune(self, market: str) -> None:
        book = self.books.get(market)
        if book is not None:
            book.asks[:] = [lvl for lvl in book.asks if lvl[1] > 0]
            book.bids[:] = [lvl for lvl in book.bids if lvl[1] > 0]

    def snapshot(self, market: str, count: int) -> BookSnapshot | None:
        """The first ``count`` levels of each side as they stand (consumed levels gone)."""
        book = self.books.get(market)
        if book is None:
            return None
        asks = tuple((p, s) for p, s in book.asks[:count])
        bids = tuple((p, s) for p, s in book.bids[:count])
        return BookSnapshot(market, asks, bids, book.at)
