"""What an account holds of one currency, as every venue reports it: ``Exchange.accounts()``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """``free`` can be spent or sold, ``locked`` is held by open orders; ``avg_buy_price`` is
    the venue's average cost of the holding (fees excluded), 0 for the quote currency."""

    currency: str
    free: Decimal
    locked: Decimal
    avg_buy_price: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.free + self.locked
