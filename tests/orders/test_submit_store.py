"""The submitter journals into the real store: every identifier is on disk before it is sent."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.orders.submit import OrderSubmitter
from trading.store import Store

BUY = SubmitOrder(
    intent_id="s1", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("20000")
)


async def record(store: Store, intent: SubmitOrder) -> None:
    await store.record_intent(
        intent_id=intent.intent_id,
        market=intent.market,
        side=intent.side,
        type=intent.type,
        price=intent.funds if intent.is_budget else intent.price,
        volume=intent.volume,
    )


async def test_resubmission_is_journalled_and_the_order_row_follows(fake, client, store):
    await record(store, BUY)
    fake.faults.fail_next(500, method="POST", path="/v1/orders")

    order = await OrderSubmitter(client, journal=store, settle_s=0.05).submit(BUY)
    await store.update_order_from_exchange(
        identifier=order.identifier,
        uuid=order.order_id,
        status=order.status,
        executed_volume=order.executed_volume,
        executed_funds=order.executed_funds or D(0),
        paid_fee=order.paid_fee,
    )

    attempts = await store.attempts_for("s1")
    assert [(a.identifier, a.outcome) for a in attempts] == [
        ("ubot-s1-1", "confirmed_absent"),
        ("ubot-s1-2", "accepted"),
    ]
    row = await store.order("s1")
    assert row is not None
    assert (row.identifier, row.uuid) == ("ubot-s1-2", order.order_id)


@pytest.mark.short_timeout
async def test_lost_response_leaves_one_accepted_attempt(fake, client, store):
    await record(store, BUY)
    fake.faults.lose_response_next(method="POST", path="/v1/orders")

    await OrderSubmitter(client, journal=store, settle_s=0.05).submit(BUY)

    attempts = await store.attempts_for("s1")
    assert [(a.identifier, a.outcome) for a in attempts] == [("ubot-s1-1", "accepted")]
    assert len(fake.orders) == 1


async def test_a_reused_intent_cannot_send_a_used_identifier(fake, client, store):
    await record(store, BUY)
    submitter = OrderSubmitter(client, journal=store, settle_s=0.05)
    await submitter.submit(BUY)

    with pytest.raises(Exception, match="ubot-s1-1"):
        await submitter.submit(BUY)  # a second submit of one intent is refused by the journal
    assert len(fake.orders) == 1
