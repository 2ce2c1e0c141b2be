"""A venue's candle as a candle source answers it: what backfill and the history download read.

A protocol, not a class: an adapter's own payload (Upbit's ``trading.upbit.models.Candle``)
is one as it is, so a page of candles is not copied on its way in. The engine's own closed
candle is ``trading.domain.Bar``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol


class BarLike(Protocol):
    """Anything candle-shaped: ``trading.domain.Bar``, ``trading.candle_file.FileCandle``, a
    venue's candle; what a strategy's ``CandleFrame.from_bars`` reads. Amounts are exact."""

    @property
    def start(self) -> datetime: ...

    @property
    def open(self) -> Decimal: ...

    @property
    def high(self) -> Decimal: ...

    @property
    def low(self) -> Decimal: ...

    @property
    def close(self) -> Decimal: ...

    @property
    def volume(self) -> Decimal:
        """Traded volume in the base currency."""
        ...


class Candle(BarLike, Protocol):
    """One closed interval of one market; ``start`` is its start in UTC."""

    @property
    def market(self) -> str: ...

    @property
    def quote_volume(self) -> Decimal:
        """Traded value in the quote currency."""
        ...
