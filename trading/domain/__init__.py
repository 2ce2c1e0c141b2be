"""Domain values shared by market data, strategies, risk, the paper exchange and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from trading.timeframes import timeframe_seconds

#: The side a taker trades as, in order-book terms: ``bid`` buys (walks the asks), ``ask``
#: sells (walks the bids). Orders say ``trading.domain.orders.Side``.
BookSide = Literal["bid", "ask"]


@dataclass(frozen=True, slots=True)
class Bar:
    """A closed candle. ``start`` is the UTC start of the interval; amounts are exact."""

    market: str
    timeframe: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=timeframe_seconds(self.timeframe))


@dataclass(frozen=True, slots=True)
class TradePrint:
    """One trade on the tape (from the WebSocket, a replay file, or the paper exchange)."""

    market: str
    price: Decimal
    volume: Decimal
    at: datetime
    ask_bid: str = "BID"
    sequential_id: int | None = None


def finite_decimal(text: str) -> Decimal:
    """``text`` as an exact, finite number. The ``ValueError`` says why not ("not a number",
    "not a finite number"); the caller names where the text came from."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value
