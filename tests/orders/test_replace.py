"""Cancel-and-replace against the fake Upbit on loopback: never two live orders.

Upbit cancels asynchronously: ``DELETE /v1/order`` answers while the order still rests, and
it can fill until the cancel is done (``fake.cancel_lag``). A replacement sent on the strength
of that answer can fill as well: the bot buys twice what it meant to. The invariant checked
here is the money one: what the old and new orders bought, plus what is still live, never
exceeds the one order's volume, and the store agrees with the exchange.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.events import OrderCancelled, OrderPlaced, OrderResubmitted
from trading.orders import OrderManager
from trading.upbit.rest import UpbitRestClient

VOLUME = D("0.01")
OLD, NEW = D("95000000"), D("96000000")


def manager(client: Any, store, events) -> OrderManager:
    return OrderManager(
        client, store, paper=False, on_event=events.append, settle_s=0.05, timeout_settle_s=0.6
    )


async def place_old(mgr: OrderManager) -> str:
    intent = SubmitOrder(
        intent_id=mgr.new_intent_id(),
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=OLD,
        volume=VOLUME,
    )
    await mgr.place(intent)
    return intent.intent_id


def fill_old(fake: FakeUpbit, volume: D = VOLUME):
    """A seller hits the old order's price (the tape fills resting bids at or above it)."""
    return lambda: fake.exchange.tape_trade("KRW-BTC", OLD, volume, "ASK")


def exposure(fake: FakeUpbit) -> D:
    """Bought by our bids, plus what our live bids may still buy."""
    bids = [o for o in fake.orders.values() if o.side == "bid"]
    live = sum((o.remaining_volume or D(0) for o in bids if o.state == "wait"), D(0))
    return sum((o.executed_volume for o in bids), D(0)) + live


def posts(fake: FakeUpbit, path: str) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == path)


async def test_old_order_filling_while_the_replacement_is_sent_is_never_doubled(
    fake, client, store, events
):
    fake.cancel_lag = 2  # the cancel completes two requests after it was accepted
    mgr = manager(client, store, events)
    old_id = await place_old(mgr)
    # the old order fills completely while the replace is in flight (at its order POST)
    fake.faults.act_next(fill_old(fake), method="POST", path="/v1/orders")

    replacement = await mgr.replace(old_id, NEW)
    fake.settle_cancels()

    assert exposure(fake) == VOLUME  # before the fix: 0.02, both orders live or filled
    assert replacement is None  # nothing left to replace
    old = await store.order(old_id)
    assert (old.state, old.executed_volume) == ("done", VOLUME)
    assert [o.state for o in fake.orders.values()] == ["done"]


async def test_replace_is_one_atomic_cancel_and_new_for_the_rest(fake, client, store, events):
    mgr = manager(client, store, events)
    old_id = await place_old(mgr)
    await fake.trade("KRW-BTC", OLD, D("0.003"), ask_bid="ASK")

    replacement = await mgr.replace(old_id, NEW)

    assert posts(fake, "/v1/orders/cancel_and_new") == 1
    assert not [r for r in fake.requests if r.method == "DELETE"]
    assert replacement is not None
    assert (replacement.state, replacement.price, replacement.volume) == ("wait", NEW, D("0.007"))
    new = fake.order_by_identifier(replacement.identifier or "")
    assert new is not None
    assert (new.price, new.remaining_volume, new.state) == (NEW, D("0.007"), "wait")
    old = await store.order(old_id)
    assert (old.state, old.executed_volume) == ("cancel", D("0.003"))
    assert exposure(fake) == VOLUME
    assert [type(e) for e in events if isinstance(e, OrderPlaced | OrderCancelled)][-2:] == [
        OrderCancelled,
        OrderPlaced,
    ]


