"""Paper trading on real KRW-BTC minutes: the whole engine, end to end, deterministic."""

from __future__ import annotations

from decimal import Decimal as D

from tests.engine.conftest import paper_rig, replay
from trading.events import (
    OrderFilled,
    OrderPlaced,
    OrderSettled,
    PositionClosed,
    PositionOpened,
    SignalRaised,
)


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_engine_trades_real_data_and_books_every_fill(store, events):
    rig = await paper_rig(store, events)
    rig.loop.start()

    prints = await replay(rig, minutes=600)
    await rig.loop.stop()

    assert prints == 600 * 4
    assert rig.loop.errors == 0
    opened, closed = of(events, PositionOpened), of(events, PositionClosed)
    assert len(opened) >= 3
    assert len(closed) in (len(opened), len(opened) - 1)
    placed = of(events, OrderPlaced)
    assert len(of(events, OrderSettled)) == len(placed)  # every order ended, once
    assert {e.action for e in of(events, SignalRaised)} == {"enter", "exit"}
    fills = await store.fills(limit=100_000)
    assert len(fills) == len(of(events, OrderFilled))
    assert all(f.intent_id for f in fills)
    # the paper account moved by exactly the fills: cash + holdings at cost + fees
    krw = next(a for a in await rig.exchange.accounts() if a.currency == "KRW")
    spent = sum(f.funds + f.fee for f in fills if f.side == "bid")
    received = sum(f.funds - f.fee for f in fills if f.side == "ask")
    assert krw.free + krw.locked == D(10_000_000) - spent + received


async def test_replay_is_deterministic(tmp_path, events):
    from trading.store import Store, create_engine, session_factory, upgrade

    outcomes = []
    for run in range(2):
        url = f"sqlite+aiosqlite:///{tmp_path / f'run{run}.db'}"
        await upgrade(url)
        engine = create_engine(url)
        run_events: list = []
        rig = await paper_rig(Store(session_factory(engine)), run_events)
        rig.loop.start()
        await replay(rig, minutes=300)
        await rig.loop.stop()
        await engine.dispose()
        outcomes.append(
            [(e.market, e.exit_price, e.pnl_krw) for e in of(run_events, PositionClosed)]
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]
