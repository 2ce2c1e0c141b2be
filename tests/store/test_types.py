"""Decimals and datetimes come back exactly as they went in, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from trading.domain.orders import OrderType, Side
from trading.store import Store, create_engine, session_factory
from trading.store.models import EquitySnapshot

EXACT = [
    Decimal("0.00000001"),
    Decimal("123456789012.123456789"),
    Decimal("1386929.37231066771348207123"),
    Decimal("99999999999999999999999999.999999999999999999"),
    Decimal("-42.5"),
    Decimal("0"),
    Decimal("1E+3"),
]


@pytest.mark.parametrize("value", EXACT, ids=str)
async def test_decimal_round_trips_exactly(store: Store, value: Decimal) -> None:
    await store.record_intent(
        intent_id="i1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        price=value,
        volume=value,
    )
    await store.upsert_position("KRW-BTC", state="long", volume=value, avg_price=value)
    order = await store.order("i1")
    position = await store.position("KRW-BTC")
    assert order is not None
    assert position is not None
    for got in (order.price, order.volume, position.volume, position.avg_price):
        assert isinstance(got, Decimal)
        assert got == value
        assert got.normalize() == value.normalize()


async def test_float_and_non_finite_are_refused(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    try:
        for bad in (0.1, Decimal("NaN"), Decimal("Infinity")):
            async with sessions() as session:
                session.add(EquitySnapshot(equity_krw=bad, cash_krw=Decimal(1), taken_at=now))
                with pytest.raises(StatementError):
                    await session.commit()
    finally:
        await engine.dispose()


async def test_datetimes_come_back_utc_aware(store: Store) -> None:
    kst = timezone(timedelta(hours=9))
    at = datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=kst)
    written = await store.snapshot_equity(Decimal(1), Decimal(1), taken_at=at)
    assert written.taken_at.tzinfo is UTC
    (snap,) = await store.equity_history()
    assert snap.taken_at == at
    assert snap.taken_at.tzinfo is not None
    assert snap.taken_at.utcoffset() == timedelta(0)
    assert snap.taken_at == datetime(2024, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)
    order = await store.record_intent(
        intent_id="i", market="KRW-BTC", side=Side.SELL, type=OrderType.MARKET
    )
    stored = await store.order("i")
    assert stored is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == order.created_at


async def test_naive_datetime_is_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive"):
        await store.snapshot_equity(Decimal(1), Decimal(1), taken_at=datetime(2024, 1, 1))
