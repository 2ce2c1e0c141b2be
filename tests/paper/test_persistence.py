"""A restart restores the paper account exactly from a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.paper.conftest import Clock, place, tape
from trading.domain.orders import OrderStatus
from trading.errors import InvalidOrder, NotFound
from trading.paper import STATE_KEY, PaperExchange
from trading.store import Store, create_engine, session_factory, upgrade
from trading.upbit.market_rules import UpbitMarketRules


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield Store(session_factory(engine))
    finally:
        await engine.dispose()


async def test_restart_keeps_the_account(store: Store):
    ex = await PaperExchange.load(store, UpbitMarketRules(), start_krw=D("1000000"), clock=Clock())
    ex.set_orderbook("KRW-BTC", asks=[(D("160594000"), D(1))], bids=[])
    await place(ex, "mb", market="KRW-BTC", side="bid", ord_type="price", price=D(6000))
    await place(
        ex,
        "rest",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("150000000"),
        volume=D("0.0001"),
    )
    await ex.on_trade(tape("150000000", "0.00004"))
    before_accounts = await ex.accounts()
    before_open = await ex.list_open()

    again = await PaperExchange.load(store, UpbitMarketRules(), start_krw=D("5"), clock=Clock())

    assert await again.accounts() == before_accounts
    assert await again.list_open() == before_open
    assert await again.get_order(identifier="mb") == await ex.get_order(identifier="mb")
    with pytest.raises(InvalidOrder):
        await place(
            again,
            "mb",
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("150000000"),
            volume=D("0.0001"),
        )
    # the restored resting order keeps trading and the change is saved too
    await again.on_trade(tape("149000000", "1"))
    third = await PaperExchange.load(store, UpbitMarketRules(), start_krw=D("5"))
    assert (await third.get_order(identifier="rest")).state == OrderStatus.FILLED
    assert (await third.accounts())[0].locked == D(0)
    assert "mb" in (await store.get_state(STATE_KEY))["identifiers"]


async def test_fresh_store_starts_with_start_krw_and_bounds_history(store: Store):
    ex = await PaperExchange.load(
        store, UpbitMarketRules(), start_krw=D("100000"), max_closed_orders=2
    )
    assert (await store.get_state(STATE_KEY))["ledger"]["balances"]["KRW"]["free"] == "100000"
    for i in range(4):
        await place(
            ex,
            f"c{i}",
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("100000000"),
            volume=D("0.0001"),
        )
        await ex.cancel_order(identifier=f"c{i}")
    saved = await store.get_state(STATE_KEY)
    assert len(saved["orders"]) == 2
    assert saved["identifiers"] == ["c0", "c1", "c2", "c3"]
    with pytest.raises(NotFound):
        await ex.get_order(identifier="c0")
    again = await PaperExchange.load(
        store, UpbitMarketRules(), start_krw=D("1"), max_closed_orders=2
    )
    assert (await again.get_order(identifier="c3")).state == OrderStatus.CANCELLED
    with pytest.raises(InvalidOrder):
        await place(
            again,
            "c0",
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("100000000"),
            volume=D("0.0001"),
        )
