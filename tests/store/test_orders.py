"""Intents, attempts, exchange updates and fills."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from trading.domain.orders import STATUS_FROM_CODE, OrderStatus, OrderType, Side
from trading.store import (
    DuplicateIntentError,
    IdentifierReusedError,
    OrderRecord,
    Store,
    UnknownIntentError,
)

D = Decimal


async def _intent(
    store: Store, intent_id: str = "intent-1", identifier: str | None = "id-1"
) -> None:
    await store.record_intent(
        intent_id=intent_id,
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=D("50000000"),
        volume=D("0.001"),
        time_in_force="ioc",
        strategy="donchian",
        reason="breakout",
        identifier=identifier,
    )


async def _report(
    store: Store,
    state: str,
    volume: str,
    funds: str,
    fee: str,
    *,
    identifier: str | None = None,
    uuid: str | None = None,
) -> OrderRecord | None:
    return await store.update_order_from_exchange(
        identifier=identifier,
        uuid=uuid,
        status=STATUS_FROM_CODE[state],  # the tests speak the stored codes
        executed_volume=D(volume),
        executed_funds=D(funds),
        paid_fee=D(fee),
    )


async def test_record_intent_with_first_attempt(store: Store) -> None:
    await _intent(store)
    order = await store.order_by_identifier("id-1")
    assert order is not None
    assert (order.intent_id, order.identifier, order.uuid, order.state) == (
        "intent-1",
        "id-1",
        None,
        "pending",
    )
    assert order.executed_volume == 0
    assert order.is_open
    (attempt,) = await store.attempts_for("intent-1")
    assert (attempt.attempt, attempt.outcome) == (1, "pending")
    with pytest.raises(DuplicateIntentError):
        await _intent(store, identifier="id-other")


async def test_attempt_identifiers_are_never_reused(store: Store) -> None:
    await _intent(store)
    await _intent(store, "intent-2", identifier=None)
    with pytest.raises(IdentifierReusedError):
        await store.record_attempt("intent-2", "id-1", 1)
    with pytest.raises(IdentifierReusedError):
        await _intent(store, "intent-3", identifier="id-1")
    assert await store.order("intent-3") is None  # the whole unit of work rolled back
    with pytest.raises(UnknownIntentError):
        await store.record_attempt("nope", "id-9", 1)

    assert await store.mark_attempt("id-1", "confirmed_absent", "not found after timeout")
    second = await store.record_attempt("intent-1", "id-2", 2)
    assert second.attempt == 2
    order = await store.order("intent-1")
    assert order is not None
    assert order.identifier == "id-2"
    attempts = await store.attempts_for("intent-1")
    assert [(a.identifier, a.outcome, a.error) for a in attempts] == [
        ("id-1", "confirmed_absent", "not found after timeout"),
        ("id-2", "pending", None),
    ]
    assert await store.mark_attempt("unknown", "sent") is None


async def test_concurrent_attempts_with_one_identifier(store: Store) -> None:
    await _intent(store, identifier=None)
    results = await asyncio.gather(
        store.record_attempt("intent-1", "same", 1),
        store.record_attempt("intent-1", "same", 2),
        return_exceptions=True,
    )
    assert sum(isinstance(r, IdentifierReusedError) for r in results) == 1
    assert len(await store.attempts_for("intent-1")) == 1


async def test_update_order_from_exchange(store: Store) -> None:
    await _intent(store)
    await store.record_attempt("intent-1", "id-2", 2)
    # A report for the earlier identifier still finds the intent.
    updated = await store.update_order_from_exchange(
        identifier="id-1",
        uuid="u-1",
        status=OrderStatus.OPEN,
        executed_volume=D("0.0004"),
        executed_funds=D("20000"),
        paid_fee=D("10"),
    )
    assert updated is not None
    assert (updated.uuid, updated.state, updated.executed_volume) == ("u-1", "wait", D("0.0004"))
    attempts = await store.attempts_for("intent-1")
    assert attempts[0].outcome == "accepted"
    assert [o.intent_id for o in await store.open_orders()] == ["intent-1"]

    done = await _report(store, "done", "0.001", "50000", "25", uuid="u-1")
    assert done is not None
    assert done.state == "done"
    assert not done.is_open
    # A late, stale report neither reopens the order nor shrinks what was executed.
    stale = await _report(store, "wait", "0.0004", "20000", "10", uuid="u-1")
    assert stale is not None
    assert (stale.state, stale.executed_volume, stale.paid_fee) == ("done", D("0.001"), D("25"))
    assert await store.open_orders() == []
    assert (await store.order_by_uuid("u-1")) == stale
    assert await _report(store, "wait", "0", "0", "0", uuid="other") is None
    with pytest.raises(ValueError, match="identifier or a uuid"):
        await store.update_order_from_exchange(
            status=OrderStatus.OPEN, executed_volume=D(0), executed_funds=D(0), paid_fee=D(0)
        )


async def test_open_orders_by_market(store: Store) -> None:
    await _intent(store, "a", "id-a")
    await store.record_intent(
        intent_id="b", market="KRW-ETH", side=Side.SELL, type=OrderType.MARKET
    )
    assert [o.intent_id for o in await store.open_orders()] == ["a", "b"]
    assert [o.intent_id for o in await store.open_orders("KRW-ETH")] == ["b"]


async def test_record_fill_is_deduplicated(store: Store) -> None:
    await _intent(store)
    await _report(store, "wait", "0", "0", "0", identifier="id-1", uuid="u-1")
    fill: dict[str, Any] = {
        "trade_uuid": "t-1",
        "order_uuid": "u-1",
        "market": "KRW-BTC",
        "side": Side.BUY,
        "price": D("50000000"),
        "volume": D("0.00012345"),
        "funds": D("6172.5"),
        "fee": D("3.08625"),
        "is_maker": False,
    }
    assert await store.record_fill(**fill) is True
    assert await store.record_fill(**fill) is False
    again = fill | {"trade_uuid": "t-2"}
    results = await asyncio.gather(*(store.record_fill(**again) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    fills = await store.fills(intent_id="intent-1")
    assert {f.trade_uuid for f in fills} == {"t-1", "t-2"}
    assert fills[0].intent_id == "intent-1"  # resolved from the order uuid
    assert fills[0].fee == D("3.08625")
    # A fill of an order the bot never placed (e.g. made on the Upbit web site) is kept too.
    assert await store.record_fill(**fill | {"trade_uuid": "t-3", "order_uuid": "manual"})
    assert len(await store.fills(market="KRW-BTC")) == 3
