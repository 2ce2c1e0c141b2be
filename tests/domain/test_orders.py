"""The neutral order model: one transition table, and a stored encoding that reads every code
the store has ever written."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.domain.orders import (
    SIDE_CODE,
    SIDE_FROM_CODE,
    STATUS_CODE,
    STATUS_FROM_CODE,
    TRANSITIONS,
    TYPE_CODE,
    TYPE_FROM_CODE,
    OrderStatus,
    OrderType,
    Side,
    SubmitOrder,
    can_move,
)

S = OrderStatus


def test_every_status_has_its_row_and_its_stored_code() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert set(STATUS_CODE) == set(OrderStatus)
    assert {STATUS_FROM_CODE[c] for c in STATUS_CODE.values()} == set(OrderStatus)


def test_a_finished_order_never_reopens_but_a_later_report_may_correct_its_end() -> None:
    for end in (S.FILLED, S.CANCELLED, S.REJECTED):
        assert end.is_terminal
        assert not end.is_open
        assert not any(can_move(end, s) for s in (S.PENDING, S.OPEN, S.TRIGGER_PENDING))
        assert all(can_move(end, s) for s in (S.FILLED, S.CANCELLED, S.REJECTED))
    assert can_move(S.PENDING, S.FILLED)  # a fast fill may be the first report
    assert not can_move(S.OPEN, S.PENDING)


@pytest.mark.parametrize(
    ("codes", "decoded"),
    [
        (("bid", "limit"), (Side.BUY, OrderType.LIMIT)),
        (("ask", "limit"), (Side.SELL, OrderType.LIMIT)),
        (("bid", "price"), (Side.BUY, OrderType.MARKET)),
        (("ask", "market"), (Side.SELL, OrderType.MARKET)),
        (("bid", "best"), (Side.BUY, OrderType.BEST)),
        (("ask", "best"), (Side.SELL, OrderType.BEST)),
    ],
)
def test_stored_codes_round_trip(codes: tuple[str, str], decoded: tuple[Side, OrderType]) -> None:
    side, kind = SIDE_FROM_CODE[codes[0]], TYPE_FROM_CODE[codes[1]]
    assert (side, kind) == decoded
    assert (SIDE_CODE[side], TYPE_CODE[side, kind]) == codes


def test_the_stored_status_codes_are_the_ones_existing_databases_hold() -> None:
    assert sorted(STATUS_CODE.values()) == [
        "cancel",
        "done",
        "pending",
        "rejected",
        "wait",
        "watch",
    ]


def test_a_market_buy_is_sized_by_what_it_spends() -> None:
    buy = SubmitOrder("i", "KRW-BTC", Side.BUY, OrderType.MARKET, funds=D(10_000))
    sell = SubmitOrder("i", "KRW-BTC", Side.SELL, OrderType.MARKET, volume=D(1))
    assert buy.is_budget
    assert not sell.is_budget
    assert Side.BUY.opposite is Side.SELL
