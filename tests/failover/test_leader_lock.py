"""The leader lock itself: one holder per key, freed when the holder's session ends, a lease
that closes the order fence, and the SQLite stand-in."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.failover.conftest import admin
from trading.store import head_revision, upgrade
from trading.store.leader import (
    LeaderTiming,
    PgAdvisoryLock,
    SoleLeader,
    account_identity,
    keepalive_settings,
    leader_lock,
    lock_key,
)

pytestmark = pytest.mark.postgres
TIMING = LeaderTiming.for_failover(2.0)


def pair(url: str) -> tuple[PgAdvisoryLock, PgAdvisoryLock]:
    key = lock_key(f"test-{uuid.uuid4().hex}")
    return (
        PgAdvisoryLock(url, key, timing=TIMING, instance=f"a-{uuid.uuid4().hex[:6]}"),
        PgAdvisoryLock(url, key, timing=TIMING, instance=f"b-{uuid.uuid4().hex[:6]}"),
    )


async def test_only_one_of_two_connections_wins_and_release_hands_over(pg_test_url):
    a, b = pair(pg_test_url)
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire()
        assert a.is_leader
        assert not b.is_leader
        assert a.may_send() is None
        assert "not the leader" in (b.may_send() or "")
        assert await a.check()
        holder = await b.holder()
        assert holder is not None
        assert holder.startswith(a.instance)

        await a.release()
        assert not a.is_leader
        assert await b.try_acquire()
        assert await b.check()
        assert not await a.try_acquire()
    finally:
        await a.release()
        await b.release()


async def test_a_killed_session_frees_the_lock_and_fails_the_check(pg_test_url):
    a, b = pair(pg_test_url)
    try:
        assert await a.try_acquire()
        rows = await admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"upbit-bot leader {a.instance}",
        )
        assert [r[0] for r in rows] == [True]  # found by the name it sets when it leads

        for _ in range(100):  # PostgreSQL frees the lock as the session ends: at once
            if await b.try_acquire():
                break
            await asyncio.sleep(0.05)
        assert not await a.check()  # the lost holder finds out on its next check
        assert not a.is_leader
        assert a.may_send() is not None
        assert b.is_leader
    finally:
        await a.release()
        await b.release()


async def test_the_lease_closes_the_fence_until_a_check_succeeds(pg_test_url):
    now = [1000.0]
    key = lock_key(f"test-{uuid.uuid4().hex}")
    lock = PgAdvisoryLock(pg_test_url, key, timing=TIMING, clock=lambda: now[0])
    try:
        assert await lock.try_acquire()
        assert lock.may_send() is None
        now[0] += TIMING.lease_s + 0.01  # a stalled loop: no check for longer than the lease
        assert not lock.is_leader
        assert "not confirmed" in (lock.may_send() or "")
        assert await lock.check()  # still ours: the fence opens again
        assert lock.may_send() is None
    finally:
        await lock.release()


async def test_the_lock_session_carries_keepalives_and_never_idles_out(pg_test_url):
    lock = PgAdvisoryLock(pg_test_url, lock_key(uuid.uuid4().hex), timing=TIMING)
    try:
        assert await lock.try_acquire()
        rows = await admin(
            "SELECT application_name, client_addr IS NOT NULL AS tcp FROM pg_stat_activity "
            "WHERE application_name = $1",
            f"upbit-bot leader {lock.instance}",
        )
        assert rows
        assert rows[0]["tcp"]
        conn = lock._conn
        expected = keepalive_settings(TIMING.failover_s)
        assert await conn.fetchval("SHOW tcp_keepalives_idle") == expected["tcp_keepalives_idle"]
        assert await conn.fetchval("SHOW tcp_keepalives_count") == "3"
        assert await conn.fetchval("SHOW idle_session_timeout") == "0"
    finally:
        await lock.release()


async def test_an_unreachable_server_is_a_failed_attempt_not_a_crash():
    lock = PgAdvisoryLock(
        "postgresql+asyncpg://postgres@127.0.0.1:1/none", 42, timing=TIMING, instance="x"
    )
    assert not await lock.try_acquire()
    assert await lock.holder() is None
    assert not await lock.check()
    await lock.release()


async def test_sqlite_always_leads_and_keys_never_show_the_access_key():
    sole = leader_lock("sqlite+aiosqlite:///x.db", access_key="secret-access", failover_s=5)
    assert isinstance(sole, SoleLeader)
    assert await sole.try_acquire()
    assert sole.is_leader
    assert sole.may_send() is None
    await sole.release()
    assert sole.may_send() is not None

    pg = leader_lock("postgresql+asyncpg://u:pw@h/db", access_key="secret-access", failover_s=5)
    assert isinstance(pg, PgAdvisoryLock)
    assert "secret-access" not in pg.describe
    assert "secret-access" not in account_identity("secret-access")
    assert lock_key(account_identity("k1")) == lock_key(account_identity("k1"))
    assert lock_key(account_identity("k1")) != lock_key(account_identity("k2"))
    assert account_identity(None) == "paper"
    assert -(2**63) <= lock_key("paper") < 2**63
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        PgAdvisoryLock("sqlite+aiosqlite:///x.db", 1, timing=TIMING)


async def test_two_instances_starting_together_migrate_one_after_the_other(pg_fresh_url):
    revisions = await asyncio.gather(upgrade(pg_fresh_url), upgrade(pg_fresh_url))
    assert revisions[0] == revisions[1] == head_revision()
