"""A tripped protection survives a restart (issue #13): the lock and the trades it judged come
back from the store, ``/risk`` and ``/buy`` still refuse, and the lock lifts on time."""

from __future__ import annotations

from decimal import Decimal

from tests.engine.conftest import limits
from tests.handlers.conftest import VIEWER
from tests.handlers.instance import DAY1, Instance, breaches, buy, minutes
from trading.events import ProtectionLifted, ProtectionTripped
from trading.positions import PositionState

GUARD = limits(
    daily_loss_limit_krw=Decimal(0),
    stoploss_guard_trades=1,
    stoploss_guard_lookback_minutes=60,
    stoploss_guard_pause_minutes=30,
)
LINE = "Stoploss guard ⛔"
UNTIL = "2025-06-20 10:31 Asia/Seoul"


async def stopped_out(bot: Instance) -> None:
    """Buy at 100,000,000 KRW; the fallback stop (2 % below, no ATR yet) sells at 10:01."""
    await bot.trade(100_000_000, DAY1)
    assert "sent" in await buy(bot, "1000000")
    await bot.trade(97_000_000, DAY1 + minutes(1))
    await bot.trade(97_000_000, DAY1 + minutes(2))
    assert bot.rig.engine.positions.get("KRW-BTC").state is not PositionState.LONG


async def test_a_tripped_stoploss_guard_survives_a_restart_and_lifts_on_time(store):
    first = await Instance.start(store, GUARD)
    await stopped_out(first)
    [tripped] = first.of(ProtectionTripped)
    assert (tripped.protection, tripped.market) == ("stoploss_guard", None)
    allowed, lines = await first.risk(VIEWER)
    assert not allowed
    assert lines[LINE].endswith(f"paused until {UNTIL}")
    await first.stop()

    again = await Instance.start(store, GUARD)  # a crash loop, a redeploy: same store
    await again.trade(97_000_000, DAY1 + minutes(5))
    await again.trade(97_000_000, DAY1 + minutes(6))
    allowed, lines = await again.risk(VIEWER)
    assert not allowed
    assert lines[LINE].endswith(f"paused until {UNTIL}")
    assert "refused" in await buy(again, "100000")
    assert breaches(again) == ["protection"]
    assert again.rig.engine.gate.protections.trades  # the trade it judged came back too

    await again.trade(97_000_000, DAY1 + minutes(30.5))
    await again.trade(97_000_000, DAY1 + minutes(31.5))  # closes the candle ending 10:31
    [lifted] = again.of(ProtectionLifted)
    assert lifted.at == DAY1 + minutes(31)
    allowed, lines = await again.risk(VIEWER)
    assert allowed
    assert "Stoploss guard" in lines
    assert "sent" in await buy(again, "100000")
    await again.stop()
