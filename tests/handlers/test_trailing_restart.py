"""A trailing stop whose offset was reached keeps trailing after a restart, even if the stop
had not moved yet when the process went away (issue #13).

With ``trailing_only_offset_is_reached`` the trail starts once the highest close is the offset
over the entry. That moment was stored only with a stop move: when the trail's first level was
not above the stop in force (here: a ``/buy`` before the ATR warm-up, on the fallback stop,
where the trail at the initial ATR distance has no level yet), the highest close stayed in
memory, and a restart forgot that the offset had been reached. The restarted stop then never
trailed (until a close above the offset again) and the position rode back down to the
fallback stop. Prints are placed by hand; the restart is a new instance on the same store.
"""

from __future__ import annotations

from decimal import Decimal

from tests.engine.conftest import limits
from tests.handlers.instance import DAY1, Instance, buy, minutes
from trading.events import PositionClosed, StopMoved
from trading.positions import PositionState

TRAIL_AFTER_OFFSET = limits(
    daily_loss_limit_krw=Decimal(0),
    trailing_stop=True,
    trailing_stop_positive_pct=Decimal(0),  # trail at the initial (ATR) distance
    trailing_stop_positive_offset_pct=Decimal(1),
    trailing_only_offset_is_reached=True,
)


async def test_the_offset_reached_is_stored_when_reached_and_survives_a_restart(store):
    first = await Instance.start(store, TRAIL_AFTER_OFFSET)
    await first.trade(100_000_000, DAY1)
    assert "sent" in await buy(first, "1000000")  # no ATR yet: the fallback stop, 2 % below
    position = first.rig.engine.positions.get("KRW-BTC")
    assert position.state is PositionState.LONG
    entry, stop = position.avg_entry_price, position.stop_price
    assert entry is not None
    assert stop is not None
    await first.trade(101_500_000, DAY1 + minutes(1))
    await first.trade(101_500_000, DAY1 + minutes(2))  # the 10:01 candle closes 1.5 % up
    assert first.rig.engine.stops["KRW-BTC"].highest_close > entry * Decimal("1.01")
    stored = {p.market: p for p in await store.positions()}["KRW-BTC"]
    assert stored.stop_price == stop  # the stop did not move: the trail has no ATR yet ...
    position = first.rig.engine.positions.get("KRW-BTC")
    assert position.high_water == Decimal(101_500_000)  # ... but the offset reached is kept
    await first.stop()  # the process goes away before the stop's next move

    again = await Instance.start(store, TRAIL_AFTER_OFFSET)
    for minute in range(3, 21):  # a quiet market: the ATR comes, and is about 0
        await again.trade(100_600_000, DAY1 + minutes(minute))
    [moved] = again.of(StopMoved)
    assert moved.new == Decimal(100_485_000)  # 1 % (the minimum distance) under 101,500,000
    position = again.rig.engine.positions.get("KRW-BTC")
    assert (position.stop_price, position.stop_trailing) == (moved.new, True)

    await again.trade(100_400_000, DAY1 + minutes(21))
    [closed] = again.of(PositionClosed)
    assert closed.reason == "trailing"
    assert closed.exit_price > stop
    await again.stop()
