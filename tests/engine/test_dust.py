"""The engine and dust (issue #11.2): a long worth less than the minimum order at a candle
close is set aside; dust holds no slot but is part of the equity."""

from __future__ import annotations

from decimal import Decimal as D

from tests.engine.conftest import limits
from tests.handlers.instance import DAY1, Instance, minutes
from trading.events import PositionClosed
from trading.positions import PositionState
from trading.store import Store

BTC = "KRW-BTC"
NO_STOPS = limits(position_size_krw=D(10_000), atr_stop_mult=D(0), max_open_positions=1)


async def test_a_long_that_falls_under_the_minimum_is_dust_at_the_candle_close(store: Store):
    bot = await Instance.start(store, NO_STOPS)
    engine = bot.rig.engine
    try:
        await bot.trade(100_000_000, DAY1)
        await engine.enter_now(BTC, D(10_000), "test")
        await bot.rig.loop.drain()
        bought = engine.positions.get(BTC)
        assert bought.state is PositionState.LONG

        await bot.trade(45_000_000, DAY1 + minutes(1))  # the 100M candle closes: sellable
        assert engine.positions.get(BTC).state is PositionState.LONG
        await bot.trade(45_000_000, DAY1 + minutes(2))  # the 45M candle closes: ~4,500 KRW
        dust = engine.positions.get(BTC)
        assert (dust.state, dust.volume, dust.dust) == (PositionState.FLAT, 0, bought.volume)
        assert dust.dust_cost == bought.entry_cost + bought.entry_fees
        assert not bot.of(PositionClosed)  # nothing was sold: no round trip to report

        account = await engine.account.snapshot(engine.positions.all(), {BTC: D(45_000_000)})
        assert account.open_positions == 0
        assert account.holdings_krw == bought.volume * 45_000_000  # still money
        assert engine.positions.can_enter(BTC, DAY1 + minutes(3)) == (True, "ok")
        [held] = bot.api.dust()
        assert (held.market, held.volume, held.value_krw) == (
            BTC,
            bought.volume,
            bought.volume * 45_000_000,
        )
    finally:
        await bot.stop()


async def test_dust_is_restored_after_a_restart(store: Store):
    bot = await Instance.start(store, NO_STOPS)
    await bot.trade(100_000_000, DAY1)
    await bot.rig.engine.enter_now(BTC, D(10_000), "test")
    await bot.rig.loop.drain()
    await bot.trade(40_000_000, DAY1 + minutes(1))
    await bot.trade(40_000_000, DAY1 + minutes(2))
    before = bot.rig.engine.positions.get(BTC)
    assert before.dust
    await bot.stop()

    again = await Instance.start(store, NO_STOPS)
    try:
        assert again.rig.engine.positions.get(BTC) == before
    finally:
        await again.stop()
