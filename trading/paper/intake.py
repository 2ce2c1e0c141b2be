"""New paper orders from neutral commands: a ``SubmitOrder``, or the rest of an open order
re-priced by a cancel-and-new. The exchange's market rules check them first (``exchange.py``),
so paper refuses what the venue would, with the same errors."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime

from trading.domain.orders import OrderType, SubmitOrder
from trading.errors import ValidationError
from trading.paper.orders import PaperOrder


def need_identifier(identifier: str) -> None:
    """The venue refuses an order without a client identifier; so does paper."""
    if not identifier:
        raise ValidationError("every order needs an identifier", name="client_identifier")


def new_order(
    order: SubmitOrder, identifier: str | None, *, seq: int, created_at: datetime
) -> PaperOrder:
    """A budget buy (market or best) has no volume: it spends ``funds``, kept in ``price``."""
    budget = order.is_budget
    return PaperOrder(
        uuid=str(uuidlib.uuid4()),
        market=order.market,
        side=order.side,
        type=order.type,
        created_at=created_at,
        seq=seq,
        identifier=identifier,
        price=order.funds if budget else order.price,
        volume=None if budget else order.volume,
        remaining_volume=None if budget else order.volume,
        time_in_force=order.time_in_force,
    )


def rest_of(order: SubmitOrder, prev: PaperOrder) -> SubmitOrder:
    """A cancel-and-new's new order: a limit at ``order.price`` for what ``prev`` has left
    (Upbit's ``remain_only``), never for the caller's idea of it."""
    if order.type is not OrderType.LIMIT or order.price is None:
        raise ValidationError(
            "a replacement is a limit order", name="validation_error", status=400
        )
    if prev.remaining_volume is None or prev.remaining_volume <= 0:
        raise ValidationError(
            "the old order has nothing left", name="validation_error", status=400
        )
    return SubmitOrder(
        intent_id=order.intent_id,
        market=prev.market,
        side=prev.side,
        type=OrderType.LIMIT,
        price=order.price,
        volume=prev.remaining_volume,
        time_in_force=order.time_in_force,
    )
