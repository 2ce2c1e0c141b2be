"""Paper and backtest price on the tick band the price is in, as the fake Upbit checks it.

``PaperExchange`` validates with the same ``UpbitMarketRules`` as the live client and fills takers
through ``fill_model.slipped_price``, which the backtester calls too. At every boundary of the
KRW table both must follow the band of the price itself, never the band a coin started in.
"""

from __future__ import annotations

from decimal import ROUND_UP
from decimal import Decimal as D

import pytest

from tests.tick_table import BOUNDARIES, Boundary
from trading.domain import TradePrint
from trading.domain.orders import OrderStatus, OrderType, Side, SubmitOrder
from trading.errors import InvalidPrice
from trading.paper.fill_model import slipped_price
from trading.upbit.market_rules import UpbitMarketRules

RULES = UpbitMarketRules()


def limit_bid(price: D) -> SubmitOrder:
    volume = (D(6000) / price).quantize(D("0.00000001"), ROUND_UP)
    return SubmitOrder("t", "KRW-BTC", Side.BUY, OrderType.LIMIT, price=price, volume=volume)


@pytest.mark.parametrize("b", BOUNDARIES, ids=str)
async def test_the_paper_exchange_takes_each_band_grid_at_every_boundary(make, b: Boundary):
    ex = make(start_krw=D(1_000_000))
    ex.set_orderbook("KRW-BTC", asks=[(b.price * 10, D(10**9))], bids=[])
    for n, price in enumerate((b.price - b.below, b.price, b.price + b.above)):
        await ex.place(limit_bid(price), f"ok-{n}")
    if b.below < b.above:
        with pytest.raises(InvalidPrice) as info:
            ex.check(limit_bid(b.price + b.below))
        assert info.value.name == "invalid_price_bid"


@pytest.mark.parametrize("b", BOUNDARIES, ids=str)
def test_the_fill_model_slips_onto_the_band_it_lands_in(b: Boundary):
    def tick_at(price: D) -> D:  # near this boundary, from the table written in the test
        return b.above if price >= b.price else b.below

    # 10 bps: a buy from just under the boundary, a sell from right on it
    for last, side, target in (
        (b.price - b.below, "bid", (b.price - b.below) * D("1.001")),
        (b.price, "ask", b.price * D("0.999")),
    ):
        got = slipped_price(RULES, "KRW-BTC", last, side, D(10))
        assert got % tick_at(got) == 0, f"{got} is off its band's grid"
        # the nearest grid price on the taker's worse side of the target, never better
        if side == "bid":
            assert target <= got < target + tick_at(got)
        else:
            assert target - tick_at(got) < got <= target


async def test_a_paper_limit_after_the_coin_crossed_a_band_is_on_the_new_grid(make):
    ex = make(start_krw=D(10_000_000))
    await ex.on_trade(TradePrint("KRW-BTC", D(99_900), D(1), ex._now()))
    await ex.on_trade(TradePrint("KRW-BTC", D(100_200), D(1), ex._now()))

    price = RULES.round_for_side("KRW-BTC", D("100450.5"), "bid")
    order = await ex.place(limit_bid(price), "after")

    assert (order.price, order.state) == (D(100_400), OrderStatus.OPEN)
