"""The paper fill model as pure functions: the paper exchange and the backtester both call these.

A taker without an order book trades at the last price moved ``slippage_bps`` against it and
put on the tick grid (worse, never better); a KRW budget buys whole volume steps only; every
fill pays ``funds * fee_rate`` (on top for a buy, out of the proceeds for a sell).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from trading.domain.rules import MarketRules, Rounding

BPS = Decimal(10_000)
ZERO = Decimal(0)


def floor_volume(value: Decimal, step: Decimal) -> Decimal:
    """``value`` down to the venue's volume ``step``: a buy never gets more than its money
    pays for."""
    return value.quantize(step, rounding=ROUND_DOWN)


def slipped_price(
    rules: MarketRules, market: str, last: Decimal, side: str, slippage_bps: Decimal
) -> Decimal:
    """The last price moved against the taker of ``side``, on the tick grid (never better)."""
    if not slippage_bps:
        tick = rules.tick_size(market, last)
        if last > 0 and not last % tick:
            return last.quantize(tick)  # already on the grid: what round_price returns for it
    factor = slippage_bps / BPS
    if side == "bid":
        return rules.round_price(market, last * (1 + factor), Rounding.UP)
    price = last * (1 - factor)
    if price <= 0:
        return last
    return rules.round_price(market, price, Rounding.DOWN)


def budget_volume(budget: Decimal, price: Decimal, step: Decimal) -> Decimal:
    """Volume a KRW ``budget`` buys at ``price``: whole ``step`` units, never more than it
    pays for."""
    return floor_volume(budget / price, step)


def fill_amounts(price: Decimal, volume: Decimal, fee_rate: Decimal) -> tuple[Decimal, Decimal]:
    """``(funds, fee)`` of one execution: ``price * volume`` and ``funds * fee_rate``."""
    funds = price * volume
    return funds, funds * fee_rate
