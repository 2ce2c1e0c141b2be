"""The exchange interface the engine trades through: a venue adapter (``trading/upbit/``) or the
paper exchange. It speaks the neutral order model (``trading.domain.orders``); how a venue
spells an order on the wire is the adapter's business.

``OrderSubmitter`` and ``OrderReplacer`` (``trading/orders/``) add idempotent retries and safe
re-pricing on top of it, the same on every implementation.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from trading.domain.balance import Balance
from trading.domain.orders import OrderReport, SubmitOrder
from trading.domain.rules import MarketRules


class Exchange(Protocol):
    @property
    def rules(self) -> MarketRules:
        """The venue's price grid, volume step and order-total limits."""
        ...

    def check(self, order: SubmitOrder) -> None:
        """Raise the venue's refusal (``trading.errors.ValidationError`` and kin) for an order
        it would refuse; nothing is sent or written."""

    async def submit(self, order: SubmitOrder, identifier: str) -> OrderReport:
        """Place ``order`` under the client identifier ``identifier`` exactly once (never
        retried here: the identifier is used up even by a failed request). Answers with the
        acknowledgement; fills come later."""
        ...

    async def fetch_order(
        self, *, order_id: str | None = None, identifier: str | None = None
    ) -> OrderReport:
        """The order now, with its fills; ``trading.errors.NotFound`` when there is none."""
        ...

    async def cancel(self, order_id: str) -> OrderReport:
        """Ask for a cancel. The answer may still show the order open: a cancel completes
        asynchronously on a real venue; ``NotFound`` when it is no longer open."""
        ...

    async def list_open(self, market: str | None = None) -> list[OrderReport]: ...

    async def accounts(self) -> list[Balance]: ...


@runtime_checkable
class CancelAndNew(Protocol):
    """An exchange with an atomic cancel-and-new (Upbit's reference §5.14): the new order
    exists only once the old one is cancelled, sized by what the old one had left, so the two
    can never both fill. Both the live client and the paper exchange have it;
    ``OrderReplacer`` falls back to cancel, confirm, then place on an exchange without it."""

    def check_replace(self, prev_order_id: str, order: SubmitOrder) -> None:
        """Raise the venue's refusal of the replacement ``order`` (a limit order)."""

    async def replace_order(self, prev_order_id: str, order: SubmitOrder, identifier: str) -> None:
        """Send the cancel-and-new once; the caller looks the outcome up."""