async def test_a_fill_inside_the_cancel_window_shrinks_or_drops_the_new_order(
    fake, client, store, events
):
    fake.cancel_lag = 2
    mgr = manager(client, store, events)
    partly, fully = await place_old(mgr), await place_old(mgr)

    # accepted, then 0.004 fills before the cancel is done: the new order gets the 0.006 left
    fake.faults.act_next(fill_old(fake, D("0.004")), when="after", path="/v1/orders/cancel_")
    shrunk = await mgr.replace(partly, NEW)
    assert shrunk is not None
    assert (shrunk.volume, shrunk.state) == (D("0.006"), "wait")
    assert (await store.order(partly)).executed_volume == D("0.004")

    # accepted, then it fills completely before the cancel is done: Upbit creates nothing
    fake.faults.act_next(fill_old(fake), when="after", path="/v1/orders/cancel_")
    dropped = await mgr.replace(fully, NEW)
    assert dropped is None
    old = await store.order(fully)
    assert (old.state, old.executed_volume) == ("done", VOLUME)
    fake.settle_cancels()
    assert exposure(fake) == 2 * VOLUME  # two orders of 0.01, never more
    never = [r for r in await store.recent_orders() if r.reason == f"replaces {fully}"]
    assert [r.state for r in never] == ["rejected"]  # the bot's book: it never existed


@pytest.mark.short_timeout
async def test_a_lost_cancel_and_new_response_is_looked_up_never_resent(
    fake, client, store, events
):
    mgr = manager(client, store, events)
    old_id = await place_old(mgr)
    fake.faults.lose_response_next(method="POST", path="/v1/orders/cancel_and_new")

    replacement = await mgr.replace(old_id, NEW)

    assert posts(fake, "/v1/orders/cancel_and_new") == 1  # sent once, found by identifier
    assert posts(fake, "/v1/orders") == 1  # the old order's own POST only
    assert replacement is not None
    assert replacement.identifier == mgr.submitter.identifier(replacement.intent_id, 1)
    assert replacement.state == "wait"
    attempts = await store.attempts_for(replacement.intent_id)
    assert [(a.attempt, a.outcome) for a in attempts] == [(1, "accepted")]
    assert (await store.order(old_id)).state == "cancel"
    assert exposure(fake) == VOLUME
    assert not [e for e in events if isinstance(e, OrderResubmitted)]


async def test_a_cancel_and_new_that_never_landed_falls_back_to_cancel_then_place(
    fake, client, store, events
):
    mgr = manager(client, store, events)
    old_id = await place_old(mgr)
    fake.faults.fail_next(500, method="POST", path="/v1/orders/cancel_and_new")

    replacement = await mgr.replace(old_id, NEW)

    assert posts(fake, "/v1/orders/cancel_and_new") == 1
    assert replacement is not None
    attempts = await store.attempts_for(replacement.intent_id)
    assert [(a.attempt, a.outcome) for a in attempts] == [
        (1, "confirmed_absent"),
        (2, "accepted"),
    ]
    assert (await store.order(old_id)).state == "cancel"
    assert exposure(fake) == VOLUME


class WithoutCancelAndNew:
    """An exchange that offers only cancel and create: the replace must fall back."""

    def __init__(self, inner: UpbitRestClient) -> None:
        self._inner = inner
        self.rules = inner.rules

    def __getattr__(self, name: str) -> Any:
        if name in ("replace_order", "check_replace"):
            raise AttributeError(name)
        return getattr(self._inner, name)


async def test_without_cancel_and_new_the_rest_is_placed_only_after_the_cancel_is_done(
    fake, client, store, events
):
    fake.cancel_lag = 2
    mgr = manager(WithoutCancelAndNew(client), store, events)
    old_id = await place_old(mgr)
    # accepted cancel, then the old order fills while the bot looks at it
    fake.faults.act_next(fill_old(fake), when="after", method="GET", path="/v1/order")

    assert await mgr.replace(old_id, NEW) is None
    assert exposure(fake) == VOLUME
    assert (await store.order(old_id)).state == "done"

    partly = await place_old(mgr)
    fake.faults.act_next(fill_old(fake, D("0.004")), when="after", method="DELETE")
    replacement = await mgr.replace(partly, NEW)
    assert replacement is not None
    assert replacement.volume == D("0.006")
    assert exposure(fake) == 2 * VOLUME
