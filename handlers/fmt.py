"""Formatting shared by every command: KRW amounts, prices, times in Asia/Seoul, catalogs."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from zoneinfo import ZoneInfo

from handlers.i18n import Catalog

SEOUL = ZoneInfo("Asia/Seoul")


@cache
def catalog(language: str) -> Catalog:
    """The message catalog for ``language`` (loaded once per process)."""
    return Catalog.load(language)


def krw(amount: Decimal | int) -> str:
    """``1,234,567`` (whole won; fees and PnL under 1,000 keep two decimals)."""
    value = Decimal(amount)
    if abs(value) >= 1000 or value == value.to_integral_value():
        return f"{value.quantize(Decimal(1), ROUND_HALF_UP):,}"
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def signed_krw(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + krw(amount)


def price(value: Decimal | None) -> str:
    """A quote price: whole won from 1,000 up (Upbit's ticks), else up to 4 decimals."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value.quantize(Decimal(1), ROUND_HALF_UP):,}"
    return f"{value.quantize(Decimal('0.0001'), ROUND_HALF_UP).normalize():,f}"


def volume(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def pct(value: Decimal, places: str = "0.01") -> str:
    return f"{value.quantize(Decimal(places), ROUND_HALF_UP).normalize():f}"


def when(moment: datetime | None) -> str:
    """``2025-06-19 09:00`` in Asia/Seoul (naive values are taken as UTC, as the store keeps)."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")


def short_when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(SEOUL).strftime("%m-%d %H:%M")


def duration(seconds: float) -> str:
    """``3d 4h``, ``2h 5m``, ``45m``, ``30s``."""
    s = int(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
