"""The paper exchange's cancel-and-new: Upbit's semantics (the old order's remainder moves to
the new price in one step), the same refusals as live."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.paper.conftest import balance, place, tape
from trading.domain.orders import OrderStatus, OrderType, Side, SubmitOrder
from trading.errors import InsufficientFunds, InvalidOrder, InvalidPrice, NotFound
from trading.errors import ValidationError as UpbitValidationError
from trading.paper import PaperExchange

OLD, NEW = D("95000000"), D("96000000")


async def resting_bid(ex: PaperExchange, identifier: str = "old") -> str:
    order = await place(
        ex, identifier, market="KRW-BTC", side="bid", ord_type="limit", price=OLD, volume=D("0.01")
    )
    return order.uuid


def rest_at(price: D = NEW, volume: D = D("0.01")) -> SubmitOrder:
    """The replacement as the order manager asks for it: our book's remainder at ``price``."""
    return SubmitOrder("r", "KRW-BTC", Side.BUY, OrderType.LIMIT, price=price, volume=volume)


async def test_cancel_and_new_moves_the_remainder_in_one_step(make):
    ex = make(start_krw=D(2_000_000))
    ex.set_orderbook("KRW-BTC", asks=[(D("97000000"), D(1))], bids=[])
    prev = await resting_bid(ex)
    await ex.on_trade(tape("95000000", "0.004"))

    await ex.replace_order(prev, rest_at(), "new")

    new = await ex.get_order(identifier="new")
    assert (new.price, new.volume, new.state) == (NEW, D("0.006"), OrderStatus.OPEN)
    old = await ex.get_order(uuid=prev)
    assert (old.state, old.executed_volume) == (OrderStatus.CANCELLED, D("0.004"))
    free, locked = await balance(ex, "KRW")
    assert locked == new.locked == D("0.006") * NEW * D("1.0005")
    assert free + locked + D("0.004") * OLD * D("1.0005") == D(2_000_000)


async def test_the_new_price_is_checked_on_its_bands_grid(ex):
    with pytest.raises(InvalidPrice):
        ex.check_replace("u-1", rest_at(D("96000500")))


async def test_refusals_change_nothing_but_use_up_the_identifier(make):
    ex = make(start_krw=D(1_000_000))
    prev = await resting_bid(ex)
    before = await balance(ex, "KRW")

    with pytest.raises(InsufficientFunds):  # the old lock counts as freed, not more
        await ex.replace_order(prev, rest_at(D("100000000")), "new")
    with pytest.raises(InvalidOrder, match="already used"):
        await ex.replace_order(prev, rest_at(), "new")
    with pytest.raises(UpbitValidationError):
        await ex.replace_order(prev, rest_at(), "old")

    assert (await ex.get_order(uuid=prev)).state == OrderStatus.OPEN
    assert await balance(ex, "KRW") == before
    assert len(ex.orders) == 1


async def test_an_order_that_already_filled_cannot_be_replaced(ex):
    prev = await resting_bid(ex)
    await ex.on_trade(tape("95000000", "0.01"))

    with pytest.raises(NotFound):
        await ex.replace_order(prev, rest_at(), "new")
    assert [o.state for o in ex.orders.values()] == [OrderStatus.FILLED]
