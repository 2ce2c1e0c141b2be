"""Leadership transitions in one process: two instances on one lock, a lost session, and the
SQLite stand-in that leads at once."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from bot.leadership import Leadership
from tests.failover.conftest import admin
from trading.store.leader import LeaderTiming, PgAdvisoryLock, SoleLeader, lock_key

TIMING = LeaderTiming.for_failover(2.0)


class Parts:
    """Stands in for the trading parts: records when they start and stop."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.stopped: list[tuple[float, str]] = []
        self.leading: list[bool] = []
        self.changed = asyncio.Event()

    async def lead(self) -> None:
        self.started.append(time.monotonic())
        self.changed.set()

    async def step_down(self, reason: str) -> None:
        self.stopped.append((time.monotonic(), reason))
        self.changed.set()

    async def wait(self, check, within_s: float = 10.0) -> None:
        async with asyncio.timeout(within_s):
            while not check():
                self.changed.clear()
                await self.changed.wait()


def leadership(lock, parts: Parts, grace_s: float) -> Leadership:
    return Leadership(
        lock,
        lead=parts.lead,
        step_down=parts.step_down,
        grace_s=grace_s,
        on_change=parts.leading.append,
    )


@pytest.mark.postgres
async def test_a_lost_session_steps_the_leader_down_and_the_standby_up(pg_test_url):
    key = lock_key(f"test-{uuid.uuid4().hex}")
    lock_a = PgAdvisoryLock(pg_test_url, key, timing=TIMING, instance=f"a-{uuid.uuid4().hex[:6]}")
    lock_b = PgAdvisoryLock(pg_test_url, key, timing=TIMING, instance=f"b-{uuid.uuid4().hex[:6]}")
    a_parts, b_parts = Parts(), Parts()
    a = leadership(lock_a, a_parts, grace_s=TIMING.lease_s)
    b = leadership(lock_b, b_parts, grace_s=TIMING.lease_s)
    try:
        await a.start()  # alone: leads before start() returns, after the grace
        assert a.is_leader
        assert len(a_parts.started) == 1
        await b.start()
        assert not b.is_leader
        assert b_parts.leading == [False]
        assert not b_parts.started

        await admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"upbit-bot leader {lock_a.instance}",
        )
        cut = time.monotonic()
        await a_parts.wait(lambda: bool(a_parts.stopped))
        await b_parts.wait(lambda: bool(b_parts.started))
        stopped_at, reason = a_parts.stopped[0]
        assert reason == "leader lock lost"
        assert stopped_at - cut < 2 * TIMING.interval_s + 0.5  # the next check found it
        assert b_parts.started[0] > stopped_at  # the new leader starts after the old stopped
        assert b_parts.started[0] - cut >= TIMING.lease_s  # after the grace
        assert a_parts.leading == [True, False]
        assert b_parts.leading == [False, True]
        assert lock_a.may_send() is not None
        assert lock_b.may_send() is None
    finally:
        for one in (a, b):
            await one.stop()
            await one.release()
    assert not lock_b.is_leader


async def test_sqlite_leads_at_once():
    parts = Parts()
    one = leadership(SoleLeader(), parts, grace_s=0.0)
    await one.start()
    try:
        assert one.is_leader
        assert len(parts.started) == 1
        assert parts.leading == [True]
    finally:
        await one.stop()
        await one.release()
    assert not one.is_leader


class BrokenCheck(SoleLeader):
    """Leads at once; its lock check then fails the way a broken session can: an error the
    lock does not expect, or no answer at all."""

    def __init__(self, failure: str) -> None:
        super().__init__()
        self.failure = failure
        self.released = False

    async def check(self) -> bool:
        if self.failure == "raises":
            raise RuntimeError("the driver's protocol state is broken")
        await asyncio.Event().wait()  # hangs
        return True

    async def release(self) -> None:
        self.released = True
        await super().release()


@pytest.mark.parametrize("failure", ["raises", "hangs"])
async def test_a_check_that_cannot_answer_steps_the_leader_down(failure: str) -> None:
    # Arrange: a leader whose lock check raises or never answers
    lock, parts = BrokenCheck(failure), Parts()
    lead = leadership(lock, parts, grace_s=0)
    try:
        await lead.start()
        assert parts.started
        # Act / Assert: the leadership ends on that check, and the lock is given back
        await parts.wait(lambda: bool(parts.stopped), within_s=10)
        assert parts.stopped[0][1] == "leader lock lost"
        assert parts.leading[:2] == [True, False]
        assert lock.released
        assert not lead.is_leader
    finally:
        await lead.stop()
