"""Issue #11.5 as a user meets it: the fees ``/pnl``, ``/performance`` and ``/report`` show are
what the account paid, buys and sells, equal to the stored fills' fees (a buy's fee used to
vanish into the cost basis and the fee column showed about half of it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.fmt import krw
from handlers.reply import Reply
from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from trading.engine.pnl import realized
from trading.positions import PositionState

ZERO = Decimal(0)


@pytest.fixture
async def traded(rig: Rig):
    """A paper engine that bought and sold the bundled day, and holds nothing at the end (so
    every fee belongs to a finished round trip and the PnL is all realized)."""
    rig.engine.loop.start()
    await replay(rig.engine, 1500)
    if rig.engine.engine.positions.get("KRW-BTC").state is PositionState.LONG:
        await rig.confirm(OPERATOR, "/close btc", "en")
        await replay(rig.engine, 3, from_minute=1500)
    yield rig
    await rig.engine.loop.stop()


async def _paid(rig: Rig) -> tuple[Decimal, Decimal]:
    """(all fees, buy fees) of the stored fills."""
    fills = await rig.store.fills(limit=100_000)
    buys = sum((f.fee for f in fills if f.side == "bid"), ZERO)
    return sum((f.fee for f in fills), ZERO), buys


def _column(reply: Reply, name: str) -> list[str]:
    assert reply.table is not None, reply.plain_text()
    at = reply.table.headers.index(name)
    return [row[at] for row in reply.table.rows]


async def test_pnl_shows_the_fees_of_both_sides(traded: Rig):
    paid, buys = await _paid(traded)
    assert buys > 0  # the day had buys, so a sell-only sum would be short of ``paid``
    for language, label in (("en", "Fee"), ("ko", "수수료")):
        reply = await traded.say(VIEWER, "/pnl", language)
        assert dict(reply.fields)[label] == f"{krw(paid)} KRW", reply.plain_text()
    rows = await traded.dispatcher.api.pnl("day", 7)
    assert sum((r.fees_krw for r in rows), ZERO) == paid


async def test_performance_shows_the_fees_of_both_sides(traded: Rig):
    paid, _ = await _paid(traded)
    reply = await traded.say(VIEWER, "/performance", "en")
    assert _column(reply, "Fee") == [krw(paid)], reply.plain_text()


async def test_report_shows_the_fees_of_both_sides(traded: Rig):
    paid, _ = await _paid(traded)
    reply = await traded.say(VIEWER, "/report week", "en")
    assert dict(reply.fields)["Fee"] == f"{krw(paid)} KRW", reply.plain_text()


async def test_the_pnl_itself_counts_a_buy_fee_once(traded: Rig):
    """Flat at the end: realized PnL is exactly sells' proceeds - buys' cost - every fee."""
    fills = await traded.store.fills(limit=100_000)
    proceeds = sum((f.funds for f in fills if f.side == "ask"), ZERO)
    cost = sum((f.funds for f in fills if f.side == "bid"), ZERO)
    paid = sum((f.fee for f in fills), ZERO)
    booked = realized(fills, traded.engine.engine.limits.zone)
    assert sum((r.pnl_krw for r in booked), ZERO) == proceeds - cost - paid
    rows = await traded.dispatcher.api.pnl("day", 7)
    assert sum((r.pnl_krw for r in rows), ZERO) == proceeds - cost - paid
