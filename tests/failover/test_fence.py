"""The fence on the order path: a lost leader journals the attempt as not sent and the exchange
never sees it; with the fence open the same intent goes out once."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.errors import NotLeader
from trading.orders.submit import MemoryJournal, OrderSubmitter
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


def _fields(intent: SubmitOrder) -> dict[str, object]:
    return {name: getattr(intent, name) for name in intent.__dataclass_fields__}
