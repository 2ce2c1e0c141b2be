"""Stops as a trader meets them: hand-made market moves fed to the real paper engine.

Every candle here is KRW-BTC around 100,000,000 KRW (tick 1,000), fed as prints at :00, :15,
:30 and :59 of its minute; a manual buy fills at the last print plus the paper slippage
(5 bps), so at 100,050,000 KRW. ma_cross 5/20 sees no cross on these closes: every position
is opened by hand, as with ``/buy``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from tests.engine.conftest import facade, limits, paper_rig
from trading.domain import TradePrint
from trading.engine.build import EngineRig
from trading.events import PositionClosed
from trading.positions import PositionState

T0 = datetime(2025, 6, 20, 1, 0, tzinfo=UTC)
P = 100_000_000
SECONDS = (0, 15, 30, 59)
LONG = PositionState.LONG
#: the minimum distance these moves were written around (the default is 1 % since issue #13)
GAP = {"stop_min_distance_pct": D("0.2")}


async def prints(rig: EngineRig, minute: int, *path: int, first: int = 0) -> None:
    """Prints of ``minute`` at the seconds of ``SECONDS[first:]``, then wait for the engine."""
    for price, second in zip(path, SECONDS[first:], strict=False):
        at = T0 + timedelta(minutes=minute, seconds=second)
        rig.loop.put_print(TradePrint("KRW-BTC", D(price), D("0.01"), at))
    await rig.loop.drain()


async def candles(rig: EngineRig, start: int, count: int, spread: int = 0) -> None:
    """``count`` candles from minute ``start``: open and close at P, P ± ``spread`` between."""
    for minute in range(start, start + count):
        await prints(rig, minute, P, P - spread, P + spread, P)


async def test_a_low_printed_before_a_manual_buy_in_the_same_candle_does_not_stop_it(
    store, events
):
    rig = await paper_rig(store, events, risk=limits(**GAP))
    api = facade(rig, store, events)
    rig.loop.start()
    await candles(rig, 0, 20, spread=100_000)  # ATR 200,000: the stop is 600,000 under
    await prints(rig, 20, P, P - 1_000_000, P)  # a dip to 99,000,000 at :15, back at :30
    assert (await api.buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    position = rig.engine.positions.get("KRW-BTC")
    assert position.state is LONG
    assert position.stop_price == D(99_450_000)  # 100,050,000 - 3 x 200,000

    await prints(rig, 20, P, first=3)  # :59
    await candles(rig, 21, 3, spread=100_000)  # minute 20 closes at 21:00; nothing dips
    await rig.loop.stop()

    assert rig.engine.positions.get("KRW-BTC").state is LONG
    assert not [e for e in events if isinstance(e, PositionClosed)]


async def test_a_stop_still_fires_on_a_dip_after_the_buy_in_the_same_candle(store, events):
    rig = await paper_rig(store, events, risk=limits(**GAP))
    api = facade(rig, store, events)
    rig.loop.start()
    await candles(rig, 0, 20, spread=100_000)
    await prints(rig, 20, P, P)
    assert (await api.buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    await prints(rig, 20, P - 1_000_000, P, first=2)  # :30 dips through the stop
    await rig.loop.stop()

    closed = [e for e in events if isinstance(e, PositionClosed)]
    assert [e.reason for e in closed] == ["stop"]


async def test_a_flat_market_does_not_sell_the_position_at_its_entry(store, events):
    rig = await paper_rig(store, events, risk=limits(**GAP))
    api = facade(rig, store, events)
    rig.loop.start()
    await candles(rig, 0, 20)  # not one price move: the ATR is 0
    await prints(rig, 20, P, P, P)
    assert (await api.buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    await prints(rig, 20, P, first=3)
    await candles(rig, 21, 10)
    await rig.loop.stop()

    position = rig.engine.positions.get("KRW-BTC")
    assert position.state is LONG
    assert not [e for e in events if isinstance(e, PositionClosed)]
    # 0.2 % under the entry 100,050,000 (the price it trails from), down to the tick
    assert position.stop_price == D(99_849_000)


async def test_a_buy_before_the_atr_is_ready_gets_the_fallback_stop_then_the_atr_stop(
    store, events
):
    rig = await paper_rig(store, events, risk=limits(**GAP))
    api = facade(rig, store, events)
    rig.loop.start()
    await candles(rig, 0, 3, spread=100_000)  # 3 candles: the ATR needs 15
    await prints(rig, 3, P, P)
    assert (await api.buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    stop = rig.engine.positions.get("KRW-BTC").stop_price
    assert stop == D(98_049_000)  # the fallback: 2 % under 100,050,000, down to the tick
    assert rig.engine.stops["KRW-BTC"].stop == stop

    await prints(rig, 3, P, P, first=2)
    await candles(rig, 4, 10, spread=100_000)  # 14 candles: still no ATR
    assert rig.engine.positions.get("KRW-BTC").stop_price == D(98_049_000)
    await candles(rig, 14, 2, spread=100_000)  # 15 candles closed: the ATR stop takes over
    await rig.loop.stop()

    position = rig.engine.positions.get("KRW-BTC")
    assert position.state is LONG
    # highest close since the entry (100,050,000, the entry itself) - 3 x ATR; 13 of the
    # 14 candles of the ATR ranged 200,000, the buy's candle not at all: ATR 185,714.28...
    assert position.stop_price == D(99_492_000)


async def test_the_fallback_stop_is_not_loosened_by_a_wider_atr_stop(store, events):
    rig = await paper_rig(store, events, risk=limits(stop_fallback_pct=D("0.5"), **GAP))
    api = facade(rig, store, events)
    rig.loop.start()
    await candles(rig, 0, 3, spread=100_000)
    await prints(rig, 3, P, P)
    assert (await api.buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    assert rig.engine.positions.get("KRW-BTC").stop_price == D(99_549_000)  # 0.5 % under
    await prints(rig, 3, P, P, first=2)
    await candles(rig, 4, 13, spread=100_000)  # the ATR stop, 99,450,000, is looser
    await rig.loop.stop()

    assert rig.engine.positions.get("KRW-BTC").stop_price == D(99_549_000)
