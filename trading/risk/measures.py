"""Volatility and order-book measures the risk checks and stops need, in exact Decimal.

ATR here is the simple mean of the last ``period`` true ranges, not Wilder's smoothing: a pure
function of a window of bars, so a backtest and a restarted live engine agree bar for bar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import pairwise

from trading.domain import Bar


def true_ranges(bars: Sequence[Bar]) -> list[Decimal]:
    """True range of each bar; the first one has no previous close, so it is high - low."""
    out: list[Decimal] = []
    prev: Decimal | None = None
    for bar in bars:
        rng = bar.high - bar.low
        if prev is not None:
            rng = max(rng, abs(bar.high - prev), abs(bar.low - prev))
        out.append(rng)
        prev = bar.close
    return out


def atr(bars: Sequence[Bar], period: int) -> Decimal | None:
    """Average true range of the last ``period`` bars; None until there are that many.

    One extra bar before the window, when given, supplies the previous close of the first one.
    """
    window = bars[-(period + 1) :]
    return atr_of(
        [b.high for b in window], [b.low for b in window], [b.close for b in window], period
    )


def atr_of(
    high: Sequence[Decimal], low: Sequence[Decimal], close: Sequence[Decimal], period: int
) -> Decimal | None:
    """``atr`` on columns (oldest first, equal lengths): the backtester's way in, same sums."""
    if len(high) < period:
        return None
    start = max(0, len(high) - (period + 1))
    ranges: list[Decimal] = []
    prev: Decimal | None = None
    for h, lo, c in zip(high[start:], low[start:], close[start:], strict=True):
        rng = h - lo
        if prev is not None:
            rng = max(rng, abs(h - prev), abs(lo - prev))
        ranges.append(rng)
        prev = c
    return sum(ranges[-period:], Decimal(0)) / period


def atr_pct(bars: Sequence[Bar], period: int) -> Decimal | None:
    """ATR as a percentage of the last close."""
    value = atr(bars, period)
    if value is None or bars[-1].close <= 0:
        return None
    return value / bars[-1].close * 100


def realized_vol_pct(bars: Sequence[Bar], period: int) -> Decimal | None:
    """Standard deviation of the last ``period`` close-to-close returns, in percent per bar."""
    if len(bars) < period + 1:
        return None
    closes = [b.close for b in bars[-(period + 1) :]]
    if any(c <= 0 for c in closes):
        return None
    returns = [(b - a) / a for a, b in pairwise(closes)]
    mean = sum(returns, Decimal(0)) / period
    var = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / period
    return var.sqrt() * 100


def fill_price_from_asks(asks: Iterable[tuple[Decimal, Decimal]], krw: Decimal) -> Decimal | None:
    """Average price of a market buy spending ``krw`` by walking ``(price, size)`` asks.

    None when the visible book cannot absorb the order (Upbit refuses market orders that
    would walk past the 30 visible levels, reference §5.4).
    """
    left, volume = krw, Decimal(0)
    for ask_price, size in asks:
        if ask_price <= 0 or size <= 0:
            continue
        take = min(left, ask_price * size)
        volume += take / ask_price
        left -= take
        if left <= 0:
            return krw / volume
    return None
