"""Signed exchange calls: balances, every order type, lookups and cancels."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.errors import AuthError, BelowMinTotal, InsufficientFunds, InvalidPrice, NotFound
from trading.upbit.auth import Credentials
from trading.upbit.rest import UpbitRestClient


def posts(fake):
    return [r for r in fake.requests if r.method == "POST"]


async def test_accounts_and_chance(client):
    accounts = {a.currency: a for a in await client.accounts()}
    chance = await client.order_chance("KRW-BTC")

    assert accounts["KRW"].free == D("10000000")
    assert accounts["BTC"].free == D("0.5")
    assert chance.bid_fee == D("0.0005")
    assert chance.market.bid.min_total == D("5000")


async def test_limit_order_lifecycle(fake, client):
    body = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        identifier="t-limit-1",
        price=D("90000000"),
        volume=D("0.001"),
    )

    order = await client.create_order(body)
    by_uuid = await client.get_order(uuid=order.uuid)
    by_id = await client.get_order(identifier="t-limit-1")
    open_orders = await client.open_orders(market="KRW-BTC")
    cancelled = await client.cancel_order(identifier="t-limit-1")
    closed = await client.closed_orders(market="KRW-BTC")

    assert order.state == "wait"
    assert order.identifier == "t-limit-1"
    assert by_uuid.uuid == by_id.uuid == order.uuid
    assert [o.uuid for o in open_orders] == [order.uuid]
    assert cancelled.state == "wait"  # Upbit answers with the order as it was
    assert [(o.uuid, o.state) for o in closed] == [(order.uuid, "cancel")]
    assert posts(fake)[0].body == {
        "market": "KRW-BTC",
        "side": "bid",
        "ord_type": "limit",
        "volume": "0.001",
        "price": "90000000",
        "identifier": "t-limit-1",
    }


async def test_market_buy_by_krw_total_fills_and_ends_cancelled(fake, client):
    body = client.order_body(
        market="KRW-BTC", side="bid", ord_type="price", identifier="t-mbuy", price=D("100000")
    )

    order = await client.create_order(body)
    final = await client.get_order(uuid=order.uuid)

    assert final.has_fills
    assert final.executed_volume > 0
    assert final.trades[0].price == D("100010000")
    assert final.paid_fee == (final.trades[0].funds * D("0.0005"))


async def test_market_sell_and_best_ioc(fake, client):
    sell = await client.create_order(
        client.order_body(
            market="KRW-BTC", side="ask", ord_type="market", identifier="t-msell", volume=D("0.01")
        )
    )
    best = await client.create_order(
        client.order_body(
            market="KRW-BTC",
            side="ask",
            ord_type="best",
            identifier="t-best",
            volume=D("0.01"),
            time_in_force="ioc",
        )
    )

    assert (await client.get_order(uuid=sell.uuid)).executed_volume == D("0.01")
    assert (await client.get_order(uuid=best.uuid)).executed_volume == D("0.01")
    free, _locked = fake.balance("BTC")
    assert free == D("0.48")


async def test_orders_by_ids_and_batch_cancel(client):
    ids = []
    for n in range(3):
        body = client.order_body(
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            identifier=f"t-batch-{n}",
            price=D("80000000"),
            volume=D("0.001"),
        )
        ids.append((await client.create_order(body)).uuid)

    found = await client.orders_by_ids(identifiers=["t-batch-0", "t-batch-2"])
    result = await client.cancel_orders_by_ids(uuids=ids[:2])
    rest = await client.cancel_open_orders(pairs=["KRW-BTC"])

    assert {o.identifier for o in found} == {"t-batch-0", "t-batch-2"}
    assert result.success.count == 2
    assert rest.success.count == 1


async def test_exchange_errors_map_to_the_hierarchy(fake, client):
    body = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        identifier="t-poor",
        price=D("100000000"),
        volume=D("5"),
    )
    with pytest.raises(InsufficientFunds) as info:
        await client.create_order(body)
    assert info.value.name == "insufficient_funds_bid"
    with pytest.raises(NotFound) as missing:
        await client.get_order(identifier="never-sent")
    assert missing.value.name == "order_not_found"


async def test_invalid_orders_never_leave_the_process(fake, client):
    with pytest.raises(InvalidPrice):
        client.order_body(
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            identifier="x1",
            price=D("100000500"),
            volume=D("0.001"),
        )
    with pytest.raises(BelowMinTotal):
        client.order_body(
            market="KRW-BTC", side="bid", ord_type="price", identifier="x2", price=D("4000")
        )
    assert posts(fake) == []


async def test_wrong_secret_is_an_auth_error(fake):
    async with UpbitRestClient(fake.rest_url, credentials=Credentials("test-access", "nope")) as c:
        with pytest.raises(AuthError) as info:
            await c.accounts()
    assert info.value.name == "jwt_verification"


async def test_decimal_wire_format_has_no_exponent(fake, client):
    body = client.order_body(
        market="KRW-BTC",
        side="ask",
        ord_type="limit",
        identifier="t-tiny",
        price=D("1.2E+8"),
        volume=D("1E-4"),
    )
    await client.create_order(body)

    assert posts(fake)[-1].body["price"] == "120000000"
    assert posts(fake)[-1].body["volume"] == "0.0001"


async def test_cancel_and_new_is_one_signed_order_group_post(fake, client):
    old = await client.create_order(
        client.order_body(
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            identifier="t-cn-1",
            price=D("90000000"),
            volume=D("0.002"),
        )
    )
    body = client.cancel_and_new_body(
        prev_uuid=old.uuid,
        market="KRW-BTC",
        side="bid",
        new_identifier="t-cn-2",
        price=D("91000000"),
        volume=D("0.002"),
    )
    with pytest.raises(InvalidPrice):  # checked on the new price's band before sending
        client.cancel_and_new_body(
            prev_uuid=old.uuid,
            market="KRW-BTC",
            side="bid",
            new_identifier="t-cn-x",
            price=D("91000500"),
            volume=D("0.002"),
        )

    result = await client.cancel_and_new(body)

    assert list(body) == [
        "prev_order_uuid",
        "new_ord_type",
        "new_volume",
        "new_price",
        "new_identifier",
    ]
    assert (result.uuid, result.state, result.identifier) == (old.uuid, "wait", "t-cn-1")
    assert result.new_order_identifier == "t-cn-2"
    new = await client.get_order(uuid=result.new_order_uuid)
    assert (new.identifier, new.price, new.volume) == ("t-cn-2", D("91000000"), D("0.002"))
    sent = posts(fake)[-1]
    assert (sent.path, sent.group, sent.status) == ("/v1/orders/cancel_and_new", "order", 201)
    assert client.limiter.group("order").remaining is not None  # Remaining-Req was read
