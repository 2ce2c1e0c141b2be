"""Tern's order rules as ``trading.domain.rules.MarketRules``: a two-band price grid (1 KRW
under 1,000,000, 1,000 KRW from there), volumes in steps of 0.000001, at least 10,000 KRW
an order and no cap. Deliberately unlike Upbit's, so a test that passes does not pass by
borrowing Upbit's numbers."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from trading.domain.orders import OrderType, SubmitOrder
from trading.domain.rules import Rounding
from trading.errors import BelowMinTotal, InvalidOrder, InvalidPrice

BANDS = ((Decimal(1_000_000), Decimal(1_000)), (Decimal(0), Decimal(1)))  # highest first
STEP = Decimal("0.000001")
MIN_TOTAL = Decimal(10_000)
_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.UP: ROUND_CEILING,
    Rounding.NEAREST: ROUND_HALF_EVEN,
}


class TernRules:
    @property
    def volume_step(self) -> Decimal:
        return STEP

    def tick_size(self, market: str, price: Decimal) -> Decimal:
        return next(tick for lower, tick in BANDS if price >= lower)

    def tick_bands(self, market: str) -> tuple[tuple[Decimal, Decimal], ...]:
        return BANDS

    def round_price(self, market: str, price: Decimal, rounding: Rounding) -> Decimal:
        if price <= 0:
            raise InvalidPrice(f"price must be positive, got {price}", name="client_invalid_price")
        tick = self.tick_size(market, price)
        return (price / tick).to_integral_value(_ROUNDING[rounding]) * tick

    def min_total(self, market: str) -> Decimal:
        return MIN_TOTAL

    def max_total(self, market: str) -> Decimal | None:
        return None

    def check_submit(self, order: SubmitOrder, *, reference_price: Decimal | None = None) -> None:
        """Tern's refusals, raised before sending (no ``status``: nothing left the process)."""
        if order.type is OrderType.BEST:
            raise InvalidOrder("Tern has no best-price orders", name="client_unsupported_kind")
        if order.volume is not None and order.volume % STEP:
            raise InvalidOrder(
                f"volume {order.volume} is off Tern's step", name="client_volume_step"
            )
        if order.type is OrderType.LIMIT:
            if order.price is None or order.volume is None:
                raise InvalidOrder(
                    "a limit order needs price and volume", name="client_limit_shape"
                )
            if order.price % self.tick_size(order.market, order.price):
                raise InvalidPrice(
                    f"price {order.price} is off Tern's grid", name="client_off_grid"
                )
            total: Decimal | None = order.price * order.volume
        elif order.is_budget:
            total = order.funds
        else:
            total = None if reference_price is None else reference_price * (order.volume or 0)
        if total is not None and total < MIN_TOTAL:
            raise BelowMinTotal(
                f"{total} is under Tern's {MIN_TOTAL} minimum", name="client_min_total"
            )
