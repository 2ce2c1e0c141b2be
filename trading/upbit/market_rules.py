"""Upbit's order rules, applied before an order leaves the process.

An order that Upbit would refuse for its price grid, its minimum or maximum total or its
parameter combination is refused here, with the same exception the exchange would raise, so
nothing is sent (and no identifier is burnt) for an order that cannot succeed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from trading.domain.orders import SubmitOrder
from trading.domain.rules import Rounding
from trading.errors import BelowMinTotal, InvalidOrder, InvalidPrice
from trading.upbit.mapping import UPBIT_SIDE, upbit_ord_type

#: KRW market tick table in force since 2025-07-31 (reference §9.1): (lower bound, tick),
#: one row per band as Upbit publishes it, even where two neighbours share a tick: Upbit's
#: per-pair exceptions are announced per band (``tick_check`` keeps them to theirs).
KRW_TICKS: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(lo), Decimal(tick))
    for lo, tick in (
        ("2000000", "1000"),
        ("1000000", "1000"),
        ("500000", "500"),
        ("100000", "100"),
        ("50000", "50"),
        ("10000", "10"),
        ("5000", "5"),
        ("1000", "1"),
        ("100", "1"),
        ("10", "0.1"),
        ("1", "0.01"),
        ("0.1", "0.001"),
        ("0.01", "0.0001"),
        ("0.001", "0.00001"),
        ("0.0001", "0.000001"),
        ("0.00001", "0.0000001"),
        ("0", "0.00000001"),
    )
)
USDT_TICKS: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(lo), Decimal(tick))
    for lo, tick in (
        ("10", "0.01"),
        ("1", "0.001"),
        ("0.1", "0.0001"),
        ("0.01", "0.00001"),
        ("0.001", "0.000001"),
        ("0.0001", "0.0000001"),
        ("0", "0.00000001"),
    )
)
BTC_TICK = Decimal("0.00000001")
BTC_TICKS: tuple[tuple[Decimal, Decimal], ...] = ((Decimal(0), BTC_TICK),)
VOLUME_STEP = Decimal("0.00000001")
MIN_TOTAL = {"KRW": Decimal(5000), "BTC": Decimal("0.00005"), "USDT": Decimal("0.5")}
MAX_TOTAL_KRW = Decimal(1_000_000_000)


def tick_table(market: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """The band table of the market's quote currency: (lower bound, tick), highest first."""
    quote = quote_currency(market)
    if quote == "BTC":
        return BTC_TICKS
    return USDT_TICKS if quote == "USDT" else KRW_TICKS


def band(market: str, price: Decimal) -> tuple[Decimal, Decimal]:
    """``(lower bound, tick)`` of the table band ``price`` is in (the last row's lower bound
    is 0, so a positive price always has one)."""
    table = tick_table(market)
    for row in table:
        if price >= row[0]:
            return row
    return table[-1]


