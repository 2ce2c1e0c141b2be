"""Per-order entry checks: small pure functions of the request, the account and the limits.

Each returns ``Approved`` or ``Denied(check, reason)``; the reason is the sentence a user reads
in chat, with the numbers. They only ever guard entries (buys): exits go through regardless.
The stateful halts (schedule, volatility, daily loss, drawdown) are in ``breakers``.
"""

from __future__ import annotations

from decimal import Decimal

from trading.domain.rules import MarketRules, Rounding
from trading.risk.decision import APPROVED, Approved, Decision, Denied, krw, pct, price
from trading.risk.limits import RiskLimits
from trading.risk.settings import MAX_ORDER_KRW

BPS = Decimal(10000)


def check_kill_switch(kill_switch: bool) -> Decision:
    if kill_switch:
        return Denied(
            "kill_switch",
            "the kill switch is on: no new entries until it is reset",
            code="kill_switch",
        )
    return APPROVED


def check_paused(paused: bool) -> Decision:
    if paused:
        return Denied(
            "paused", "trading is paused: no new entries until it is resumed", code="paused"
        )
    return APPROVED


def check_open_positions(open_positions: int, limits: RiskLimits) -> Decision:
    limit = limits.max_open_positions
    if open_positions >= limit:
        return Denied(
            "max_positions",
            f"{open_positions} of {limit} positions are open; close one before entering another",
            code="max_positions",
            values=(("open", str(open_positions)), ("limit", str(limit))),
        )
    return APPROVED


def check_position_size(
    size_krw: Decimal, limits: RiskLimits, max_krw: Decimal | None = None
) -> Decision:
    """At most the position size (or an admin's manual limit, ``max_krw``), and within
    Upbit's window: it refuses totals under 5,000 KRW (``under_min_total_bid``) or over
    1,000,000,000."""
    cap = limits.position_size_krw if max_krw is None else max_krw
    if size_krw > cap:
        manual = max_krw is not None and max_krw != limits.position_size_krw
        what = "the manual buy limit" if manual else "the position size"
        return Denied(
            "position_size",
            f"a {krw(size_krw)} KRW buy is above {what} of {krw(cap)} KRW",
            code="size_above_manual" if manual else "size_above_limit",
            values=(("size", krw(size_krw)), ("limit", krw(cap))),
        )
    if size_krw < limits.min_order_krw:
        return Denied(
            "position_size",
            f"position size {krw(size_krw)} KRW is below Upbit's minimum order of"
            f" {krw(limits.min_order_krw)} KRW",
            code="size_below_min",
            values=(("size", krw(size_krw)), ("min", krw(limits.min_order_krw))),
        )
    if size_krw > MAX_ORDER_KRW:
        return Denied(
            "position_size",
            f"position size {krw(size_krw)} KRW is above Upbit's maximum order of"
            f" {krw(MAX_ORDER_KRW)} KRW",
            code="size_above_max",
            values=(("size", krw(size_krw)), ("max", krw(MAX_ORDER_KRW))),
        )
    return APPROVED


def required_krw(size_krw: Decimal, limits: RiskLimits) -> Decimal:
    """KRW a buy locks: Upbit charges the buy fee on top of the notional (reference §9.4)."""
    return size_krw * (1 + limits.fee_rate)


def check_balance(size_krw: Decimal, free_krw: Decimal, limits: RiskLimits) -> Decision:
    need = required_krw(size_krw, limits)
    if need > free_krw:
        return Denied(
            "balance",
            f"a {krw(size_krw)} KRW entry needs {krw(need)} KRW with the"
            f" {pct(limits.fee_rate * 100, '0.0001')}% fee but only {krw(free_krw)} KRW is free",
            code="balance",
            values=(
                ("size", krw(size_krw)),
                ("need", krw(need)),
                ("fee", pct(limits.fee_rate * 100, "0.0001")),
                ("free", krw(free_krw)),
            ),
        )
    return APPROVED


def slippage_bps(signal_price: Decimal, fill_price: Decimal) -> Decimal:
    """How much worse than the signal a buy fills, in basis points (negative = better)."""
    return (fill_price - signal_price) / signal_price * BPS


def worst_acceptable_price(
    market: str, signal_price: Decimal, limits: RiskLimits, rules: MarketRules
) -> Decimal:
    """The highest buy price within the slippage limit, rounded down onto the tick grid."""
    worst = signal_price * (1 + Decimal(limits.max_slippage_bps) / BPS)
    return rules.round_price(market, worst, Rounding.DOWN)


def check_slippage(
    *,
    market: str,
    signal_price: Decimal,
    size_krw: Decimal,
    expected_fill: Decimal | None,
    limits: RiskLimits,
    rules: MarketRules,
) -> Decision:
    """Compare the order book's expected fill with the signal price.

    Over the limit, ``"refuse"`` denies; ``"limit"`` approves with ``limit_price`` set, so the
    engine places a limit buy that cannot fill worse than the limit (it may not fill at all).
    """
    if expected_fill is None:
        return Denied(
            "slippage",
            f"the {market} order book is too thin to fill {krw(size_krw)} KRW at a known price",
            code="book_too_thin",
            values=(("market", market), ("size", krw(size_krw))),
        )
    bps = slippage_bps(signal_price, expected_fill)
    limit = limits.max_slippage_bps
    if bps <= limit:
        return APPROVED
    over = (
        f"expected fill {price(expected_fill)} KRW is {pct(bps, '0.1')} bps above the signal"
        f" price {price(signal_price)} KRW"
    )
    if limits.slippage_mode == "refuse":
        return Denied(
            "slippage",
            f"{over}; the limit is {limit} bps",
            code="slippage",
            values=(
                ("fill", price(expected_fill)),
                ("bps", pct(bps, "0.1")),
                ("signal", price(signal_price)),
                ("limit", str(limit)),
            ),
        )
    worst = worst_acceptable_price(market, signal_price, limits, rules)
    return Approved(
        limit_price=worst,
        note=f"{over}, over the {limit} bps limit: placing a limit buy at {price(worst)} KRW",
    )
