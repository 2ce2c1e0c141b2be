"""The facade the chat layer will use: every change validated, persisted, undoable."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.engine.conftest import facade, paper_rig, replay
from trading.domain import TradePrint
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.events import ParameterChanged, Paused, PositionClosed, RiskBreached
from trading.positions import PositionState
from trading.risk.halts import HaltWindow


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_set_validates_records_and_undoes(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)

    change = await api.set("strategy.fast", "7", by="u1", transport="console")
    with pytest.raises(ValueError, match="fast"):
        await api.set("strategy.fast", "1", by="u1", transport="console")
    with pytest.raises(ValueError, match=r"unknown setting 'strategy\.nope'"):
        await api.set("strategy.nope", "1", by="u1", transport="console")
    with pytest.raises(ValueError, match=r"risk\.max_open_positions = many: must be a whole"):
        await api.set("risk.max_open_positions", "many", by="u1", transport="console")
    risk = await api.set("risk.position_size_krw", "250000", by="u2", transport="console")
    undone = await api.undo(by="u1", transport="console")

    assert (change.old, change.new) == ("5", "7")
    assert (risk.old, risk.new) == ("1000000", "250000")
    assert (undone.key, undone.new) == ("risk.position_size_krw", "1000000")
    assert rig.engine.strategy.params.fast == 7
    assert rig.engine.limits.position_size_krw == D(1_000_000)
    assert [h.key for h in await api.history()] == [
        "risk.position_size_krw",
        "risk.position_size_krw",
        "strategy.fast",
    ]
    assert [e.by for e in of(events, ParameterChanged)] == ["u1", "u2", "u1"]


async def test_changes_survive_a_restart(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    await api.set("strategy.slow", "25", by="u1", transport="console")
    await api.pause("KRW-BTC", by="u1")
    await api.add_halt(HaltWindow(name="fomc", start="03:00", end="04:00"))

    again = await paper_rig(store, [])
    restored = facade(again, store, [])
    await restored.restore()

    assert again.engine.strategy.params.slow == 25
    assert again.engine.paused_markets == {"KRW-BTC"}
    assert [w.name for w in restored.schedule()] == ["fomc"]


async def test_paused_market_gets_no_entries_but_resume_does(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    await api.pause(by="u1")
    rig.loop.start()

    await replay(rig, 300)
    refused = [e for e in of(events, RiskBreached) if e.check == "paused"]
    await api.resume(by="u1")
    await replay(rig, 300, from_minute=300)
    await rig.loop.stop()

    assert refused
    assert of(events, Paused)
    assert of(events, PositionClosed)  # trading went on after the resume


async def test_flatten_sells_everything_and_blocks_entries(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    rig.loop.start()
    await replay(
        rig, 600, until=lambda r: r.engine.positions.get("KRW-BTC").state is PositionState.LONG
    )
    assert rig.engine.positions.get("KRW-BTC").state is PositionState.LONG

    report = await api.flatten(by="admin")
    await rig.loop.drain()
    await replay(rig, 200, from_minute=400)
    await rig.loop.stop()

    assert report.exits == ("KRW-BTC",)
    assert rig.engine.kill_switch
    assert rig.engine.positions.get("KRW-BTC").state in (
        PositionState.COOLDOWN,
        PositionState.FLAT,
    )
    assert of(events, PositionClosed)[-1].reason == "manual"
    assert any(e.check == "kill_switch" for e in of(events, RiskBreached))


async def test_pnl_table_agrees_with_closed_positions(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    rig.loop.start()
    await replay(rig, 900)
    await rig.loop.stop()

    rows = await api.pnl("day", 3)
    closed = of(events, PositionClosed)

    assert closed
    assert sum(r.pnl_krw for r in rows) == sum(e.pnl_krw for e in closed)
    assert sum(r.sells for r in rows) == len(closed)


async def test_replace_refuses_an_order_a_position_waits_on(store, events):
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    await rig.engine.positions.entry_submitted("KRW-BTC", "busy1")

    with pytest.raises(ValueError, match="belongs to the KRW-BTC position"):
        await api.replace("busy1", D(13_000_000))


OLD, NEW = D("95000000"), D("96000000")


async def test_replace_in_paper_mode_is_one_cancel_and_new(store, events):
    """EngineFacade.replace -> OrderManager.replace -> PaperExchange.cancel_and_new."""
    rig = await paper_rig(store, events)
    assert rig.paper is not None
    api = facade(rig, store, events)
    manual = await rig.engine.orders.place(
        SubmitOrder(
            intent_id="manual1",
            market="KRW-BTC",
            side=Side.BUY,
            type=OrderType.LIMIT,
            price=OLD,
            volume=D("0.01"),
        )
    )
    rig.paper.set_orderbook("KRW-BTC", asks=[(D("97000000"), D(1))], bids=[])
    await rig.paper.on_trade(TradePrint("KRW-BTC", OLD, D("0.003"), rig.engine.market_time()))

    replacement = await api.replace(manual.intent_id, NEW)

    assert replacement is not None
    assert (replacement.price, replacement.volume, replacement.state) == (NEW, D("0.007"), "wait")
    old = await store.order("manual1")
    assert (old.state, old.executed_volume) == ("cancel", D("0.003"))
    live = [o for o in rig.paper.orders.values() if o.is_open]
    assert [(o.price, o.remaining_volume) for o in live] == [(NEW, D("0.007"))]
