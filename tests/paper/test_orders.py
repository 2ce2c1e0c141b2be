"""Orders that trade on arrival, Upbit's fee/lock arithmetic to the digit, and every refusal."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.paper.conftest import balance, command, place, tape
from trading.domain.orders import OrderStatus
from trading.errors import (
    BelowMinTotal,
    InsufficientFunds,
    InvalidOrder,
    InvalidPrice,
    MarketOffline,
    NotFound,
    ValidationError,
)
from trading.timeframes import KST


async def test_doc_limit_bid_small(ex):
    order = await place(
        ex,
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("155772000"),
        volume=D("0.0001"),
    )
    assert (order.state, order.reserved_fee, order.locked) == (
        OrderStatus.OPEN,
        D("7.7886"),
        D("15584.9886"),
    )
    assert order.remaining_fee == D("7.7886")
    assert await balance(ex, "KRW") == (D("1000000") - D("15584.9886"), D("15584.9886"))
    assert order.created_at.utcoffset() == KST.utcoffset(None)


async def test_doc_limit_bid_one_btc_and_cancel(make):
    ex = make(start_krw=D("200000000"))
    order = await place(
        ex,
        "big",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("140000000"),
        volume=D(1),
    )
    assert (order.reserved_fee, order.locked) == (D("70000"), D("140070000"))

    cancelled = await ex.cancel_order(identifier="big")

    assert (cancelled.state, cancelled.locked) == (OrderStatus.OPEN, D("140070000"))  # as it was
    assert (await ex.get_order(uuid=order.uuid)).state == OrderStatus.CANCELLED
    assert await balance(ex, "KRW") == (D("200000000"), D(0))
    with pytest.raises(NotFound) as err:
        await ex.cancel_order(uuid=order.uuid)
    assert err.value.name == "order_not_found"


async def test_doc_market_buy_ends_cancel_with_dust(ex, fills):
    ex.set_orderbook("KRW-BTC", asks=[(D("160594000"), D(1))], bids=[(D("160593000"), D(1))])

    ack = await place(ex, "mb", market="KRW-BTC", side="bid", ord_type="price", price=D(6000))

    assert (ack.state, ack.executed_volume, ack.reserved_fee, ack.locked) == (
        OrderStatus.OPEN,
        D(0),
        D(3),
        D(6003),
    )
    order = await ex.get_order(identifier="mb")
    assert order.state == OrderStatus.CANCELLED
    assert order.has_fills
    assert order.executed_volume == D("0.00003736")
    assert order.paid_fee == D("2.99989592")
    assert order.remaining_fee == D("0.00010408")
    assert order.locked == D("0.20826408")
    assert order.volume is None
    assert order.remaining_volume is None
    assert [t.price for t in order.trades] == [D("160594000")]
    assert await balance(ex, "KRW") == (D(1000000) - D("5999.79184") - D("2.99989592"), D(0))
    (btc,) = [a for a in await ex.accounts() if a.currency == "BTC"]
    assert (btc.free, btc.avg_buy_price) == (D("0.00003736"), D("160594000"))
    (fill,) = fills
    assert (fill.order_state_after, fill.is_maker, fill.fee) == (
        OrderStatus.CANCELLED,
        False,
        D("2.99989592"),
    )
    assert fill.identifier == "mb"


async def test_market_buy_spent_exactly_is_done(ex):
    ex.set_orderbook("KRW-BTC", asks=[(D("100000000"), D(1))], bids=[])
    await place(ex, "x", market="KRW-BTC", side="bid", ord_type="price", price=D(10000))
    order = await ex.get_order(identifier="x")
    assert (order.state, order.executed_volume, order.locked) == (
        OrderStatus.FILLED,
        D("0.0001"),
        D(0),
    )
    assert order.remaining_fee == D(0)


async def test_market_buy_walks_the_book(ex):
    ex.set_orderbook(
        "KRW-BTC", asks=[(D("100000000"), D("0.0001")), (D("100100000"), D(1))], bids=[]
    )
    await place(ex, "x", market="KRW-BTC", side="bid", ord_type="price", price=D(20000))
    order = await ex.get_order(identifier="x")
    assert [(t.price, t.volume) for t in order.trades] == [
        (D("100000000"), D("0.0001")),
        (D("100100000"), D("0.0000999")),
    ]
    assert order.executed_funds == D("19999.99")
    assert order.state == OrderStatus.CANCELLED
    # the level was consumed: the book shows what is left
    (book,) = await ex.orderbook(["KRW-BTC", "KRW-ETH"])
    assert book.asks == ((D("100100000"), D(1) - D("0.0000999")),)
    assert book.bids == ()


async def test_doc_market_sell_fee_from_proceeds(ex):
    market = "KRW-USDT"
    ex.set_orderbook(market, asks=[(D(1375), D(100))], bids=[(D(1375), D(100))])
    await place(
        ex, market=market, side="bid", ord_type="limit", price=D(1375), volume=D("5.377594")
    )
    krw_before = (await balance(ex, "KRW"))[0]

    ack = await place(ex, "s", market=market, side="ask", ord_type="market", volume=D("5.377594"))

    assert (ack.reserved_fee, ack.locked) == (D(0), D("5.377594"))
    order = await ex.get_order(identifier="s")
    assert (order.state, order.locked, order.reserved_fee) == (OrderStatus.FILLED, D(0), D(0))
    assert order.paid_fee == D("3.697095875")
    assert order.trades[0].funds == D("7394.19175")
    assert order.trades[0].trend == "down"
    assert (await balance(ex, "KRW"))[0] == krw_before + D("7394.19175") - D("3.697095875")
    assert [a.currency for a in await ex.accounts()] == ["KRW"]


async def test_no_book_uses_last_price_with_slippage(ex):
    await ex.on_trade(tape("100000000", "1"))
    await place(ex, "b", market="KRW-BTC", side="bid", ord_type="price", price=D(10005))
    await place(ex, "s", market="KRW-BTC", side="ask", ord_type="market", volume=D("0.0001"))
    buy, sell = await ex.get_order(identifier="b"), await ex.get_order(identifier="s")
    assert (buy.trades[0].price, buy.executed_volume, buy.state) == (
        D("100050000"),
        D("0.0001"),
        OrderStatus.FILLED,
    )
    assert (sell.trades[0].price, sell.state) == (D("99950000"), OrderStatus.FILLED)


async def test_no_price_at_all_is_refused_and_burns_the_identifier(ex):
    with pytest.raises(MarketOffline):
        await place(ex, "m", market="KRW-BTC", side="bid", ord_type="price", price=D(10000))
    ex.set_orderbook("KRW-BTC", asks=[(D("100000000"), D(1))], bids=[])
    with pytest.raises(InvalidOrder) as err:
        await place(ex, "m", market="KRW-BTC", side="bid", ord_type="price", price=D(10000))
    assert err.value.name == "duplicate_identifier"
    assert await balance(ex, "KRW") == (D(1000000), D(0))


async def test_insufficient_funds(ex):
    with pytest.raises(InsufficientFunds) as bid:
        await place(
            ex,
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("100000000"),
            volume=D("0.01"),
        )
    assert bid.value.name == "insufficient_funds_bid"
    ex.set_orderbook("KRW-BTC", asks=[], bids=[(D("100000000"), D(1))])
    with pytest.raises(InsufficientFunds) as ask:
        await place(ex, market="KRW-BTC", side="ask", ord_type="market", volume=D("0.001"))
    assert ask.value.name == "insufficient_funds_ask"
    # the fee counts: 999,500 + 499.75 fee > 1,000,000 - nothing locked, nothing changed
    with pytest.raises(InsufficientFunds):
        await place(ex, market="KRW-BTC", side="bid", ord_type="price", price=D(999999))
    assert await balance(ex, "KRW") == (D(1000000), D(0))
    assert await ex.list_open() == []


async def test_rule_checks_before_anything_changes(ex):
    with pytest.raises(InvalidPrice) as tick:
        ex.check(
            command(
                market="KRW-BTC",
                side="bid",
                ord_type="limit",
                price=D("100000500"),
                volume=D("0.001"),
            )
        )
    assert tick.value.name == "invalid_price_bid"
    with pytest.raises(BelowMinTotal) as small:
        await place(ex, market="KRW-BTC", side="bid", ord_type="price", price=D(4999))
    assert small.value.name == "under_min_total_bid"
    with pytest.raises(InvalidOrder) as best:
        await place(ex, market="KRW-BTC", side="bid", ord_type="best", price=D(6000))
    assert best.value.name == "invalid_time_in_force"
    # placing checks too (a caller may skip ``check``), and the identifier is spent
    off_grid = {"market": "KRW-BTC", "side": "ask", "ord_type": "limit", "volume": D(1)}
    with pytest.raises(InvalidPrice):
        await place(ex, "raw", **off_grid, price=D("100000500"))
    with pytest.raises(InvalidOrder, match="already used"):
        await place(ex, "raw", **off_grid, price=D("100000000"))
    # a market sell is valued at the best bid for the minimum total
    await place(
        ex, market="KRW-BTC", side="bid", ord_type="limit", price=D("100000000"), volume=D("0.001")
    )
    ex.set_orderbook("KRW-BTC", asks=[], bids=[(D("100000000"), D(1))])
    with pytest.raises(BelowMinTotal) as sell:
        await place(ex, market="KRW-BTC", side="ask", ord_type="market", volume=D("0.00001"))
    assert sell.value.name == "under_min_total_ask"


async def test_best_orders(ex):
    ex.set_orderbook(
        "KRW-BTC",
        asks=[(D("100000000"), D("0.0001")), (D("100100000"), D(1))],
        bids=[(D("99900000"), D("0.0001")), (D("99800000"), D(1))],
    )
    await place(
        ex,
        "bi",
        market="KRW-BTC",
        side="bid",
        ord_type="best",
        price=D(20000),
        time_in_force="ioc",
    )
    bid = await ex.get_order(identifier="bi")
    assert (bid.state, bid.executed_volume) == (
        OrderStatus.CANCELLED,
        D("0.0001"),
    )  # top level only

    await place(
        ex,
        "af",
        market="KRW-BTC",
        side="ask",
        ord_type="best",
        volume=D("0.0001"),
        time_in_force="fok",
    )
    assert (await ex.get_order(identifier="af")).state == OrderStatus.FILLED
    await place(ex, "bf", market="KRW-BTC", side="bid", ord_type="price", price=D(12000))
    ex.set_orderbook("KRW-BTC", asks=[], bids=[(D("99900000"), D("0.00001"))])
    await place(
        ex,
        "af2",
        market="KRW-BTC",
        side="ask",
        ord_type="best",
        volume=D("0.00006"),
        time_in_force="fok",
    )
    killed = await ex.get_order(identifier="af2")
    assert (killed.state, killed.executed_volume, killed.locked) == (
        OrderStatus.CANCELLED,
        D(0),
        D("0.00006"),
    )
    assert (await balance(ex, "BTC"))[1] == D(0)


async def test_lookups(ex):
    with pytest.raises(NotFound):
        await ex.get_order(uuid="nope")
    with pytest.raises(NotFound):
        await ex.get_order(identifier="nope")
    with pytest.raises(ValidationError):
        await ex.get_order()
    with pytest.raises(ValidationError):
        await ex.get_order(uuid="a", identifier="b")


async def test_orderbook_snapshot(ex):
    ex.set_orderbook(
        "KRW-BTC", asks=[(D(101), D(2)), (D(102), D(3))], bids=[(D(100), D(1)), (D(99), D(4))]
    )
    (book,) = await ex.orderbook(["KRW-BTC"], count=1)
    assert (book.asks, book.bids) == (((D(101), D(2)),), ((D(100), D(1)),))
