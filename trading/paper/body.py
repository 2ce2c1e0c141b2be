"""Order bodies read back on arrival (they are built by ``trading.upbit.order_body``).

The paper exchange checks a body again when it arrives (a caller may skip ``order_body``), as
Upbit does, so both paths raise the same errors.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from trading.errors import InvalidOrder, ValidationError
from trading.exchange import OrdType, Side
from trading.paper.orders import PaperOrder


@dataclass(frozen=True, slots=True)
class ParsedBody:
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    time_in_force: str | None

    def new_order(self, identifier: str | None, *, seq: int, created_at: datetime) -> PaperOrder:
        """A budget bid (``price``/``best``) has no volume: it spends ``price`` KRW."""
        is_budget = self.side == "bid" and self.ord_type in ("price", "best")
        return PaperOrder(
            uuid=str(uuidlib.uuid4()),
            market=self.market,
            side=cast(Side, self.side),
            ord_type=cast(OrdType, self.ord_type),
            created_at=created_at,
            seq=seq,
            identifier=identifier,
            price=self.price,
            volume=None if is_budget else self.volume,
            remaining_volume=None if is_budget else self.volume,
            time_in_force=self.time_in_force,
        )


def parse_body(body: dict[str, str]) -> ParsedBody:
    try:
        parsed = ParsedBody(
            market=body["market"],
            side=body["side"],
            ord_type=body["ord_type"],
            price=Decimal(body["price"]) if body.get("price") is not None else None,
            volume=Decimal(body["volume"]) if body.get("volume") is not None else None,
            time_in_force=body.get("time_in_force"),
        )
    except (KeyError, InvalidOperation) as exc:
        raise ValidationError(
            f"bad order body: {exc!r}", name="invalid_parameter", status=400
        ) from exc
    if parsed.time_in_force == "post_only" and body.get("smp_type"):
        raise InvalidOrder("post_only cannot go with smp_type", name="invalid_time_in_force")
    for value in (parsed.price, parsed.volume):
        if value is not None and not value.is_finite():
            raise ValidationError(f"bad number {value}", name="invalid_parameter", status=400)
    return parsed


def new_order_body(body: dict[str, str], prev: PaperOrder) -> dict[str, str]:
    """The create-order body of a cancel_and_new request's new order: the old order's market
    and side, the ``new_*`` fields, ``remain_only`` resolved to the old order's remainder."""
    ord_type = body.get("new_ord_type")
    if not ord_type:
        raise ValidationError("new_ord_type is required", name="validation_error", status=400)
    out = {"market": prev.market, "side": prev.side, "ord_type": ord_type}
    volume = body.get("new_volume")
    if volume == "remain_only":
        if not (ord_type == "limit" or (prev.side == "ask" and ord_type in ("market", "best"))):
            raise ValidationError(
                "remain_only is for limit orders, market and best sells only",
                name="validation_error",
                status=400,
            )
        if prev.remaining_volume is None or prev.remaining_volume <= 0:
            raise ValidationError(
                "the old order has nothing left", name="validation_error", status=400
            )
        volume = str(prev.remaining_volume)
    if volume is not None:
        out["volume"] = volume
    for source, target in (
        ("new_price", "price"),
        ("new_time_in_force", "time_in_force"),
        ("new_smp_type", "smp_type"),
    ):
        if body.get(source) is not None:
            out[target] = body[source]
    return out
