"""``/stats`` counts a round trip whose buy and sell fills carry the same time (paper mode on a
quiet market stamps fills with the market's clock, which only the next print moves)."""

from __future__ import annotations

from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from trading.positions import PositionState

TRIPS = 6  # fills of one time used to be ordered by their random uuid: 1/64 to pass by luck


async def test_a_buy_and_sell_in_the_same_second_is_one_round_trip(rig: Rig) -> None:
    rig.engine.loop.start()
    await replay(rig.engine, 5)
    for trip in range(TRIPS):
        await rig.confirm(OPERATOR, "/buy btc 50만", "en")
        await rig.engine.loop.drain()
        assert rig.engine.engine.positions.get("KRW-BTC").state is PositionState.LONG
        await rig.confirm(OPERATOR, "/close btc", "en")
        await rig.engine.loop.drain()
        await replay(rig.engine, 2, from_minute=5 + 2 * trip)  # past the cooldown
    fills = await rig.store.fills(limit=100)
    stats = await rig.say(VIEWER, "/stats", "en")
    await rig.engine.loop.stop()

    assert len({f.created_at for f in fills}) == TRIPS  # no print between buy and sell
    assert stats.table is not None, stats.plain_text()
    assert [row[:2] for row in stats.table.rows] == [("manual", "0")]  # reason, wins
    assert dict(stats.fields)["Round trips"] == str(TRIPS)
