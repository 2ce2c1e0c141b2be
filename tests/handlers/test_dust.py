"""Issue #11.2, "dust gets stuck forever", as a user meets it in chat.

On main, ``/sell btc 99.97`` left a remainder worth less than Upbit's 5,000 KRW minimum order
long: it could never be sold, blocked new entries on the market, held a
``max_open_positions`` slot, and ``/close`` answered "Exits sent: -" while every try was
refused locally. Now a sell that would leave such a rest sells everything, a remainder too
small to sell is dust (no position), chat shows it with its KRW value, and the next exit on
the market sells it along.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.engine.conftest import limits
from tests.handlers.conftest import OPERATOR, VIEWER
from tests.handlers.instance import DAY1, Instance, minutes
from trading.events import OrderRejected, PositionClosed
from trading.positions import PositionState
from trading.store import Store

S = PositionState
BTC = "KRW-BTC"
ONE_SLOT = limits(max_open_positions=1)


@pytest.fixture
async def bot(store: Store):
    bot = await Instance.start(store, ONE_SLOT)
    await bot.trade(100_000_000, DAY1)
    _, bought = await bot.confirm(OPERATOR, "/buy btc 1000000")
    assert "sent" in bought.plain_text()
    assert bot.rig.engine.positions.get(BTC).state is S.LONG
    yield bot
    await bot.stop()


async def coin(bot: Instance) -> D:
    """The BTC the (paper) account holds."""
    held = {a.currency: a.total for a in await bot.api.balances()}
    return held.get("BTC", D(0))


async def orders(bot: Instance) -> int:
    return len(await bot.store.recent_orders(100))


async def leave_dust(bot: Instance) -> D:
    """Sell 99% (the 1% rest, ~10,000 KRW, is sellable), then the price halves: the rest is
    worth ~5,000 x 0.9 KRW, below the minimum. Returns the dust."""
    await bot.confirm(OPERATOR, "/sell btc 99")
    rest = bot.rig.engine.positions.get(BTC)
    assert rest.state is S.LONG
    assert rest.volume * 100_000_000 > 5_000
    await bot.trade(45_000_000, DAY1 + minutes(1))  # through the stop: it tries to sell
    await bot.trade(45_000_000, DAY1 + minutes(2))
    dusty = bot.rig.engine.positions.get(BTC)
    assert dusty.state is not S.LONG
    assert dusty.dust == rest.volume
    return dusty.dust


async def test_sell_99_97_percent_sells_everything_and_the_preview_says_so(bot):
    preview = await bot.say(OPERATOR, "/sell btc 99.97")
    text = preview.plain_text()
    assert "Share: 99.97% → 100%" in text
    assert "The rest (300 KRW) would be below Upbit's 5,000 KRW minimum order" in text
    assert "this sells the whole position" in text
    ko = await bot.dispatcher.handle(OPERATOR, "/sell btc 99.97", "ko")
    assert ko is not None
    assert "포지션 전부를 매도합니다" in ko.plain_text()

    _, done = await bot.confirm(OPERATOR, "/sell btc 99.97")
    assert done.title == "Sell order for 100% of KRW-BTC sent."
    position = bot.rig.engine.positions.get(BTC)
    assert position.state is not S.LONG  # nothing stuck
    assert (position.volume, position.dust) == (0, 0)
    assert await coin(bot) == 0
    [closed] = bot.of(PositionClosed)
    assert closed.reason == "manual"


async def test_a_sell_below_the_minimum_is_refused_before_the_press(bot):
    refused = await bot.say(OPERATOR, "/sell btc 0.1")  # 0.00000999 BTC
    assert not refused.buttons
    assert "a 999 KRW sell is below Upbit's minimum order of 5,000 KRW" in refused.plain_text()
    ko = await bot.dispatcher.handle(OPERATOR, "/sell btc 0.1", "ko")
    assert ko is not None
    assert "최소 주문 금액 5,000 KRW" in ko.plain_text()
    assert await orders(bot) == 1  # only the buy


async def test_a_remainder_too_small_to_sell_is_dust_that_frees_the_slot(bot):
    dust = await leave_dust(bot)
    sent = await orders(bot)
    assert bot.rig.engine.stops.get(BTC) is None
    assert not bot.of(OrderRejected)  # the stop never sent what the minimum refuses
    [closed] = bot.of(PositionClosed)  # the round trip ended as a full exit would
    assert closed.volume == D("0.009995") - dust

    for _ in range(3):  # the stop and the strategy do not keep trying
        await bot.trade(44_000_000, DAY1 + minutes(3 + _))
    assert await orders(bot) == sent
    allowed, usage = await bot.risk(VIEWER)
    assert allowed
    assert usage["Positions"] == "0 of 1 positions"

    _, bought = await bot.confirm(OPERATOR, "/buy btc 1000000")  # the slot is free again
    assert "sent" in bought.plain_text(), bought.plain_text()
    position = bot.rig.engine.positions.get(BTC)
    assert (position.state, position.dust) == (S.LONG, dust)


async def test_status_and_balance_show_the_dust_with_its_value(bot):
    dust = await leave_dust(bot)
    value = f"{dust * 44_000_000:,.0f}"
    await bot.trade(44_000_000, DAY1 + minutes(3))
    line = (
        f"Dust KRW-BTC: {dust.normalize():f} ≈ {value} KRW, below Upbit's 5,000 KRW minimum"
        " order: no position, sold with the next exit on KRW-BTC."
    )
    status = await bot.say(VIEWER, "/status")
    assert line in status.lines
    assert status.table is not None
    assert status.table.rows[0][1] != "long"
    balance = await bot.say(VIEWER, "/balance")
    assert line in balance.lines
    ko = await bot.dispatcher.handle(VIEWER, "/status", "ko")
    assert ko is not None
    assert f"자투리 KRW-BTC: {dust.normalize():f} ≈ {value} KRW" in ko.plain_text()


async def test_close_of_a_market_holding_only_dust_says_why_nothing_is_sold(bot):
    await leave_dust(bot)
    sent = await orders(bot)
    reply = await bot.say(OPERATOR, "/close btc")
    assert not reply.buttons  # nothing to confirm: nothing can be sold
    text = reply.plain_text()
    assert "Nothing is sold on KRW-BTC: it holds only dust" in text
    assert "below Upbit's 5,000 KRW minimum order" in text
    assert "It will be sold with the next exit on KRW-BTC." in text
    everything = await bot.say(OPERATOR, "/close all")
    assert "Nothing is sold on KRW-BTC" in everything.plain_text()
    ko = await bot.dispatcher.handle(OPERATOR, "/close btc", "ko")
    assert ko is not None
    assert "다음 매도 때 함께 팝니다" in ko.plain_text()
    assert await orders(bot) == sent


async def test_the_next_exit_sells_the_position_and_the_dust(bot):
    dust = await leave_dust(bot)
    await bot.trade(45_000_000, DAY1 + minutes(4))
    await bot.confirm(OPERATOR, "/buy btc 1000000")
    position = bot.rig.engine.positions.get(BTC)
    assert await coin(bot) == position.volume + dust

    preview = await bot.say(OPERATOR, "/close btc")
    assert f"KRW-BTC: {(position.volume + dust).normalize():f}" in preview.plain_text()
    sell = await bot.say(OPERATOR, "/sell btc")
    assert f"Dust sold along: {dust.normalize():f}" in sell.plain_text()
    await bot.confirm(OPERATOR, "/close btc")
    after = bot.rig.engine.positions.get(BTC)
    assert (after.state, after.volume, after.dust) == (S.COOLDOWN, 0, 0)
    assert await coin(bot) == 0
    closed = bot.of(PositionClosed)[-1]
    assert closed.volume == position.volume + dust
