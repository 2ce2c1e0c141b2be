"""Issue #13: the live engine buys on the trade print that crosses an entry trigger (the
volatility breakout's open + k x previous day's range), against the fake Upbit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from tests.engine.conftest import limits
from tests.engine.test_live import exchange, of  # noqa: F401  (the fixture)
from tests.fakes.upbit import FakeUpbit
from trading.domain import Bar, TradePrint
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.events import OrderFilled, OrderPlaced, SignalRaised
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient

DAY0 = datetime(2024, 3, 4, tzinfo=UTC)
M = "KRW-BTC"


async def breakout_rig(client: UpbitRestClient, store, events) -> EngineRig:
    return await assemble(
        EngineSpec(markets=(M,), timeframe="1h", paper=False, order_settle_s=0.05),
        strategy=build_strategy("volatility_breakout", "", {"k": 0.5}),
        limits=limits(),
        store=store,
        sink=events.append,
        live_exchange=client,
        circuit=client.circuit,
        rules=UpbitMarketRules(),
    )


async def tape(rig: EngineRig, fake: FakeUpbit, at: datetime, price: int) -> None:
    await fake.trade(M, D(price), D("0.01"))
    rig.loop.put_print(TradePrint(M, D(price), D("0.01"), at))
    await rig.loop.drain()
    if await rig.engine.orders.poll_open():
        await rig.loop.drain()


async def test_a_live_print_crossing_the_target_places_a_buy(exchange, store):  # noqa: F811
    fake, client = exchange
    events: list = []
    rig = await breakout_rig(client, store, events)
    rig.loop.start()
    # two whole UTC days of hourly prints: day 1's range is 2,000,000 KRW
    for hour in range(48):
        price = 100_000_000 if hour < 24 or hour % 2 else 102_000_000
        await tape(rig, fake, DAY0 + timedelta(hours=hour), price)
    day2 = DAY0 + timedelta(days=2)
    await tape(rig, fake, day2, 101_000_000)  # the day opens: target 101M + 0.5 x 2M = 102M
    await tape(rig, fake, day2 + timedelta(minutes=10), 101_900_000)  # not yet
    assert not of(events, OrderPlaced)
    assert rig.engine.triggers.armed(M) is not None
    await tape(rig, fake, day2 + timedelta(minutes=20), 102_300_000)  # the crossing print
    await rig.loop.stop()

    signals = [(e.action, e.price) for e in of(events, SignalRaised)]
    assert signals == [("enter", D(102_000_000))]
    placed = of(events, OrderPlaced)
    assert [(p.market, p.side) for p in placed] == [(M, "bid")]
    assert [f.price for f in of(events, OrderFilled)] == [D(102_300_000)]  # at the tape


async def test_the_candle_in_progress_at_start_is_not_armed(exchange, store):  # noqa: F811
    """Started mid-candle, the engine has not seen the candle's open: no target for it (on
    day candles a restart would otherwise take the first price it sees for the day's open)."""
    fake, client = exchange
    events: list = []
    rig = await breakout_rig(client, store, events)
    bars = []
    for hour in range(48):  # the history a REST warm-up loads before the first print
        p = D(100_000_000 if hour < 24 or hour % 2 else 102_000_000)
        bars.append(Bar(M, "1h", DAY0 + timedelta(hours=hour), p, p, p, p, D(1)))
    rig.engine.market_data.builder(M).seed(bars)
    rig.loop.start()
    day2 = DAY0 + timedelta(days=2)
    await tape(rig, fake, day2 + timedelta(minutes=30), 101_000_000)  # joined mid-candle
    await tape(rig, fake, day2 + timedelta(minutes=40), 102_300_000)  # 101M + 1M crossed
    await rig.loop.stop()
    assert not of(events, OrderPlaced)
    armed = rig.engine.triggers.armed(M)
    assert armed is not None
    assert armed.level is None
