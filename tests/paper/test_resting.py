"""Limit orders that rest, get filled by the tape as maker, and time-in-force rules."""

from __future__ import annotations

from decimal import Decimal as D

from tests.paper.conftest import balance, place, tape
from trading.domain.orders import OrderStatus

P = D("100000000")
FEE = D("0.0005")


async def test_rests_then_fills_partially_then_completely(ex, fills):
    ack = await place(
        ex, "r", market="KRW-BTC", side="bid", ord_type="limit", price=P, volume=D("0.001")
    )
    locked0 = D("100050")
    assert (ack.state, ack.locked) == (OrderStatus.OPEN, locked0)

    assert await ex.on_trade(tape("100001000", "5")) == []  # above our bid: nothing
    first = await ex.on_trade(tape("100000000", "0.0004"))  # touches: partial fill

    order = await ex.get_order(identifier="r")
    assert (order.state, order.executed_volume, order.remaining_volume) == (
        OrderStatus.OPEN,
        D("0.0004"),
        D("0.0006"),
    )
    assert order.locked == D("0.0006") * P * (1 + FEE)
    assert order.paid_fee == D(20)
    assert await balance(ex, "KRW") == (D(1000000) - locked0, order.locked)
    assert (first[0].is_maker, first[0].order_state_after, first[0].price) == (
        True,
        OrderStatus.OPEN,
        P,
    )

    await ex.on_trade(tape("99000000", "1"))  # through it: fills the rest at our price
    order = await ex.get_order(identifier="r")
    assert (order.state, order.locked, order.remaining_fee) == (OrderStatus.FILLED, D(0), D(0))
    assert [f.order_state_after for f in fills] == [OrderStatus.OPEN, OrderStatus.FILLED]
    assert [t.trend for t in order.trades] == ["down", "down"]
    assert await balance(ex, "KRW") == (D(1000000) - D("100050"), D(0))
    assert await balance(ex, "BTC") == (D("0.001"), D(0))
    assert await ex.list_open() == []


async def test_resting_ask_and_price_priority(ex):
    ex.set_orderbook("KRW-BTC", asks=[(P, D(1))], bids=[])
    await place(ex, market="KRW-BTC", side="bid", ord_type="price", price=D(300000))
    await place(
        ex,
        "hi",
        market="KRW-BTC",
        side="ask",
        ord_type="limit",
        price=D("102000000"),
        volume=D("0.001"),
    )
    await place(
        ex,
        "lo",
        market="KRW-BTC",
        side="ask",
        ord_type="limit",
        price=D("101000000"),
        volume=D("0.001"),
    )
    assert (await balance(ex, "BTC"))[1] == D("0.002")

    await ex.on_trade(tape("103000000", "0.0015"))

    lo, hi = await ex.get_order(identifier="lo"), await ex.get_order(identifier="hi")
    assert (lo.state, lo.executed_volume) == (
        OrderStatus.FILLED,
        D("0.001"),
    )  # cheaper ask goes first
    assert (hi.state, hi.executed_volume) == (OrderStatus.OPEN, D("0.0005"))
    assert hi.paid_fee == D("102000000") * D("0.0005") * FEE
    assert [o.identifier for o in await ex.list_open(market="KRW-BTC")] == ["hi"]


async def test_crossing_limit_takes_at_book_prices_and_rests_the_rest(ex):
    ex.set_orderbook("KRW-BTC", asks=[(D("99000000"), D("0.0002")), (P, D("0.0003"))], bids=[])
    await place(
        ex, "x", market="KRW-BTC", side="bid", ord_type="limit", price=P, volume=D("0.001")
    )
    order = await ex.get_order(identifier="x")
    assert [(t.price, t.volume) for t in order.trades] == [
        (D("99000000"), D("0.0002")),
        (P, D("0.0003")),
    ]
    assert order.state == OrderStatus.OPEN
    assert order.locked == D("0.0005") * P * (1 + FEE)  # the better price was released at once
    spent = D("99000000") * D("0.0002") * (1 + FEE) + P * D("0.0003") * (1 + FEE)
    assert await balance(ex, "KRW") == (D(1000000) - spent - order.locked, order.locked)


async def test_ioc_and_fok_limits(ex):
    ex.set_orderbook("KRW-BTC", asks=[(P, D("0.0003"))], bids=[])
    await place(
        ex,
        "fok",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=P,
        volume=D("0.001"),
        time_in_force="fok",
    )
    fok = await ex.get_order(identifier="fok")
    assert (fok.state, fok.executed_volume) == (OrderStatus.CANCELLED, D(0))
    assert await balance(ex, "KRW") == (D(1000000), D(0))

    await place(
        ex,
        "ioc",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=P,
        volume=D("0.001"),
        time_in_force="ioc",
    )
    ioc = await ex.get_order(identifier="ioc")
    assert (ioc.state, ioc.executed_volume) == (OrderStatus.CANCELLED, D("0.0003"))
    assert (await balance(ex, "KRW"))[1] == D(0)

    ex.set_orderbook("KRW-BTC", asks=[(P, D("0.001"))], bids=[])
    await place(
        ex,
        "fok2",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=P,
        volume=D("0.001"),
        time_in_force="fok",
    )
    assert (await ex.get_order(identifier="fok2")).state == OrderStatus.FILLED


async def test_post_only(ex, fills):
    ex.set_orderbook("KRW-BTC", asks=[(P, D(1))], bids=[(D("99000000"), D(1))])
    await place(
        ex,
        "cross",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=P,
        volume=D("0.001"),
        time_in_force="post_only",
    )
    crossed = await ex.get_order(identifier="cross")
    assert (crossed.state, crossed.executed_volume) == (OrderStatus.CANCELLED, D(0))
    assert fills == []

    await place(
        ex,
        "maker",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("99500000"),
        volume=D("0.001"),
        time_in_force="post_only",
    )
    assert (await ex.get_order(identifier="maker")).state == OrderStatus.OPEN
    await ex.on_trade(tape("99500000", "1"))
    assert (await ex.get_order(identifier="maker")).state == OrderStatus.FILLED
    assert fills[-1].is_maker


async def test_cancel_partially_filled(make):
    seen = []
    ex = make(on_order=seen.append)
    await place(
        ex, "p", market="KRW-BTC", side="bid", ord_type="limit", price=P, volume=D("0.001")
    )
    await ex.on_trade(tape("100000000", "0.0004"))
    snapshot = await ex.cancel_order(identifier="p")
    assert (snapshot.state, snapshot.executed_volume) == (OrderStatus.OPEN, D("0.0004"))
    after = await ex.get_order(identifier="p")
    assert (after.state, after.executed_volume, len(after.trades)) == (
        OrderStatus.CANCELLED,
        D("0.0004"),
        1,
    )
    assert await balance(ex, "KRW") == (D(1000000) - D("0.0004") * P * (1 + FEE), D(0))
    assert [o.status for o in seen] == [OrderStatus.OPEN, OrderStatus.OPEN, OrderStatus.CANCELLED]


async def test_open_orders_newest_first(ex):
    for i in range(3):
        await place(
            ex,
            f"o{i}",
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=P - i * 1_000_000,
            volume=D("0.0001"),
        )
    assert [o.identifier for o in await ex.list_open()] == ["o2", "o1", "o0"]
    assert await ex.list_open(market="KRW-ETH") == []
