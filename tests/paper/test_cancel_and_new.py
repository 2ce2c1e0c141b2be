"""The paper exchange's cancel-and-new: Upbit's wire semantics, the same refusals as live."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.paper.conftest import balance, place, tape
from trading.errors import InsufficientFunds, InvalidOrder, InvalidPrice, NotFound
from trading.errors import ValidationError as UpbitValidationError
from trading.paper import PaperExchange

OLD, NEW = D("95000000"), D("96000000")


async def resting_bid(ex: PaperExchange, identifier: str = "old") -> str:
    order = await place(
        ex, identifier, market="KRW-BTC", side="bid", ord_type="limit", price=OLD, volume=D("0.01")
    )
    return order.uuid


def body(ex: PaperExchange, prev: str, price: D = NEW, identifier: str = "new") -> dict[str, str]:
    return ex.cancel_and_new_body(
        prev_uuid=prev,
        market="KRW-BTC",
        side="bid",
        new_identifier=identifier,
        price=price,
        volume=D("0.01"),
    )


async def test_cancel_and_new_moves_the_remainder_in_one_step(make):
    ex = make(start_krw=D(2_000_000))
    ex.set_orderbook("KRW-BTC", asks=[(D("97000000"), D(1))], bids=[])
    prev = await resting_bid(ex)
    await ex.on_trade(tape("95000000", "0.004"))

    result = await ex.cancel_and_new(body(ex, prev))

    assert (result.uuid, result.state, result.executed_volume) == (prev, "wait", D("0.004"))
    assert result.new_order_identifier == "new"
    new = await ex.get_order(uuid=result.new_order_uuid)
    assert (new.identifier, new.price, new.volume, new.state) == ("new", NEW, D("0.006"), "wait")
    assert (await ex.get_order(uuid=prev)).state == "cancel"
    free, locked = await balance(ex, "KRW")
    assert locked == new.locked == D("0.006") * NEW * D("1.0005")
    assert free + locked + D("0.004") * OLD * D("1.0005") == D(2_000_000)


async def test_the_body_is_upbits(ex):
    assert body(ex, "u-1") == {
        "prev_order_uuid": "u-1",
        "new_ord_type": "limit",
        "new_volume": "remain_only",
        "new_price": "96000000",
        "new_identifier": "new",
    }
    with pytest.raises(InvalidPrice):  # the new price is checked on its band's grid
        body(ex, "u-1", price=D("96000500"))


async def test_refusals_change_nothing_but_use_up_the_identifier(make):
    ex = make(start_krw=D(1_000_000))
    prev = await resting_bid(ex)
    before = await balance(ex, "KRW")

    with pytest.raises(InsufficientFunds):  # the old lock counts as freed, not more
        await ex.cancel_and_new({**body(ex, prev), "new_volume": "0.0106"})
    with pytest.raises(InvalidOrder, match="already used"):
        await ex.cancel_and_new(body(ex, prev))
    with pytest.raises(UpbitValidationError):
        await ex.cancel_and_new(body(ex, prev, identifier="old"))

    assert (await ex.get_order(uuid=prev)).state == "wait"
    assert await balance(ex, "KRW") == before
    assert len(ex.orders) == 1


async def test_an_order_that_already_filled_cannot_be_replaced(ex):
    prev = await resting_bid(ex)
    await ex.on_trade(tape("95000000", "0.01"))

    with pytest.raises(NotFound):
        await ex.cancel_and_new(body(ex, prev))
    assert [o.state for o in ex.orders.values()] == ["done"]
