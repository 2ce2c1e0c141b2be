"""Restart in the middle of a position and in the middle of an order: everything resumes."""

from __future__ import annotations

from decimal import Decimal as D

from tests.engine.conftest import facade, limits, paper_rig, replay
from tests.upbit.conftest import client, fake  # noqa: F401  (fixtures)
from trading.domain.orders import OrderStatus, OrderType, Side, SubmitOrder
from trading.engine.build import EngineSpec, assemble
from trading.events import OrderSettled, PositionClosed, PositionOpened
from trading.orders import reconcile
from trading.positions import PositionState
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

LONG = PositionState.LONG


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_restart_mid_position_keeps_position_stop_and_paper_account(store, events):
    rig = await paper_rig(store, events)
    rig.loop.start()
    await replay(rig, 600, until=lambda r: r.engine.positions.get("KRW-BTC").state is LONG)
    before = rig.engine.positions.get("KRW-BTC")
    cash_before = await rig.exchange.accounts()
    await rig.loop.stop()  # the process goes away here
    assert before.state is LONG

    later: list = []
    again = await paper_rig(store, later)
    await facade(again, store, later).restore()
    after = again.engine.positions.get("KRW-BTC")

    assert after == before
    assert again.engine.stops["KRW-BTC"].stop == before.stop_price
    assert await again.exchange.accounts() == cash_before
    again.loop.start()
    await replay(again, 600, from_minute=200)
    await again.loop.stop()
    assert of(later, PositionClosed)  # the resumed position was managed to its exit


async def test_restart_gives_a_long_position_without_a_stored_stop_a_stop(store, events):
    rig = await paper_rig(store, events, risk=limits(atr_stop_mult=D(0)))  # stops off
    rig.loop.start()
    await replay(rig, 30)
    assert (await facade(rig, store, events).buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    await rig.loop.stop()
    assert rig.engine.positions.get("KRW-BTC").stop_price is None

    again = await paper_rig(store, [])  # back with stops on (atr_stop_mult 3)
    await facade(again, store, []).restore()

    position = again.engine.positions.get("KRW-BTC")
    entry = position.avg_entry_price
    assert position.state is LONG
    assert entry is not None
    assert position.stop_price is not None
    assert position.stop_price < entry * D("0.998")
    assert again.engine.stops["KRW-BTC"].stop == position.stop_price
    stored = {p.market: p for p in await store.positions()}
    assert stored["KRW-BTC"].stop_price == position.stop_price  # kept for the next restart


async def test_restart_mid_order_settles_the_fill_made_while_down(fake, client, store):  # noqa: F811
    strategy = build_strategy("ma_cross", "", {"fast": 5, "slow": 20})
    spec = EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=False, order_settle_s=0.05)
    first: list = []
    rig = await assemble(
        spec,
        strategy=strategy,
        limits=limits(),
        store=store,
        sink=first.append,
        live_exchange=client,
        rules=UpbitMarketRules(),
    )
    rig.loop.start()
    intent = SubmitOrder(
        intent_id="crash1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("99000000"),
        volume=D("0.01"),
    )
    await rig.engine.positions.entry_submitted("KRW-BTC", "crash1")
    await rig.engine.orders.place(intent)
    await rig.loop.stop()  # down, with the order resting on the exchange
    await fake.trade("KRW-BTC", D("99000000"), D("0.01"), ask_bid="ASK")  # fills while down

    second: list = []
    again = await assemble(
        spec,
        strategy=strategy,
        limits=limits(),
        store=store,
        sink=second.append,
        live_exchange=client,
        rules=UpbitMarketRules(),
    )
    again.loop.start()
    report = await reconcile(again.engine.orders)
    await again.loop.drain()
    await again.loop.stop()

    position = again.engine.positions.get("KRW-BTC")
    assert report.settled == ("crash1",)
    assert position.state is LONG
    assert position.volume == D("0.01")
    assert [e.state for e in of(second, OrderSettled)] == ["done"]
    assert of(second, PositionOpened)
    assert len([o for o in fake.orders.values() if "crash1" in (o.identifier or "")]) == 1


async def test_restart_ends_an_entry_whose_order_was_never_recorded(store, events):
    rig = await paper_rig(store, events)
    await rig.engine.positions.entry_submitted("KRW-BTC", "lost1")  # then the process died

    again = await paper_rig(store, [])
    await facade(again, store, []).restore()

    assert again.engine.positions.get("KRW-BTC").state is PositionState.FLAT


