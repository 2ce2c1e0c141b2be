"""What Upbit's /v1/orderbook/instruments answer is still good for: a check of the tick table.

The instruments answer is one ``tick_size`` per market, valid at the price the market had
when Upbit answered; it says nothing about the other bands, and whether Upbit re-evaluates it
as the price moves is unconfirmed (reference §4.6). So it never replaces the band table
(``market_rules``), which gives the tick at the price of each order. It is compared with the
table at the market's price of the moment, and where the two disagree (a per-pair exception
such as USDT/KRW's 0.5 KRW tick in 2025, or a table change we have not caught up with):

- the disagreement is reported (``bot/app.py`` logs it at start), and
- inside that band only, prices go on a grid both answers accept: the least common multiple
  of the two ticks (Upbit's 0.5 against the table's 1 keeps 1; Upbit's 10 against 1 gives 10).
  Whichever side is right, such a price is not refused for its tick.

This applies to every quote currency: KRW and USDT markets have band tables, BTC markets one
tick for all prices; a market with no price known is not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from trading.upbit.market_rules import UpbitMarketRules, band
from trading.upbit.models import Instrument


@dataclass(frozen=True, slots=True)
class TickDisagreement:
    """Upbit's tick for ``market`` at ``price`` is not the table's; ``used`` applies from
    ``band_lower`` up to the next band of the table."""

    market: str
    price: Decimal
    band_lower: Decimal
    table: Decimal
    upbit: Decimal
    used: Decimal

    def describe(self) -> str:
        return (
            f"{self.market}: Upbit's tick at {self.price:,f} is {self.upbit:f}, the table says"
            f" {self.table:f}; prices from {self.band_lower:,f} up to the next band use"
            f" {self.used:f}"
        )


def common_tick(a: Decimal, b: Decimal) -> Decimal:
    """The least common multiple of two ticks: a price on it is on both grids."""
    exponent = min(a.as_tuple().exponent, b.as_tuple().exponent, 0)
    assert isinstance(exponent, int)
    scale = Decimal(10) ** -exponent
    x, y = int(a * scale), int(b * scale)
    g, r = x, y
    while r:
        g, r = r, g % r
    return (Decimal(x * y // g) / scale).normalize()


def check_instruments(
    rules: UpbitMarketRules, instruments: Iterable[Instrument], prices: Mapping[str, Decimal]
) -> tuple[UpbitMarketRules, list[TickDisagreement]]:
    """``rules`` with the bands where Upbit disagrees with the table narrowed to a common grid
    (and earlier exceptions of bands where it now agrees dropped), plus the disagreements."""
    band_ticks = {m: dict(ticks) for m, ticks in rules.band_ticks.items()}
    found: list[TickDisagreement] = []
    for item in instruments:
        price = prices.get(item.market)
        if price is None or price <= 0 or item.tick_size <= 0:
            continue
        lower, table = band(item.market, price)
        ticks = band_ticks.setdefault(item.market, {})
        if item.tick_size == table:
            ticks.pop(lower, None)
            continue
        used = common_tick(table, item.tick_size)
        if used == table:
            ticks.pop(lower, None)  # Upbit's grid is finer: the table's prices suit both
        else:
            ticks[lower] = used
        found.append(TickDisagreement(item.market, price, lower, table, item.tick_size, used))
    kept = {m: ticks for m, ticks in band_ticks.items() if ticks}
    return UpbitMarketRules(kept), found
