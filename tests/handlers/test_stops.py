"""Every position has a stop while stops are on, whatever the chat did: ``/buy`` before the
ATR is ready, ``/set`` of the ATR period or of the ATR stop itself; ``/status`` shows it."""

from __future__ import annotations

from decimal import Decimal as D

from handlers.fmt import price
from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from trading.domain.rules import Rounding
from trading.positions import Position, PositionState
from trading.upbit.market_rules import UpbitMarketRules

LONG = PositionState.LONG


def fallback(position: Position, percent: str = "2") -> D:
    entry = position.avg_entry_price
    assert entry is not None
    return UpbitMarketRules().round_price("KRW-BTC", entry * (1 - D(percent) / 100), Rounding.DOWN)


async def buy(rig: Rig) -> Position:
    await rig.say(OPERATOR, "/resume")
    bought = await rig.confirm(OPERATOR, "/buy btc 10만")
    assert "sent" in bought.title, bought.plain_text()
    await rig.engine.loop.drain()
    position = rig.engine.engine.positions.get("KRW-BTC")
    assert position.state is LONG
    return position


async def status_row(rig: Rig) -> tuple[str, ...]:
    reply = await rig.say(VIEWER, "/status", "en")
    assert reply.table is not None
    assert "Stop" in reply.table.headers
    (row,) = [r for r in reply.table.rows if r[0] == "KRW-BTC"]
    return row


async def test_a_buy_before_the_atr_warm_up_has_the_fallback_stop_and_status_shows_it(rig):
    rig.engine.loop.start()
    await replay(rig.engine, 5)  # five candles: the ATR needs 15
    position = await buy(rig)
    await rig.engine.loop.stop()

    assert position.stop_price == fallback(position)
    assert rig.engine.engine.stops["KRW-BTC"].stop == position.stop_price
    assert price(position.stop_price) in await status_row(rig)


async def test_a_buy_after_a_longer_atr_period_is_set_has_the_fallback_stop(rig):
    rig.engine.loop.start()
    await replay(rig.engine, 30)
    await rig.confirm(OPERATOR, "/set risk.atr_period 200")
    await rig.confirm(OPERATOR, "/set risk.stop_fallback_pct 3")
    position = await buy(rig)
    await rig.engine.loop.stop()

    assert position.stop_price == fallback(position, "3")


async def test_switching_the_atr_stop_on_gives_the_open_position_a_stop(rig):
    rig.engine.loop.start()
    await replay(rig.engine, 30)
    await rig.confirm(OPERATOR, "/set risk.atr_stop_mult 0")
    position = await buy(rig)
    assert position.stop_price is None
    assert "-" in await status_row(rig)

    await rig.confirm(OPERATOR, "/set risk.atr_stop_mult 2")
    await rig.engine.loop.stop()

    position = rig.engine.engine.positions.get("KRW-BTC")
    assert position.stop_price is not None
    entry = position.avg_entry_price
    assert entry is not None
    assert position.stop_price < entry * D("0.998")
    assert price(position.stop_price) in await status_row(rig)
