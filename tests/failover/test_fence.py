"""The fence on the order path: a lost leader journals the attempt as not sent and the exchange
never sees it; with the fence open the same intent goes out once."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.errors import NotLeader, TradingError, UpbitError
from trading.events import OrderRejected
from trading.orders import OrderManager
from trading.orders.submit import MemoryJournal, OrderSubmitter
from trading.store import Store, create_engine, session_factory, upgrade
from trading.upbit.auth import Credentials
from trading.upbit.rest import UpbitRestClient

BUY = SubmitOrder(
    intent_id="f1", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("20000")
)


async def test_a_closed_fence_sends_nothing_and_an_open_one_sends_once():
    async with FakeUpbit() as fake:
        fake.set_balance("KRW", D("1000000"))
        fake.set_orderbook("KRW-BTC", asks=[(D("100000000"), D("1"))], bids=[])
        async with UpbitRestClient(
            fake.rest_url, credentials=Credentials("test-access", "test-secret")
        ) as client:
            journal = MemoryJournal()
            submitter = OrderSubmitter(client, journal=journal)
            refusal = ["leader lock lost"]
            submitter.fence = lambda: refusal[0] if refusal else None

            with pytest.raises(NotLeader, match="leader lock lost"):
                await submitter.submit(BUY)
            assert journal.outcomes["ubot-f1-1"] == ("not_sent", "leader lock lost")
            assert not [r for r in fake.requests if r.method == "POST"]

            refusal.clear()
            order = await submitter.submit(SubmitOrder(**{**_fields(BUY), "intent_id": "f2"}))
            assert order.identifier == "ubot-f2-1"
            assert len([r for r in fake.requests if r.method == "POST"]) == 1


async def test_a_lost_leader_is_no_exchange_error_yet_the_order_path_ends_the_intent(tmp_path):
    """Issue #14: NotLeader sat under UpbitError, though no exchange refused anything."""
    assert not issubclass(NotLeader, UpbitError)
    assert issubclass(NotLeader, TradingError)
    url = f"sqlite+aiosqlite:///{tmp_path / 'fence.db'}"
    await upgrade(url)
    db = create_engine(url)
    store, events = Store(session_factory(db)), []
    async with (
        FakeUpbit() as fake,
        UpbitRestClient(
            fake.rest_url, credentials=Credentials("test-access", "test-secret")
        ) as client,
    ):
        orders = OrderManager(client, store, paper=False, on_event=events.append)
        orders.submitter.fence = lambda: "leader lock lost"
        intent = SubmitOrder(
            intent_id=orders.new_intent_id(),
            market="KRW-BTC",
            side=Side.BUY,
            type=OrderType.LIMIT,
            price=D("99000000"),
            volume=D("0.01"),
        )

        with pytest.raises(NotLeader):
            await orders.place(intent)

        assert (await store.order(intent.intent_id)).state == "rejected"
        assert [e.name for e in events if isinstance(e, OrderRejected)] == ["not_leader"]
        assert not [r for r in fake.requests if r.method == "POST"]
    await db.dispose()


def _fields(intent: SubmitOrder) -> dict[str, object]:
    return {name: getattr(intent, name) for name in intent.__dataclass_fields__}
