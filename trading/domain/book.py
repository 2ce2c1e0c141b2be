"""An order book as every layer past a venue adapter sees it: price levels, best first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

Level = tuple[Decimal, Decimal]  # (price, size)


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Top of book: ``asks`` ascending and ``bids`` descending by price (best first)."""

    market: str
    asks: tuple[Level, ...]
    bids: tuple[Level, ...]
    at: datetime | None = None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None
