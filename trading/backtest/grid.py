"""``MarketRules.round_price`` for one market's fills in a backtest, with its tick band kept.

A market's fill prices move little from one fill to the next, so they share a tick band:
rounding one needs no look-up of the band table (``round_price`` looks it up twice per
price, which cost a backtest with slippage more than the rest of its fill arithmetic). A
price whose rounding would leave the band takes ``round_price`` itself.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from trading.domain.rules import MarketRules, Rounding
from trading.paper.fill_model import BPS
from trading.risk.stops import band_of

_MODES = {Rounding.UP: ROUND_CEILING, Rounding.DOWN: ROUND_FLOOR}  # others: round_price


class TickGrid:
    """The tick grid of ``market``, as ``rules`` define it, with the last band used."""

    __slots__ = ("_band", "market", "rules")

    def __init__(self, rules: MarketRules, market: str) -> None:
        self.rules = rules
        self.market = market
        self._band: tuple[Decimal, Decimal, Decimal] | None = None  # lower, upper, tick

    def round(self, price: Decimal, rounding: Rounding) -> Decimal:
        """``rules.round_price(market, price, rounding)``."""
        mode = _MODES.get(rounding)
        if price > 0 and mode is not None:
            band = self._band
            if band is None or not band[0] <= price < band[1]:
                band = self._band = band_of(self.rules.tick_bands(self.market), price)
            lower, upper, tick = band
            rounded = (price / tick).to_integral_value(mode) * tick
            if rounded and lower <= rounded < upper:  # the same band: its tick again
                return rounded.quantize(tick)
        return self.rules.round_price(self.market, price, rounding)

    def slipped(self, last: Decimal, side: str, slippage_bps: Decimal) -> Decimal:
        """``fill_model.slipped_price`` for a non-zero ``slippage_bps``."""
        factor = slippage_bps / BPS
        if side == "bid":
            return self.round(last * (1 + factor), Rounding.UP)
        price = last * (1 - factor)
        if price <= 0:
            return last
        return self.round(price, Rounding.DOWN)