async def test_restart_applies_fills_recorded_before_the_position_saw_them(store, events):
    from datetime import UTC, datetime

    rig = await paper_rig(store, events)
    positions, now = rig.engine.positions, datetime(2018, 1, 22, 15, tzinfo=UTC)
    await positions.entry_submitted("KRW-BTC", "gap1")
    await store.record_intent(
        intent_id="gap1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.MARKET,
        price=D(100_000),
        identifier="ubot-gap1-1",
    )
    await positions.entry_filled(
        "KRW-BTC", D("0.004"), D(13_000_000), D(26), False, at=now, intent_id="gap1"
    )
    for n, volume in enumerate((D("0.004"), D("0.0036"))):  # the second never reached it
        await store.record_fill(
            trade_uuid=f"t{n}",
            market="KRW-BTC",
            side=Side.BUY,
            price=D(13_000_000),
            volume=volume,
            funds=volume * 13_000_000,
            fee=volume * 13_000_000 * D("0.0005"),
            intent_id="gap1",
            created_at=now,
        )
    await store.update_order_from_exchange(
        identifier="ubot-gap1-1",
        status=OrderStatus.CANCELLED,
        executed_volume=D("0.0076"),
        executed_funds=D(98_800),
        paid_fee=D("49.4"),
    )

    again = await paper_rig(store, [])
    await facade(again, store, []).restore()
    position = again.engine.positions.get("KRW-BTC")

    assert position.state is PositionState.LONG
    assert position.volume == D("0.0076")
    assert position.entry_cost == D("0.0076") * 13_000_000


async def test_a_refused_exit_right_after_a_restart_ends_the_order_once(store, events):
    """/close before the first price after a restart: the paper exchange refuses the sell and
    announces it rejected while the refusal is still being handled. Both paths ended the
    order; the second raised IllegalTransition in the engine's worker (found by the limits
    property test)."""
    rig = await paper_rig(store, events)
    rig.loop.start()
    await replay(rig, 30)
    assert (await facade(rig, store, events).buy("KRW-BTC", D(1_000_000), by="test")).ok
    await rig.loop.drain()
    await rig.loop.stop()

    again = await paper_rig(store, [])
    api = facade(again, store, [])
    await api.restore()
    again.loop.start()
    assert await api.close("KRW-BTC", by="test") == ()  # no price yet: refused
    await again.loop.drain()
    await again.loop.stop()

    assert again.loop.errors == 0
    position = again.engine.positions.get("KRW-BTC")
    assert position.state is LONG
    assert position.intent_id is None


TRAILING = {
    "atr_stop_mult": D(3),
    "stop_min_distance_pct": D("0.05"),
    "trailing_stop": True,
    "trailing_stop_positive_pct": D("0.05"),
    "trailing_stop_positive_offset_pct": D("0.1"),
    "trailing_only_offset_is_reached": True,
}


async def test_restart_keeps_a_trailing_stop_trailing(store, events):
    """Issue #13: a stop the trail raised (offset reached) is still a trailing stop after a
    restart: its level, its exit reason and the highest close it trails from are kept."""
    risk = limits(**TRAILING)
    rig = await paper_rig(store, events, risk=risk)
    rig.loop.start()
    await replay(rig, 1500, until=lambda r: r.engine.positions.get("KRW-BTC").stop_trailing)
    before = rig.engine.positions.get("KRW-BTC")
    trail_before = rig.engine.stops["KRW-BTC"]
    await rig.loop.stop()
    assert before.state is LONG
    assert before.stop_trailing
    assert before.high_water is not None
    assert before.high_water > before.avg_entry_price * D("1.001")  # the offset was reached

    later: list = []
    again = await paper_rig(store, later, risk=risk)
    await facade(again, store, later).restore()
    after = again.engine.positions.get("KRW-BTC")
    stop = again.engine.stops["KRW-BTC"]

    assert after == before
    assert stop.stop == before.stop_price
    assert stop.trailed
    assert stop.highest_close >= before.high_water
    # the trail goes on at the positive distance: the offset counts as reached
    candidate = stop.trail_candidate(None)
    assert candidate is not None
    assert candidate == stop.highest_close * (1 - D("0.05") / 100)
    assert trail_before.trailed
    hit = stop.should_exit(stop.stop)
    assert hit is not None
    assert hit.kind == "trailing"
