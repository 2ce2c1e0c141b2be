"""Upbit's order vocabulary to and from the neutral model (``trading.domain.orders``): the one
place that knows ``bid``/``ask``, ``price``/``market`` orders and ``wait``/``watch``/``done``/
``cancel`` as Upbit means them. Everything past this module speaks the neutral model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from trading.domain.balance import Balance
from trading.domain.book import BookSnapshot
from trading.domain.orders import (
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    SubmitOrder,
)
from trading.upbit.models import Account, Order
from trading.upbit.models import Orderbook as RestOrderbook
from trading.upbit.models import OrderbookUnit as RestUnit
from trading.upbit.ws_messages import MyOrder
from trading.upbit.ws_messages import Orderbook as WsOrderbook
from trading.upbit.ws_messages import OrderbookUnit as WsUnit

UpbitSide = Literal["bid", "ask"]
UpbitOrdType = Literal["limit", "price", "market", "best"]

FEE_QUANTUM = Decimal("0.00000001")
SIDE: Mapping[str, Side] = {"bid": Side.BUY, "ask": Side.SELL}
UPBIT_SIDE: Mapping[Side, UpbitSide] = {Side.BUY: "bid", Side.SELL: "ask"}
STATUS: Mapping[str, OrderStatus] = {
    "wait": OrderStatus.OPEN,
    "watch": OrderStatus.TRIGGER_PENDING,
    "done": OrderStatus.FILLED,
    "cancel": OrderStatus.CANCELLED,
}
#: the states ``GET /v1/orders/open`` is asked for
OPEN_STATES = ("wait", "watch")


TYPE: Mapping[str, OrderType] = {
    "limit": OrderType.LIMIT,
    "price": OrderType.MARKET,
    "market": OrderType.MARKET,
    "best": OrderType.BEST,
}


def upbit_ord_type(side: Side, kind: OrderType) -> UpbitOrdType:
    """A market buy is Upbit's ``price`` order (it spends ``price`` KRW), a market sell its
    ``market`` order."""
    if kind is OrderType.MARKET:
        return "price" if side is Side.BUY else "market"
    return "best" if kind is OrderType.BEST else "limit"


def order_fields(order: SubmitOrder) -> dict[str, object]:
    """The body fields of ``order`` in Upbit's terms: a budget buy's funds go in ``price``."""
    return {
        "market": order.market,
        "side": UPBIT_SIDE[order.side],
        "ord_type": upbit_ord_type(order.side, order.type),
        "price": order.funds if order.is_budget else order.price,
        "volume": None if order.is_budget else order.volume,
        "time_in_force": order.time_in_force,
    }


def order_report(order: Order) -> OrderReport:
    """A REST order object (``GET /v1/order``, an acknowledgement, a cancel's answer)."""
    side = SIDE[order.side]
    kind = TYPE[order.ord_type]
    budget = side is Side.BUY and kind is not OrderType.LIMIT  # ``price`` is what it spends
    return OrderReport(
        order_id=order.uuid,
        identifier=order.identifier,
        market=order.market,
        side=side,
        type=kind,
        status=STATUS[order.state],
        created_at=order.created_at,
        price=None if budget else order.price,
        volume=order.volume,
        funds=order.price if budget else None,
        executed_volume=order.executed_volume,
        executed_funds=order.executed_funds,
        paid_fee=order.paid_fee,
        time_in_force=order.time_in_force,
        fill_count=order.trades_count,
        fills=tuple(_fills(order, side)),
    )


def _fills(order: Order, side: Side) -> list[FillReport]:
    """REST gives only the order's total fee, so it is shared out by funds (the last trade
    takes the rounding remainder): the sum is exact."""
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
                trade_id=trade.uuid,
                order_id=order.uuid,
                identifier=order.identifier,
                market=order.market,
                side=side,
                price=trade.price,
                volume=trade.volume,
                funds=trade.funds,
                fee=fee,
                is_maker=None,
                at=trade.created_at,
            )
        )
    return fills


def stream_report(msg: MyOrder) -> FillReport | OrderReport | None:
    """A ``myOrder`` message: a fill when ``state == "trade"``, an order's new status when it
    is one of the order states, None for anything else (Upbit may add states)."""
    side = Side.BUY if msg.ask_bid == "BID" else Side.SELL
    if msg.state == "trade":
        if msg.trade_uuid is None or msg.price is None or msg.volume is None:
            return None
        return FillReport(
            trade_id=msg.trade_uuid,
            order_id=msg.uuid,
            identifier=msg.identifier,
            market=msg.code,
            side=side,
            price=msg.price,
            volume=msg.volume,
            funds=msg.price * msg.volume,
            fee=msg.trade_fee or Decimal(0),
            is_maker=msg.is_maker,
            at=msg.trade_timestamp or msg.timestamp,
        )
    status = STATUS.get(msg.state)
    if status is None or msg.order_type not in TYPE:
        return None
    kind = TYPE[msg.order_type]
    budget = side is Side.BUY and kind is not OrderType.LIMIT
    return OrderReport(
        order_id=msg.uuid,
        identifier=msg.identifier,
        market=msg.code,
        side=side,
        type=kind,
        status=status,
        created_at=msg.order_timestamp or msg.timestamp,
        price=None if budget else msg.price,
        volume=msg.volume,
        funds=msg.price if budget else None,
        executed_volume=msg.executed_volume or Decimal(0),
        executed_funds=msg.executed_funds,
        paid_fee=msg.paid_fee or Decimal(0),
        time_in_force=msg.time_in_force,
        fill_count=msg.trades_count or 0,
    )


def balance(account: Account) -> Balance:
    """``GET /v1/accounts``'s row as the neutral ``Balance`` (Upbit's ``balance`` is free)."""
    return Balance(account.currency, account.balance, account.locked, account.avg_buy_price)


def book_snapshot(book: RestOrderbook | WsOrderbook) -> BookSnapshot:
    """A REST or WebSocket order book as the neutral snapshot: empty levels dropped, asks
    ascending, bids descending."""
    units: Sequence[RestUnit | WsUnit]
    if isinstance(book, RestOrderbook):
        market, units, at = book.market, book.orderbook_units, book.timestamp
    else:
        market, units, at = book.code, book.units, book.timestamp
    asks = sorted((u.ask_price, u.ask_size) for u in units if u.ask_size > 0)
    bids = sorted(((u.bid_price, u.bid_size) for u in units if u.bid_size > 0), reverse=True)
    return BookSnapshot(market, tuple(asks), tuple(bids), at)
