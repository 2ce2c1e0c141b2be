"""A venue's order rules as the engine, risk, the paper exchange and the backtester see them.

Each venue adapter implements ``MarketRules`` (Upbit's: ``trading.upbit.market_rules``) and
only the wiring builds one; everything else is handed it and types against this protocol, so
a price grid, a volume step or a minimum order total is never a constant outside the adapter.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Protocol

from trading.domain.orders import SubmitOrder


class Rounding(Enum):
    """How to put a price on the grid: buys round down, sells up, unless the caller says."""

    DOWN = "down"
    UP = "up"
    NEAREST = "nearest"


class MarketRules(Protocol):
    """Price grid, volume step and order-total limits of one venue, per market."""

    @property
    def volume_step(self) -> Decimal:
        """The smallest volume increment: volumes are floored to a multiple of it."""
        ...

    def tick_size(self, market: str, price: Decimal) -> Decimal:
        """The price increment at ``price`` in ``market``."""
        ...

    def tick_bands(self, market: str) -> tuple[tuple[Decimal, Decimal], ...]:
        """``market``'s (lower bound, tick) rows, highest first: ``tick_size`` as a table, for
        code that looks ticks up for many prices at once (stops, the backtester)."""
        ...

    def round_price(self, market: str, price: Decimal, rounding: Rounding) -> Decimal:
        """``price`` on ``market``'s grid; raises ``InvalidPrice`` for a price <= 0."""
        ...

    def min_total(self, market: str) -> Decimal:
        """The smallest order total (price times volume) the venue accepts."""
        ...

    def max_total(self, market: str) -> Decimal | None:
        """The largest order total the venue accepts; None: no limit."""
        ...

    def check_submit(self, order: SubmitOrder, *, reference_price: Decimal | None = None) -> None:
        """Raise the refusal the venue would answer ``order`` with (``trading.errors``);
        ``reference_price`` values a market sell."""
        ...
