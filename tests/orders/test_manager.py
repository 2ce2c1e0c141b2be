"""The order manager against the fake Upbit: placing, fills by stream and by polling, faults."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.errors import InsufficientFunds, OrderOutcomeUnknown
from trading.events import (
    OrderBecameUncertain,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    OrderSettled,
)
from trading.orders import OrderManager
from trading.upbit.auth import Credentials
from trading.upbit.mapping import stream_report
from trading.upbit.ws_client import Subscription, UpbitWebSocket
from trading.upbit.ws_messages import MyOrder


def manager(client, store, events) -> OrderManager:
    return OrderManager(client, store, paper=False, on_event=events.append, settle_s=0.05)


def limit_bid(mgr, price="99000000", volume="0.01") -> SubmitOrder:
    return SubmitOrder(
        intent_id=mgr.new_intent_id(),
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D(price),
        volume=D(volume),
    )


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_market_buy_fills_are_recorded_once_by_polling(fake, client, store, events):
    mgr = manager(client, store, events)
    intent = SubmitOrder(
        intent_id="mb1", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("200000")
    )

    placed = await mgr.place(intent, strategy="test", reason="manual buy")
    assert await mgr.poll_open() == 1
    assert await mgr.poll_open() == 0  # settled: nothing open any more

    row = await store.order("mb1")
    fills = await store.fills(intent_id="mb1")
    assert placed.uuid is not None
    assert row.state == "cancel"  # a market buy with a dust remainder ends cancelled
    assert row.executed_volume == sum(f.volume for f in fills) > 0
    assert row.paid_fee == sum(f.fee for f in fills)
    assert len(of(events, OrderPlaced)) == 1
    assert len(of(events, OrderFilled)) == len(fills)
    (settled,) = of(events, OrderSettled)
    assert (settled.state, settled.executed_volume) == ("cancel", row.executed_volume)


async def test_stream_and_polling_never_double_count(fake, client, store, events):
    mgr = manager(client, store, events)
    stream = UpbitWebSocket(
        fake.ws_private_url,
        [Subscription("myOrder")],
        credentials=Credentials("test-access", "test-secret"),
        name="private",
    )
    async with stream:
        await stream.wait_connected()
        intent = limit_bid(mgr)
        await mgr.place(intent)
        await fake.trade("KRW-BTC", D("99000000"), D("0.004"), ask_bid="ASK")
        await fake.trade("KRW-BTC", D("98990000"), D("0.01"), ask_bid="ASK")

        async def consume():
            async for msg in stream.messages():
                report = stream_report(msg) if isinstance(msg, MyOrder) else None
                if report is not None:
                    await mgr.on_stream(report)
                    if isinstance(msg, MyOrder) and msg.state == "done":
                        return

        await asyncio.wait_for(consume(), 5)
    await mgr.poll_open()  # the REST fallback sees the same trades

    fills = await store.fills(intent_id=intent.intent_id)
    row = await store.order(intent.intent_id)
    assert sorted(f.volume for f in fills) == [D("0.004"), D("0.006")]
    assert row.state == "done"
    assert row.executed_volume == D("0.01")
    assert [e.complete for e in of(events, OrderFilled)] == [False, True]
    assert [e.state for e in of(events, OrderSettled)] == ["done"]  # stream + poll: once


@pytest.mark.short_timeout
async def test_lost_response_places_exactly_one_order(fake, client, store, events):
    mgr = manager(client, store, events)
    fake.faults.lose_response_next(method="POST", path="/v1/orders")

    intent = limit_bid(mgr)
    await mgr.place(intent)

    on_exchange = [o for o in fake.orders.values() if intent.intent_id in (o.identifier or "")]
    assert len(on_exchange) == 1
    assert (await store.order(intent.intent_id)).uuid == on_exchange[0].uuid


@pytest.mark.short_timeout
async def test_an_unknown_outcome_is_announced_and_left_to_reconciliation(
    fake, client, store, events
):
    mgr = manager(client, store, events)
    fake.faults.lose_response_next(method="POST", path="/v1/orders")
    fake.faults.fail_next(500, method="GET", path="/v1/order", count=50)

    intent = limit_bid(mgr)
    with pytest.raises(OrderOutcomeUnknown):
        await mgr.place(intent)

    (uncertain,) = of(events, OrderBecameUncertain)
    assert (uncertain.intent_id, uncertain.side, uncertain.ord_type) == (
        intent.intent_id,
        "bid",
        "limit",
    )
    assert not of(events, OrderRejected)  # it may well exist: nothing is assumed
    assert (await store.order(intent.intent_id)).state != "rejected"


async def test_rejection_is_stored_and_announced(fake, client, store, events):
    mgr = manager(client, store, events)
    intent = limit_bid(mgr, volume="5")

    with pytest.raises(InsufficientFunds):
        await mgr.place(intent)

    assert (await store.order(intent.intent_id)).state == "rejected"
    (rejected,) = of(events, OrderRejected)
    assert rejected.name == "insufficient_funds_bid"
    assert [e.state for e in of(events, OrderSettled)] == ["rejected"]


async def test_refused_order_writes_nothing(fake, client, store, events):
    mgr = manager(client, store, events)
    bad = limit_bid(mgr, price="99000500")

    with pytest.raises(Exception, match="tick"):
        await mgr.place(bad)
    assert await store.order(bad.intent_id) is None


async def test_cancel_and_replace_sends_the_rest_at_a_new_price(fake, client, store, events):
    mgr = manager(client, store, events)
    intent = limit_bid(mgr, price="95000000", volume="0.01")
    await mgr.place(intent)
    await fake.trade("KRW-BTC", D("95000000"), D("0.003"), ask_bid="ASK")

    replacement = await mgr.replace(intent.intent_id, D("96000000"))

    old = await store.order(intent.intent_id)
    assert old.state == "cancel"
    assert old.executed_volume == D("0.003")
    assert replacement is not None
    assert replacement.volume == D("0.007")
    assert replacement.price == D("96000000")
    assert len(of(events, OrderCancelled)) == 1


async def test_a_websocket_drop_mid_fill_loses_nothing_and_doubles_nothing(
    fake, client, store, events
):
    mgr = manager(client, store, events)
    stream = UpbitWebSocket(
        fake.ws_private_url,
        [Subscription("myOrder")],
        credentials=Credentials("test-access", "test-secret"),
        name="private",
        stale_after_s=5,
    )
    async with stream:
        await stream.wait_connected()
        intent = limit_bid(mgr)
        await mgr.place(intent)
        await fake.trade("KRW-BTC", D("99000000"), D("0.003"), ask_bid="ASK")  # seen live
        fake.faults.ws_drop()
        await fake.trade("KRW-BTC", D("99000000"), D("0.004"), ask_bid="ASK")  # while down

        async def consume_until(count: int) -> None:
            async for msg in stream.messages():
                report = stream_report(msg) if isinstance(msg, MyOrder) else None
                if report is not None:
                    await mgr.on_stream(report)
                if len(await store.fills(intent_id=intent.intent_id)) >= count:
                    return

        await asyncio.wait_for(consume_until(1), 5)
        await mgr.poll_open()  # the REST fallback finds the fill the stream missed
        await stream.wait_connected()
        await fake.trade("KRW-BTC", D("99000000"), D("0.01"), ask_bid="ASK")  # after reconnect
        await asyncio.wait_for(consume_until(3), 5)
    await mgr.poll_open()

    fills = await store.fills(intent_id=intent.intent_id)
    row = await store.order(intent.intent_id)
    assert sorted(f.volume for f in fills) == [D("0.003"), D("0.003"), D("0.004")]
    assert row.state == "done"
    assert len(of(events, OrderFilled)) == 3
    assert [e.state for e in of(events, OrderSettled)] == ["done"]
