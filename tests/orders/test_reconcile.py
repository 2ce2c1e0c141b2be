"""Start-up reconciliation: what a crashed process left behind is settled or adopted."""

from __future__ import annotations

from decimal import Decimal as D

from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.orders import OrderManager, reconcile


async def test_reconcile_settles_adopts_and_reports(fake, client, store, events):
    mgr = OrderManager(client, store, paper=False, on_event=events.append, settle_s=0.05)
    # 1. placed before the "crash", filled while the bot was down
    filled = SubmitOrder(
        intent_id="filled1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("97000000"),
        volume=D("0.01"),
    )
    await mgr.place(filled)
    await fake.trade("KRW-BTC", D("97000000"), D("0.01"), ask_bid="ASK")
    # 2. journalled but never sent
    await store.record_intent(
        intent_id="ghost1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("90000000"),
        volume=D("0.01"),
        identifier="ubot-ghost1-1",
    )
    # 3. on the exchange with our prefix, missing from the store
    lost = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        identifier="ubot-lost1-1",
        price=D("91000000"),
        volume=D("0.01"),
    )
    await client.create_order(lost)
    # 4. somebody's manual order
    manual = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        identifier="manual-1",
        price=D("92000000"),
        volume=D("0.01"),
    )
    await client.create_order(manual)
    # 5. a stored position the exchange cannot back
    await store.upsert_position("KRW-ETH", state="long", volume=D("2"), avg_price=D("4000000"))

    report = await reconcile(mgr)

    assert report.checked == 2
    assert report.settled == ("filled1",)
    assert report.never_placed == ("ghost1",)
    assert report.adopted == ("lost1",)
    assert report.foreign == 1
    assert report.mismatches == ("KRW-ETH: position 2, exchange holds 0",)
    assert (await store.order("ghost1")).state == "rejected"
    assert (await store.order("lost1")).uuid is not None
    assert sum(f.volume for f in await store.fills(intent_id="filled1")) == D("0.01")


async def test_reconcile_twice_changes_nothing_more(fake, client, store, events):
    mgr = OrderManager(client, store, paper=False, settle_s=0.05)
    await mgr.place(
        SubmitOrder(
            intent_id="r1",
            market="KRW-BTC",
            side=Side.BUY,
            type=OrderType.LIMIT,
            price=D("97000000"),
            volume=D("0.01"),
        )
    )
    await reconcile(mgr)

    again = await reconcile(mgr)

    assert again.settled == ()
    assert again.adopted == ()
    assert again.never_placed == ()
