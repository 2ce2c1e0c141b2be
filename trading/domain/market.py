"""A venue's word on its markets, as market data reads it: the listing and the ticker's state.

Protocols, not classes: an adapter's own payloads (Upbit's ``Market``, ``TickerState`` and
``TickerValue`` in ``trading.upbit.models``) are them as they are. What the values mean is
``trading.risk.lifecycle.MarketStatus`` and the engine's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol


class Listing(Protocol):
    """A listed market with the venue's designations."""

    @property
    def market(self) -> str: ...

    @property
    def warning(self) -> bool:
        """Designated for investment warning."""
        ...

    @property
    def cautions(self) -> tuple[str, ...]:
        """The caution flags set on it."""
        ...


class TickerState(Protocol):
    """A market's lifecycle as its ticker reports it; "" and None when the venue is silent."""

    @property
    def market(self) -> str: ...

    @property
    def market_state(self) -> str:
        """The venue's trading state (Upbit: PREVIEW, ACTIVE, DELISTED)."""
        ...

    @property
    def delisting_date(self) -> date | None: ...


class TickerValue(TickerState, Protocol):
    """``TickerState`` with the 24-hour traded value in the quote currency."""

    @property
    def acc_trade_price_24h(self) -> Decimal: ...
