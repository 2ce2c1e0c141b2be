"""For any orders and prints: no money is created or lost and no balance goes negative.

Conservation: KRW held + fees paid + what the held BTC cost at its trade prices (buy funds
minus sell funds) always equals the starting KRW; BTC held equals bought minus sold; locks
equal what the open orders say they lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.paper.conftest import Clock, place, tape
from trading.domain.orders import Side
from trading.errors import OrderRejected
from trading.paper import PaperExchange, PaperFill
from trading.upbit.market_rules import UpbitMarketRules

START = D("2000000")
PRICES = st.integers(min_value=950, max_value=1050).map(lambda n: D(n) * 100_000)  # 100k tick
VOLUMES = st.integers(min_value=1, max_value=300_000).map(lambda n: D(n) / 10**8)

ops = st.one_of(
    st.tuples(st.just("book"), PRICES, VOLUMES, VOLUMES),
    st.tuples(st.just("print"), PRICES, VOLUMES),
    st.tuples(st.just("buy"), st.integers(min_value=5000, max_value=400_000).map(D)),
    st.tuples(st.just("sell"), VOLUMES),
    st.tuples(
        st.just("limit"),
        st.sampled_from(["bid", "ask"]),
        PRICES,
        VOLUMES,
        st.sampled_from([None, "ioc", "fok", "post_only"]),
    ),
    st.tuples(
        st.just("best"), st.sampled_from(["bid", "ask"]), VOLUMES, st.sampled_from(["ioc", "fok"])
    ),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=5)),
)


async def run(steps: list[tuple[object, ...]]) -> None:
    fills: list[PaperFill] = []
    ex = PaperExchange(UpbitMarketRules(), start_krw=START, clock=Clock(), on_fill=fills.append)
    for n, step in enumerate(steps):
        kind = step[0]
        order: dict[str, Any] | None = None
        if kind == "book":
            _, price, ask_size, bid_size = step
            assert isinstance(price, D)
            ex.set_orderbook("KRW-BTC", [(price + 100_000, ask_size)], [(price, bid_size)])
        elif kind == "print":
            await ex.on_trade(tape(str(step[1]), str(step[2])))
        elif kind == "buy":
            order = {"side": "bid", "ord_type": "price", "price": step[1]}
        elif kind == "sell":
            order = {"side": "ask", "ord_type": "market", "volume": step[1]}
        elif kind == "limit":
            _, side, price, volume, tif = step
            order = {"side": side, "ord_type": "limit", "price": price, "volume": volume}
            order["time_in_force"] = tif or None
        elif kind == "best":
            _, side, volume, tif = step
            assert isinstance(volume, D)
            amount = {"price": volume * 10**9 // 1} if side == "bid" else {"volume": volume}
            order = {"side": side, "ord_type": "best", "time_in_force": tif, **amount}
        elif kind == "cancel":
            open_ = await ex.list_open()
            if open_:
                await ex.cancel(open_[int(str(step[1])) % len(open_)].order_id)
        if order is not None:
            with contextlib.suppress(OrderRejected):
                await place(ex, f"p{n}", market="KRW-BTC", **order)
        check(ex, fills)


def check(ex: PaperExchange, fills: list[PaperFill]) -> None:
    ledger = ex.ledger
    for book in (ledger.free, ledger.locked):
        assert all(v >= 0 for v in book.values()), book
    bought = sum((f.volume for f in fills if f.side is Side.BUY), D(0))
    sold = sum((f.volume for f in fills if f.side is Side.SELL), D(0))
    net_cost = sum((f.funds if f.side is Side.BUY else -f.funds for f in fills), D(0))
    fees = sum((f.fee for f in fills), D(0))
    assert ledger.fees_paid.get("KRW", D(0)) == fees
    assert ledger.total("KRW") + fees + net_cost == START
    assert ledger.total("BTC") == bought - sold
    open_orders = [o for o in ex.orders.values() if o.is_open]
    assert ledger.locked.get("KRW", D(0)) == sum(
        (o.locked for o in open_orders if o.side is Side.BUY), D(0)
    )
    assert ledger.locked.get("BTC", D(0)) == sum(
        (o.remaining_volume or D(0) for o in open_orders if o.side is Side.SELL), D(0)
    )
    for order in ex.orders.values():
        assert order.locked >= 0
        assert order.executed_funds == sum((t.funds for t in order.trades), D(0))


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=40))
def test_money_is_conserved(steps: list[tuple[object, ...]]) -> None:
    asyncio.run(run(steps))
