"""A scrape with 10,000 stored fills reads only the fills recorded since the last scrape.

The check is on the SQL a scrape runs (no statement reads the fills table without the
``id >`` cursor after the first), not on time; the times are printed for the report
(``pytest -s``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from tests.engine.conftest import facade as make_facade
from tests.engine.conftest import paper_rig
from trading.engine.pnl import realized
from trading.events import Event
from trading.store import Store, create_engine, session_factory, upgrade
from trading.store.models import Fill

FILLS = 10_000


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fills.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def seed_fills(db: AsyncEngine) -> None:
    """10,000 fills in one transaction: round trips of 0.001 BTC around 100M KRW."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(FILLS):
        side = "bid" if n % 2 == 0 else "ask"
        price = D(100_000_000 + (n % 7) * 10_000 * (1 if side == "ask" else -1))
        volume = D("0.001")
        funds = price * volume
        rows.append(
            Fill(
                trade_uuid=f"t{n}",
                market="KRW-BTC",
                side=side,
                price=price,
                volume=volume,
                funds=funds,
                fee=funds * D("0.0005"),
                created_at=t0 + timedelta(minutes=n),
            )
        )
    async with session_factory(db)() as session, session.begin():
        session.add_all(rows)


async def test_scrape_with_10000_fills_reads_only_new_ones(db: AsyncEngine) -> None:
    await seed_fills(db)
    store = Store(session_factory(db))
    events: list[Event] = []
    rig = await paper_rig(store, events)
    facade = make_facade(rig, store, events)
    # a generous timeout: this test is about which SQL runs, on a machine that may be busy
    metrics = Metrics(
        version="t", mode="paper", strategy="ma_cross", cache_s=0.0, read_timeout_s=60.0
    )
    metrics.sources.facade = facade

    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))  # (conn, cursor, statement, ...)

    started = time.perf_counter()
    first = await metrics.scrape()
    first_s = time.perf_counter() - started

    booked = realized(await store.fills_after(0, limit=FILLS * 2), rig.engine.limits.zone)
    expected = float(sum(r.pnl_krw for r in booked if r.side == "ask"))
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(first.decode())
        for s in family.samples
    }
    assert values["upbit_bot_realized_pnl_krw"] == pytest.approx(expected)
    assert expected != 0

    event.listen(db.sync_engine, "before_cursor_execute", record)
    times = []
    try:
        for _ in range(30):
            started = time.perf_counter()
            await metrics.scrape()
            times.append(time.perf_counter() - started)
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", record)
    reads_of_fills = [s for s in statements if "FROM fills" in s]
    assert reads_of_fills, "the scrape should look for new fills"
    assert all("fills.id >" in s for s in reads_of_fills), reads_of_fills
    assert metrics.engine.reads == 31
    print(
        f"\nscrape cost with {FILLS} fills: first {first_s * 1000:.1f} ms, "
        f"then median {statistics.median(times) * 1000:.2f} ms "
        f"(max {max(times) * 1000:.2f} ms, {len(statements) / len(times):.0f} SQL per scrape)"
    )


async def test_a_scrape_storm_reads_the_engine_once_per_second(db: AsyncEngine) -> None:
    store = Store(session_factory(db))
    events: list[Event] = []
    rig = await paper_rig(store, events)
    metrics = Metrics(version="t", mode="paper", strategy="ma_cross", cache_s=1.0)
    metrics.sources.facade = make_facade(rig, store, events)
    texts = await asyncio.gather(*(metrics.scrape() for _ in range(50)))
    assert metrics.engine.reads == 1  # fifty concurrent scrapes shared one read
    assert all(b"upbit_bot_equity_krw " in t for t in texts)
    await asyncio.sleep(1.05)
    await metrics.scrape()
    assert metrics.engine.reads == 2
