"""Fills, whichever way they arrive: the private ``myOrder`` stream, a REST order lookup, or the
paper exchange. One shape, deduplicated downstream by ``trade_uuid``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from trading.upbit.models import Order
from trading.upbit.ws_messages import MyOrder

FEE_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class FillReport:
    trade_uuid: str
    order_uuid: str
    identifier: str | None
    market: str
    side: Literal["bid", "ask"]
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool | None
    at: datetime


def fill_from_my_order(msg: MyOrder) -> FillReport | None:
    """A ``myOrder`` message is a fill only when ``state == "trade"``."""
    if msg.state != "trade" or msg.trade_uuid is None or msg.price is None or msg.volume is None:
        return None
    return FillReport(
        trade_uuid=msg.trade_uuid,
        order_uuid=msg.uuid,
        identifier=msg.identifier,
        market=msg.code,
        side="bid" if msg.ask_bid == "BID" else "ask",
        price=msg.price,
        volume=msg.volume,
        funds=msg.price * msg.volume,
        fee=msg.trade_fee or Decimal(0),
        is_maker=msg.is_maker,
        at=msg.trade_timestamp or msg.timestamp,
    )


def fills_from_order(order: Order) -> list[FillReport]:
    """The trades of a ``GET /v1/order`` answer. REST gives only the order's total fee, so it
    is shared out by funds (the last trade takes the rounding remainder): the sum is exact."""
    trades = list(order.trades)
    total_funds = sum((t.funds for t in trades), Decimal(0))
    fills: list[FillReport] = []
    allocated = Decimal(0)
    for index, trade in enumerate(trades):
        if index == len(trades) - 1:
            fee = order.paid_fee - allocated
        elif total_funds:
            fee = (order.paid_fee * trade.funds / total_funds).quantize(FEE_QUANTUM, ROUND_DOWN)
        else:
            fee = Decimal(0)
        allocated += fee
        fills.append(
            FillReport(
                trade_uuid=trade.uuid,
                order_uuid=order.uuid,
                identifier=order.identifier,
                market=order.market,
                side=order.side,
                price=trade.price,
                volume=trade.volume,
                funds=trade.funds,
                fee=fee,
                is_maker=None,
                at=trade.created_at,
            )
        )
    return fills
