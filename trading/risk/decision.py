"""What a risk check answers, and how numbers read in the sentences users see in chat.

A denial is a value, not an exception (style §2.10): the gate turns it into a ``RiskBreached``
event and the engine simply does not place the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Approved:
    """Go ahead. ``limit_price`` set = place a limit buy at that (on-grid) price instead."""

    limit_price: Decimal | None = None
    note: str = ""
    ok: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Denied:
    """Refused by ``check``; ``reason`` is one English sentence with the numbers (logs).

    ``code`` and ``values`` say the same for translation: chat renders the catalog entry
    ``refusal.<code>`` in the user's language with ``values`` (already formatted numbers).
    """

    check: str
    reason: str
    code: str = field(default="", compare=False)  # the reason again, for translation
    values: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    ok: ClassVar[bool] = False


Decision = Approved | Denied
APPROVED = Approved()


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """One line of ``/risk``: ``text`` like "2 of 3 positions"; ``blocking`` = stops entries."""

    name: str
    text: str
    blocking: bool = False
    code: str = field(default="", compare=False)  # catalog risk_usage.<code>, for chat
    values: tuple[tuple[str, str], ...] = field(default=(), compare=False)


def krw(amount: Decimal) -> str:
    """``3,000``; fractions (fees, PnL) keep two decimals: ``100,050.25``."""
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def price(value: Decimal) -> str:
    """A price as Upbit shows it: ``95,000,000`` or ``0.00123``."""
    return f"{value.normalize():,f}"


def pct(value: Decimal, places: str = "0.01") -> str:
    """``5``, ``4.5``, ``0.05``: a percentage without trailing zeros."""
    return f"{value.quantize(Decimal(places), ROUND_HALF_UP).normalize():f}"


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``2025-06-19 04:10 Asia/Seoul``: halts are announced in the bot's wall-clock time."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone}"


def trading_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar day of ``moment`` in ``zone``; daily loss and drawdown halts reset on it.

    The engine must compute ``day_pnl`` over the same day, so it should use this function.
    """
    return moment.astimezone(zone).date()
