"""Paper balances: free and locked per currency, and the average buy price of each asset.

Every movement goes through ``move``, which refuses to take a balance below zero: a bug in the
paper engine must fail loudly instead of quietly minting or losing money.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trading.domain.balance import Balance

ZERO = Decimal(0)


class Ledger:
    def __init__(self) -> None:
        self.free: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self.avg_buy_price: dict[str, Decimal] = {}
        #: fees charged so far, per quote currency (never shrinks; reports and invariants)
        self.fees_paid: dict[str, Decimal] = {}

    def total(self, currency: str) -> Decimal:
        return self.free.get(currency, ZERO) + self.locked.get(currency, ZERO)

    def move(self, currency: str, *, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        new_free = self.free.get(currency, ZERO) + free
        new_locked = self.locked.get(currency, ZERO) + locked
        if new_free < 0 or new_locked < 0:
            raise RuntimeError(
                f"paper ledger bug: {currency} would go negative "
                f"(free {new_free}, locked {new_locked})"
            )
        self.free[currency] = new_free
        self.locked[currency] = new_locked

    def bought(self, currency: str, volume: Decimal, funds: Decimal) -> None:
        """Credit a buy and fold its cost into the average buy price (fees excluded, as Upbit)."""
        held = self.total(currency)
        old = self.avg_buy_price.get(currency, ZERO)
        self.move(currency, free=volume)
        self.avg_buy_price[currency] = (old * held + funds) / (held + volume)

    def sold(self, currency: str) -> None:
        if self.total(currency) == 0:
            self.avg_buy_price[currency] = ZERO

    def charge_fee(self, currency: str, fee: Decimal) -> None:
        self.fees_paid[currency] = self.fees_paid.get(currency, ZERO) + fee

    def accounts(self) -> list[Balance]:
        """As a venue reports them: KRW always, other assets only while something is held."""
        currencies = sorted(set(self.free) | set(self.locked), key=lambda c: (c != "KRW", c)) or [
            "KRW"
        ]
        return [
            Balance(
                currency=c,
                free=self.free.get(c, ZERO),
                locked=self.locked.get(c, ZERO),
                avg_buy_price=self.avg_buy_price.get(c, ZERO),
            )
            for c in currencies
            if c == "KRW" or self.total(c) != 0
        ]

    def to_json(self) -> dict[str, Any]:
        currencies = sorted(set(self.free) | set(self.locked) | set(self.avg_buy_price))
        return {
            "balances": {
                c: {
                    "free": str(self.free.get(c, ZERO)),
                    "locked": str(self.locked.get(c, ZERO)),
                    "avg_buy_price": str(self.avg_buy_price.get(c, ZERO)),
                }
                for c in currencies
            },
            "fees_paid": {c: str(v) for c, v in self.fees_paid.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        ledger = cls()
        for currency, row in data.get("balances", {}).items():
            ledger.free[currency] = Decimal(row["free"])
            ledger.locked[currency] = Decimal(row["locked"])
            ledger.avg_buy_price[currency] = Decimal(row["avg_buy_price"])
        ledger.fees_paid = {c: Decimal(v) for c, v in data.get("fees_paid", {}).items()}
        return ledger
