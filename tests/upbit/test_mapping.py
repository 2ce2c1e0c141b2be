"""Upbit's order vocabulary mapped to the neutral model in one place, and back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from trading.domain.orders import (
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    SubmitOrder,
)
from trading.upbit import mapping
from trading.upbit.models import Order, OrderTrade
from trading.upbit.ws_messages import MyOrder

T = datetime(2025, 7, 4, tzinfo=UTC)


def _order(**kw: object) -> Order:
    base: dict[str, object] = {
        "uuid": "u1",
        "market": "KRW-BTC",
        "side": "bid",
        "ord_type": "price",
        "state": "cancel",
        "created_at": T,
        "identifier": "ubot-x-1",
        "price": D(6000),
        "executed_volume": D("0.00003736"),
        "paid_fee": D(3),
        "trades_count": 2,
        "trades": (
            OrderTrade(
                market="KRW-BTC",
                uuid="t1",
                price=D(100),
                volume=D(1),
                funds=D(100),
                side="bid",
                created_at=T,
            ),
            OrderTrade(
                market="KRW-BTC",
                uuid="t2",
                price=D(100),
                volume=D(2),
                funds=D(200),
                side="bid",
                created_at=T,
            ),
        ),
    }
    return Order.model_validate(base | kw)


def test_a_market_buy_ending_in_cancel_keeps_its_fills_and_its_budget() -> None:
    report = mapping.order_report(_order())
    assert (report.side, report.type, report.status) == (
        Side.BUY,
        OrderType.MARKET,
        OrderStatus.CANCELLED,
    )
    assert (report.price, report.funds, report.has_fills) == (None, D(6000), True)
    assert [f.trade_id for f in report.fills] == ["t1", "t2"]
    assert sum(f.fee for f in report.fills) == D(3)  # shared out by funds, exactly


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("wait", OrderStatus.OPEN),
        ("watch", OrderStatus.TRIGGER_PENDING),
        ("done", OrderStatus.FILLED),
    ],
)
def test_states(state: str, status: OrderStatus) -> None:
    assert mapping.order_report(_order(state=state)).status is status


def test_a_neutral_order_becomes_upbits_fields() -> None:
    buy = SubmitOrder("i", "KRW-BTC", Side.BUY, OrderType.MARKET, funds=D(10_000))
    sell = SubmitOrder("i", "KRW-BTC", Side.SELL, OrderType.MARKET, volume=D(1))
    limit = SubmitOrder("i", "KRW-BTC", Side.SELL, OrderType.LIMIT, price=D(5), volume=D(1))
    assert mapping.order_fields(buy) == {
        "market": "KRW-BTC",
        "side": "bid",
        "ord_type": "price",
        "price": D(10_000),
        "volume": None,
        "time_in_force": None,
    }
    assert (mapping.order_fields(sell)["ord_type"], mapping.order_fields(sell)["price"]) == (
        "market",
        None,
    )
    assert mapping.order_fields(limit)["ord_type"] == "limit"


def _my_order(**kw: object) -> MyOrder:
    base: dict[str, object] = {
        "code": "KRW-BTC",
        "uuid": "u1",
        "ask_bid": "ASK",
        "order_type": "limit",
        "state": "trade",
        "timestamp": T,
        "stream_type": "REALTIME",
        "trade_uuid": "t9",
        "price": D(100),
        "volume": D(2),
        "trade_fee": D("0.1"),
        "is_maker": True,
    }
    return MyOrder(**(base | kw))  # type: ignore[arg-type]


def test_the_private_stream_gives_fills_and_order_ends() -> None:
    fill = mapping.stream_report(_my_order())
    assert isinstance(fill, FillReport)
    assert (fill.side, fill.funds, fill.fee) == (Side.SELL, D(200), D("0.1"))
    done = mapping.stream_report(_my_order(state="done", trade_uuid=None))
    assert isinstance(done, OrderReport)
    assert done.status is OrderStatus.FILLED
    assert mapping.stream_report(_my_order(state="prevented")) is None