@dataclass(frozen=True, slots=True)
class UpbitMarketRules:
    """Upbit's tick sizes and limits: ``trading.domain.rules.MarketRules`` for Upbit.

    The tick of a price is the one of the band that price is in, looked up when the order is
    built: Upbit's KRW tick changes with the price (99,950 KRW is on the 50 KRW grid, 100,100
    on the 100 KRW grid), so a tick fetched once per market goes stale as soon as the coin
    crosses a band, and Upbit refuses the off-grid price. ``band_ticks`` (market -> band lower
    bound -> tick) holds the few bands where Upbit's own answer (/v1/orderbook/instruments,
    see ``tick_check``) disagreed with the table; each applies inside its band only.
    """

    band_ticks: Mapping[str, Mapping[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def volume_step(self) -> Decimal:
        """The smallest volume increment (Upbit: 8 decimals), for callers that only hold the
        rules of the exchange they trade on."""
        return VOLUME_STEP

    def tick_size(self, market: str, price: Decimal) -> Decimal:
        lower, tick = band(market, price)
        if self.band_ticks:
            exceptions = self.band_ticks.get(market)
            if exceptions:
                return exceptions.get(lower, tick)
        return tick

    def tick_bands(self, market: str) -> tuple[tuple[Decimal, Decimal], ...]:
        """``market``'s (lower bound, tick) rows, highest first: ``tick_size`` as a table,
        for code that looks ticks up for many prices at once (the backtester)."""
        table = tick_table(market)
        exceptions = self.band_ticks.get(market) if self.band_ticks else None
        if not exceptions:
            return table
        return tuple((lower, exceptions.get(lower, tick)) for lower, tick in table)

    def round_price(self, market: str, price: Decimal, rounding: Rounding) -> Decimal:
        if price <= 0:
            raise InvalidPrice(f"price must be positive, got {price}", name="client_invalid_price")
        tick = self.tick_size(market, price)
        mode = {Rounding.DOWN: ROUND_FLOOR, Rounding.UP: ROUND_CEILING}.get(rounding)
        steps = (price / tick).to_integral_value(mode or "ROUND_HALF_EVEN")
        rounded = steps * tick
        # crossing a band boundary can change the tick; one more pass settles it
        tick2 = self.tick_size(market, rounded)
        if tick2 != tick:
            rounded = (rounded / tick2).to_integral_value(mode or "ROUND_HALF_EVEN") * tick2
        return rounded.quantize(min(tick, tick2)) if rounded else tick

    def round_for_side(self, market: str, price: Decimal, side: str) -> Decimal:
        """The default for limit orders: a buy never pays more, a sell never gets less."""
        return self.round_price(market, price, Rounding.DOWN if side == "bid" else Rounding.UP)

    def is_on_grid(self, market: str, price: Decimal) -> bool:
        return price > 0 and price % self.tick_size(market, price) == 0

    def min_total(self, market: str) -> Decimal:
        return MIN_TOTAL.get(quote_currency(market), Decimal(0))

    def max_total(self, market: str) -> Decimal | None:
        """Upbit caps KRW orders at 1,000,000,000 KRW; other quotes have no cap here."""
        return MAX_TOTAL_KRW if quote_currency(market) == "KRW" else None

    def check_submit(self, order: SubmitOrder, *, reference_price: Decimal | None = None) -> None:
        """``check_order`` of a neutral order: what the paper exchange checks, as Upbit
        would; ``reference_price`` values a market sell."""
        self.check_order(
            market=order.market,
            side=UPBIT_SIDE[order.side],
            ord_type=upbit_ord_type(order.side, order.type),
            price=order.funds if order.is_budget else order.price,
            volume=None if order.is_budget else order.volume,
            time_in_force=order.time_in_force,
            reference_price=reference_price,
        )

    def check_order(
        self,
        *,
        market: str,
        side: str,
        ord_type: str,
        price: Decimal | None,
        volume: Decimal | None,
        time_in_force: str | None,
        reference_price: Decimal | None = None,
    ) -> None:
        """Raise the error Upbit would answer with; ``reference_price`` values a market sell."""
        check_shape(side=side, ord_type=ord_type, price=price, volume=volume, tif=time_in_force)
        suffix = "bid" if side == "bid" else "ask"
        if volume is not None and volume != volume.quantize(VOLUME_STEP, ROUND_DOWN):
            raise InvalidOrder(
                f"volume {volume} has more than 8 decimals", name="client_volume_precision"
            )
        if ord_type == "limit":
            assert price is not None
            assert volume is not None
            if not self.is_on_grid(market, price):
                tick = self.tick_size(market, price)
                raise InvalidPrice(
                    f"price {price} is not a multiple of the {market} tick {tick}",
                    name=f"invalid_price_{suffix}",
                )
            total: Decimal | None = price * volume
        elif ord_type in ("price", "best") and side == "bid":
            total = price
        else:
            total = volume * reference_price if volume and reference_price else None
        minimum = self.min_total(market)
        if total is not None and total < minimum:
            raise BelowMinTotal(
                f"order total {total.normalize():f} is below the {market} minimum of {minimum}",
                name=f"under_min_total_{suffix}",
            )
        maximum = self.max_total(market)
        if maximum is not None and total is not None and total > maximum:
            raise InvalidOrder(
                f"order total {total.normalize():f} KRW is above the maximum {maximum}",
                name=f"over_krw_funds_{suffix}",
            )


def quote_currency(market: str) -> str:
    quote, sep, base = market.partition("-")
    if not sep or not quote or not base:
        raise InvalidOrder(f"market code {market!r} must look like KRW-BTC", name="notfoundmarket")
    return quote


def check_shape(
    *, side: str, ord_type: str, price: Decimal | None, volume: Decimal | None, tif: str | None
) -> None:
    """The parameter matrix of reference §5.4."""
    if side not in ("bid", "ask"):
        raise InvalidOrder(f"side must be bid or ask, got {side!r}", name="validation_error")
    err = f"create_{side}_error"
    for label, value in (("price", price), ("volume", volume)):
        if value is not None and value <= 0:
            raise InvalidOrder(f"{label} must be positive, got {value}", name="validation_error")
    if ord_type == "limit":
        if price is None or volume is None:
            raise InvalidOrder("a limit order needs both price and volume", name=err)
        if tif not in (None, "ioc", "fok", "post_only"):
            raise InvalidOrder(f"time_in_force {tif!r} not allowed", name="invalid_time_in_force")
    elif ord_type == "price":
        if side != "bid" or price is None or volume is not None:
            raise InvalidOrder("a market buy (price) takes a KRW total and no volume", name=err)
    elif ord_type == "market":
        if side != "ask" or volume is None or price is not None:
            raise InvalidOrder("a market sell takes a volume and no price", name=err)
    elif ord_type == "best":
        if tif not in ("ioc", "fok"):
            raise InvalidOrder(
                "a best order needs time_in_force ioc or fok", name="invalid_time_in_force"
            )
        if side == "bid" and (price is None or volume is not None):
            raise InvalidOrder("a best buy takes a KRW total and no volume", name=err)
        if side == "ask" and (volume is None or price is not None):
            raise InvalidOrder("a best sell takes a volume and no price", name=err)
    else:
        raise InvalidOrder(f"unknown ord_type {ord_type!r}", name="validation_error")
    if tif is not None and ord_type in ("price", "market"):
        raise InvalidOrder(
            f"time_in_force is not allowed for {ord_type}", name="invalid_time_in_force"
        )
