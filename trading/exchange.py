"""The exchange interface the engine trades through: live Upbit or the paper exchange.

It is the part of ``UpbitRestClient`` that order execution needs, so the paper exchange can
stand in for it and ``OrderSubmitter`` works unchanged on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from trading.upbit.market_rules import MarketRules
from trading.upbit.models import Account, CancelAndNewResult, Order, Orderbook

Side = Literal["bid", "ask"]
OrdType = Literal["limit", "price", "market", "best"]


class Exchange(Protocol):
    rules: MarketRules

    def order_body(
        self,
        *,
        market: str,
        side: Side,
        ord_type: OrdType,
        identifier: str,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        time_in_force: str | None = None,
        smp_type: str | None = None,
        reference_price: Decimal | None = None,
    ) -> dict[str, str]: ...

    async def create_order(self, body: dict[str, str], *, test: bool = False) -> Order: ...

    async def get_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> Order: ...

    async def cancel_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> Order: ...

    async def open_orders(
        self,
        *,
        market: str | None = None,
        states: Sequence[str] = ("wait",),
        page: int = 1,
        limit: int = 100,
        order_by: str = "desc",
    ) -> list[Order]: ...

    async def accounts(self) -> list[Account]: ...

    async def orderbook(self, markets: Sequence[str], *, count: int = 30) -> list[Orderbook]: ...


@runtime_checkable
class CancelAndNew(Protocol):
    """An exchange with Upbit's atomic cancel-and-new (reference §5.14): the new order exists
    only once the old one is cancelled, so the two can never both fill. Both the live client
    and the paper exchange have it; ``OrderManager.replace`` falls back to cancel, confirm,
    then place on an exchange without it."""

    def cancel_and_new_body(
        self,
        *,
        prev_uuid: str,
        market: str,
        side: Side,
        new_identifier: str,
        price: Decimal,
        volume: Decimal,
        time_in_force: str | None = None,
        smp_type: str | None = None,
    ) -> dict[str, str]: ...

    async def cancel_and_new(self, body: dict[str, str]) -> CancelAndNewResult: ...
