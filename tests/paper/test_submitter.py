"""``OrderSubmitter`` runs unchanged against the paper exchange, ambiguous failures included."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from trading.domain.orders import OrderReport, OrderStatus, OrderType, Side, SubmitOrder
from trading.errors import InsufficientFunds, RequestTimeout
from trading.exchange import Exchange
from trading.orders.submit import MemoryJournal, OrderSubmitter
from trading.paper import PaperExchange

BUY = SubmitOrder(
    intent_id="i1", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("20000")
)


class LosesResponses:
    """Places the order, then loses the answer once: the submitter must find it, not resend."""

    def __init__(self, inner: PaperExchange) -> None:
        self.inner = inner
        self.rules = inner.rules
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def submit(self, order: SubmitOrder, identifier: str) -> OrderReport:
        await self.inner.submit(order, identifier)
        if not self.lost:
            self.lost += 1
            raise RequestTimeout("lost", name="timeout")
        raise AssertionError("the submitter must not resend a placed order")


def as_exchange(client: Exchange) -> Exchange:
    return client


async def test_plain_submit(ex: PaperExchange):
    ex.set_orderbook("KRW-BTC", asks=[(D("100000000"), D(1))], bids=[])
    journal = MemoryJournal()

    order = await OrderSubmitter(as_exchange(ex), journal=journal).submit(BUY)

    assert (order.identifier, order.status) == (
        "ubot-i1-1",
        OrderStatus.OPEN,
    )  # the acknowledgement
    assert journal.outcomes["ubot-i1-1"][0] == "accepted"
    assert (await ex.get_order(identifier="ubot-i1-1")).executed_volume == D("0.0002")


async def test_rejection_is_journalled(ex: PaperExchange):
    ex.set_orderbook("KRW-BTC", asks=[(D("100000000"), D(1))], bids=[])
    journal = MemoryJournal()
    big = SubmitOrder(
        intent_id="i2", market="KRW-BTC", side=Side.BUY, type=OrderType.MARKET, funds=D("2000000")
    )
    with pytest.raises(InsufficientFunds):
        await OrderSubmitter(ex, journal=journal).submit(big)
    assert journal.outcomes["ubot-i2-1"][0] == "rejected"


async def test_lost_response_is_found_by_identifier(ex: PaperExchange):
    ex.set_orderbook("KRW-BTC", asks=[(D("100000000"), D(1))], bids=[])
    journal = MemoryJournal()
    client = LosesResponses(ex)

    order = await OrderSubmitter(client, journal=journal, settle_s=0.01).submit(BUY)  # type: ignore[arg-type]

    assert order.identifier == "ubot-i1-1"
    assert order.status is OrderStatus.FILLED
    assert len(ex.orders) == 1
