"""What can happen to a position: the inputs of ``apply``.

Fills carry the exchange's ``at`` so the exit candle and ``opened_at`` come from the fill, not
from a clock read inside the pure state machine. ``BarClosed`` and ``MoveStop`` are named
apart from the bus events ``CandleClosed`` and ``StopMoved`` so both import side by side.
``intent_id`` on a fill or failure is optional; when given it must be the order in flight,
which catches a stray report early.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trading.positions.model import ExitReason


@dataclass(frozen=True, slots=True)
class EntrySubmitted:
    intent_id: str
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """A fill of the order in flight, entry or exit; ``complete``: the order has nothing left
    to fill. Only its two kinds below are triggers."""

    volume: Decimal
    price: Decimal
    fee: Decimal
    complete: bool
    at: datetime
    intent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The order in flight ended (cancelled, rejected, expired) after the fills already
    applied. Only its two kinds below are triggers."""

    reason: str
    intent_id: str | None = None


@dataclass(frozen=True, slots=True)
class EntryFilled(Fill):
    """A fill of the entry order."""


@dataclass(frozen=True, slots=True)
class EntryFailed(Failure):
    """The entry order ended."""


@dataclass(frozen=True, slots=True)
class ExitSubmitted:
    """``dust``: how much of the dust this exit sells along with the position; it joins the
    position (volume and cost) as the order goes out, so the fills reduce one volume."""

    intent_id: str
    reason: ExitReason
    dust: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ExitFilled(Fill):
    """A fill of the exit order."""


@dataclass(frozen=True, slots=True)
class ExitFailed(Failure):
    """The exit order ended."""


@dataclass(frozen=True, slots=True)
class BarClosed:
    """The candle starting at ``bar_start`` closed; counts a cooldown down."""

    bar_start: datetime


@dataclass(frozen=True, slots=True)
class MoveStop:
    """A request to move the stop; a looser (lower) stop than the current one is ignored.

    ``trailing``: the trailing rule moved it; ``high_water``: the highest close it trails
    from (kept even when the stop itself does not move, e.g. the trailing offset reached);
    ``atr_pending``: the stop is still the fallback the ATR stop is to take over from (kept
    even when the stop does not move; None: unchanged)."""

    price: Decimal
    trailing: bool = False
    high_water: Decimal | None = None
    atr_pending: bool | None = None


@dataclass(frozen=True, slots=True)
class Adjust:
    """The account holds ``holding`` of the coin, less than the book: the owner sold or
    withdrew some by hand. The book adopts it, dust first; never while an order is in flight."""

    holding: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class SetAside:
    """The long's volume is worth less than the exchange's minimum order: it cannot be sold
    on its own, so it becomes dust, sold with the next exit on the market. After an exit the
    round trip closes as a full exit would (``PositionClosed``, cooldown); else it is flat.
    ``at`` dates the close (market time)."""

    reason: str
    at: datetime | None = None


Trigger = (
    EntrySubmitted
    | EntryFilled
    | EntryFailed
    | ExitSubmitted
    | ExitFilled
    | ExitFailed
    | BarClosed
    | MoveStop
    | Adjust
    | SetAside
)
