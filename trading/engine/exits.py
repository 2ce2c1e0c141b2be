"""What an exit sells: one pure decision, used by ``/sell``'s preview and by the engine, so
what chat promises and the order that leaves cannot disagree.

Upbit refuses an order worth less than its minimum total (5,000 KRW). So:

- a partial sell that would leave less than the minimum sells everything instead (``grown``);
- an exit of the whole position sells the dust along (position volume + dust);
- a partial sell below the minimum on its own takes the dust along when that makes it
  sellable;
- what is still below the minimum is not sent: ``blocked`` says why (``dust``: the whole
  holding is worth less than the minimum, the engine sets it aside; ``below_min``: the part
  asked for is; ``nothing``: no volume).

Without a price nothing can be valued: the plan sells what was asked (plus the dust on a
whole exit) and leaves the minimum to the order checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from trading.positions import Position

ZERO = Decimal(0)
Blocked = Literal["dust", "below_min", "nothing"]


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """``volume`` is the order's volume (0: no order), ``dust`` the part of it that is dust."""

    volume: Decimal
    dust: Decimal
    wanted: Decimal  # what was asked for, at most the position
    price: Decimal | None
    minimum: Decimal
    whole: bool  # sells the whole position
    grown: bool  # a part was asked for; the rest would have been worth less than the minimum
    blocked: Blocked | None = None
    rest: Decimal = ZERO  # grown: the holding the part asked for would have left

    @property
    def rest_value(self) -> Decimal | None:
        return None if self.price is None else self.rest * self.price

    @property
    def value(self) -> Decimal | None:
        """What the order (or, blocked, what was asked for) is worth at ``price``."""
        if self.price is None:
            return None
        return (self.volume or self.wanted + self.dust) * self.price


def plan_exit(
    position: Position,
    wanted: Decimal | None,
    price: Decimal | None,
    minimum: Decimal,
    step: Decimal,
) -> ExitPlan:
    """The order that sells ``wanted`` of ``position`` (None: all of it) at about ``price``,
    given the exchange's ``minimum`` order total and volume ``step``."""
    held = position.volume
    want = held if wanted is None else max(ZERO, min(wanted, held))
    want = want.quantize(step, ROUND_DOWN)
    dust = position.dust
    if not want:
        return ExitPlan(ZERO, ZERO, ZERO, price, minimum, False, False, "nothing")
    if price is None:
        whole = want == held
        along = dust if whole else ZERO
        return ExitPlan(want + along, along, want, price, minimum, whole, False)

    def worth(volume: Decimal) -> Decimal:
        return volume * price

    grown = False
    along = rest = ZERO
    if want < held:
        if worth(want) < minimum <= worth(want + dust):
            along = dust  # the dust makes a small part sellable
        left = held - want + dust - along
        if left and worth(left) < minimum:
            want, grown, rest = held, True, left  # the rest would be stuck: sell it all
    whole = want == held
    if whole:
        along = dust
    volume = want + along
    if worth(volume) < minimum:  # whole: the holding itself is too small, it is dust
        blocked: Blocked = "dust" if whole else "below_min"
        return ExitPlan(ZERO, along, want, price, minimum, whole, grown, blocked, rest)
    return ExitPlan(volume, along, want, price, minimum, whole, grown, None, rest)
