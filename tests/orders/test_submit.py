"""One intent, never two orders: ambiguous failures are resolved by identifier."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.errors import InsufficientFunds, ServerError
from trading.events import OrderResubmitted
from trading.orders.submit import MemoryJournal, OrderSubmitter

BUY = SubmitOrder(
    intent_id="i1", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("20000")
)


def submitter(client, journal, events, **kw):
    return OrderSubmitter(client, journal=journal, settle_s=0.05, on_event=events.append, **kw)


def orders_for(fake, intent):
    return [o for o in fake.orders.values() if (o.identifier or "").startswith(f"ubot-{intent}-")]


async def test_plain_submit_records_then_sends(fake, client, events):
    journal = MemoryJournal()

    order = await submitter(client, journal, events).submit(BUY)

    assert order.identifier == "ubot-i1-1"
    assert journal.attempts == {"ubot-i1-1": ("i1", 1)}
    assert journal.outcomes["ubot-i1-1"][0] == "accepted"
    assert len(orders_for(fake, "i1")) == 1


@pytest.mark.short_timeout
async def test_lost_response_is_found_by_identifier_not_resent(fake, client, events):
    fake.faults.lose_response_next(method="POST", path="/v1/orders")
    journal = MemoryJournal()

    order = await submitter(client, journal, events).submit(BUY)

    assert order.identifier == "ubot-i1-1"
    assert len(orders_for(fake, "i1")) == 1
    assert len([r for r in fake.requests if r.method == "POST"]) == 1
    assert not [e for e in events if isinstance(e, OrderResubmitted)]


async def test_server_error_before_acceptance_resends_under_a_new_identifier(fake, client, events):
    fake.faults.fail_next(500, method="POST", path="/v1/orders")
    journal = MemoryJournal()

    order = await submitter(client, journal, events).submit(BUY)

    assert order.identifier == "ubot-i1-2"
    assert journal.outcomes["ubot-i1-1"][0] == "confirmed_absent"
    assert journal.outcomes["ubot-i1-2"][0] == "accepted"
    assert len(orders_for(fake, "i1")) == 1
    (resubmitted,) = [e for e in events if isinstance(e, OrderResubmitted)]
    assert (resubmitted.old_identifier, resubmitted.new_identifier) == ("ubot-i1-1", "ubot-i1-2")


@pytest.mark.short_timeout
async def test_slow_request_that_lands_late_is_found_on_the_second_lookup(fake, client, events):
    # the exchange accepts the order after our timeout but before the settle delay ends
    fake.faults.delay_next(0.7, method="POST", path="/v1/orders")
    journal = MemoryJournal()
    sub = OrderSubmitter(client, journal=journal, settle_s=0.6, on_event=events.append)

    order = await sub.submit(BUY)

    assert order.identifier == "ubot-i1-1"
    assert len(orders_for(fake, "i1")) == 1


async def test_rejection_is_final_and_recorded(fake, client, events):
    journal = MemoryJournal()
    poor = SubmitOrder(
        intent_id="i2",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("100000000"),
        volume=D("5"),
    )

    with pytest.raises(InsufficientFunds):
        await submitter(client, journal, events).submit(poor)
    assert journal.outcomes["ubot-i2-1"][0] == "rejected"
    assert list(journal.attempts) == ["ubot-i2-1"]


async def test_every_attempt_absent_raises_and_places_nothing(fake, client, events):
    fake.faults.fail_next(500, method="POST", path="/v1/orders", count=3)
    journal = MemoryJournal()

    with pytest.raises(ServerError):
        await submitter(client, journal, events, max_attempts=3).submit(BUY)
    assert orders_for(fake, "i1") == []
    assert len(journal.attempts) == 3


async def test_refused_order_burns_no_identifier(fake, client, events):
    journal = MemoryJournal()
    bad = SubmitOrder(
        intent_id="i3",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("100000001"),
        volume=D("0.001"),
    )

    with pytest.raises(Exception, match="tick"):
        await submitter(client, journal, events).submit(bad)
    assert journal.attempts == {}
