"""A failover must not reset a limit: two instances on one PostgreSQL database behind the
leader lock; the leader loses the day (and sees its peak), its session is cut as in a crash,
and the standby that takes over still refuses entries with the daily-loss reason and shows
the same day loss and peak in ``/risk``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leadership import Leadership
from tests.failover.conftest import admin
from tests.handlers.conftest import VIEWER
from tests.handlers.instance import DAILY, Instance, breaches, buy, lose_the_day, minutes
from trading.store import Store, create_engine, session_factory, upgrade
from trading.store.leader import LeaderTiming, PgAdvisoryLock, lock_key

pytestmark = pytest.mark.postgres
TIMING = LeaderTiming.for_failover(2.0)


class Node:
    """One bot process: when it leads it runs an ``Instance`` on its own connection pool."""

    def __init__(self, name: str, url: str, key: int) -> None:
        self.url = url
        self.lock = PgAdvisoryLock(
            url, key, timing=TIMING, instance=f"{name}-{uuid.uuid4().hex[:6]}"
        )
        self.instance: Instance | None = None
        self._db: AsyncEngine | None = None
        self.led = asyncio.Event()
        self.leadership = Leadership(
            self.lock, lead=self._lead, step_down=self._step_down, grace_s=TIMING.lease_s
        )

    async def _lead(self) -> None:
        self._db = create_engine(self.url)
        self.instance = await Instance.start(Store(session_factory(self._db)), DAILY)
        self.led.set()

    async def _step_down(self, _reason: str) -> None:
        await self.close()

    async def close(self) -> None:
        if self.instance is not None:
            await self.instance.stop()
        if self._db is not None:
            await self._db.dispose()
        self.instance, self._db = None, None

    async def stop(self) -> None:
        await self.leadership.stop()
        await self.close()
        await self.leadership.release()


async def within(seconds: float, step: Callable[[], Awaitable[object]]) -> None:
    async with asyncio.timeout(seconds):  # a bound for a hang, not a speed requirement
        await step()


async def test_the_standby_takes_over_with_the_days_loss_and_peak(pg_fresh_url):
    await upgrade(pg_fresh_url)
    key = lock_key(f"test-{uuid.uuid4().hex}")
    a, b = Node("a", pg_fresh_url, key), Node("b", pg_fresh_url, key)
    try:
        await a.leadership.start()  # alone: leads before start() returns
        await b.leadership.start()  # the standby
        first = a.instance
        assert first is not None
        assert b.instance is None
        await lose_the_day(first)
        allowed, lines = await first.risk(VIEWER)
        assert not allowed
        before = (lines["Daily loss ⛔"], lines["Drawdown"])

        await admin(  # the leader is gone: its lock session dies with it
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"upbit-bot leader {a.lock.instance}",
        )
        await within(30, b.led.wait)
        again = b.instance
        assert again is not None

        await again.trade(99_000_000, first.rig.engine.market_time() + minutes(3))
        allowed, lines = await again.risk(VIEWER)
        assert not allowed
        assert (lines["Daily loss ⛔"], lines["Drawdown"]) == before
        assert "refused" in await buy(again, "100000")
        assert breaches(again) == ["daily_loss"]
    finally:
        for node in (a, b):
            await node.stop()
