"""The leader lock: of several instances on one store, only the holder trades.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated
asyncpg connection for as long as the instance leads. When the holder dies its session ends
and PostgreSQL releases the lock: at once for a killed process (the kernel closes the socket),
within the TCP keepalive budget set on the session (``keepalive_settings``) for a hung host or
a cut cable. Advisory locks are per database, so the key only has to tell accounts apart.

The leader checks the lock every ``interval_s`` on the same connection. Orders are allowed only
while the last good check is younger than ``lease_s`` (``may_send``), so a leader that lost its
lock, or whose loop stalled, stops sending before a standby, which waits ``lease_s`` after it
takes the lock, sends anything.

SQLite has one process by construction (a file, no server to arbitrate): ``SoleLeader`` always
leads. This module lives in ``trading.store`` because it is a property of the store (the URL,
the driver), and the order path (``trading``) reads its fence without knowing about ``bot``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
NAMESPACE = "upbit-bot:leader:"
APP_NAME_MAX = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1
#: what a failed lock query can raise: the session died, the server is gone, or it is slow
_LOCK_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def account_identity(access_key: str | None) -> str:
    """A stable name for the account the lock guards; never the key itself.

    Live: a SHA-256 of the Upbit access key. Paper: the fixed name ``paper`` (the lock is
    scoped to the store's database by PostgreSQL, so two paper bots on one database exclude
    each other however their URLs are spelled)."""
    if access_key:
        return "upbit:" + hashlib.sha256(access_key.encode()).hexdigest()
    return "paper"


def lock_key(identity: str) -> int:
    """The signed 64-bit advisory-lock key for ``identity``."""
    digest = hashlib.sha256((NAMESPACE + identity).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def instance_name() -> str:
    """``host:pid``: how this process appears in ``pg_stat_activity`` and in messages."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class LeaderTiming:
    """``interval_s``: the standby's retry and the leader's check period; ``lease_s``: how old
    the last good check may be while orders still go out (also how long a new leader waits
    before its first order); ``failover_s``: the budget a dead leader's lock must be freed in."""

    failover_s: float
    interval_s: float
    lease_s: float

    @classmethod
    def for_failover(cls, failover_s: float) -> LeaderTiming:
        interval = min(1.0, failover_s / 5)
        return cls(failover_s=failover_s, interval_s=interval, lease_s=max(3 * interval, 1.5))


def keepalive_settings(failover_s: float) -> dict[str, str]:
    """Server-side TCP settings of the lock session: a client that vanished without closing
    its socket (hung host, cut network) is dropped, and the lock freed, in about
    ``idle + count * interval`` seconds (whole seconds: ``max(4, failover_s * 2/3)``).
    ``idle_session_timeout`` is pinned to 0 so a server default can never end the session."""
    idle = max(1, int(failover_s / 3))
    interval = max(1, int(failover_s / 9))
    return {
        "tcp_keepalives_idle": str(idle),
        "tcp_keepalives_interval": str(interval),
        "tcp_keepalives_count": "3",
        # unacknowledged data (a check sent to a dead peer) gives up as fast
        "tcp_user_timeout": str(int((idle + 3 * interval) * 1000)),
        "idle_session_timeout": "0",
        "idle_in_transaction_session_timeout": "0",
    }


class LeaderLock(Protocol):
    """What the bot needs of a lock; ``describe`` says what is locked, never a secret."""

    timing: LeaderTiming
    describe: str

    @property
    def is_leader(self) -> bool: ...

    def may_send(self) -> str | None: ...

    async def try_acquire(self) -> bool: ...

    async def check(self) -> bool: ...

    async def holder(self) -> str | None: ...

    async def release(self) -> None: ...


class SoleLeader:
    """SQLite: one process by construction, so this instance always leads at once."""

    def __init__(self, failover_s: float = 15.0) -> None:
        self.timing = LeaderTiming(failover_s=failover_s, interval_s=1.0, lease_s=0.0)
        self.describe = "SQLite store (single process, no lock)"
        self._held = False

    @property
    def is_leader(self) -> bool:
        return self._held

    def may_send(self) -> str | None:
        return None if self._held else "this instance does not lead (released)"

    async def try_acquire(self) -> bool:
        self._held = True
        return True

    async def check(self) -> bool:
        return self._held

    async def holder(self) -> str | None:
        return instance_name() if self._held else None

    async def release(self) -> None:
        self._held = False


class PgAdvisoryLock:
    """A session-level advisory lock on its own asyncpg connection.

    The connection is kept open between attempts; its ``application_name`` says
    ``upbit-bot standby <host:pid>`` or ``upbit-bot leader <host:pid>``, which is how an
    operator (and the fencing test) finds the lock session in ``pg_stat_activity``."""

    def __init__(
        self,
        url: str,
        key: int,
        *,
        timing: LeaderTiming,
        instance: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise ValueError(f"an advisory lock needs PostgreSQL, not {parsed.get_backend_name()}")
        self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.key = key
        self.timing = timing
        self.instance = instance or instance_name()
        self.describe = f"PostgreSQL advisory lock {key & 0xFFFFFFFFFFFFFFFF:016x}"
        self._clock = clock
        self._conn: Any = None  # asyncpg.Connection (untyped library)
        self._busy = asyncio.Lock()  # one query at a time on the connection
        self._held = False
        self._last_ok = float("-inf")
        self._warned = False

    # -- state ---------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Holding the lock and checked within the lease: what ``may_send`` allows."""
        return self._held and self._clock() - self._last_ok < self.timing.lease_s

    @property
    def held(self) -> bool:
        return self._held

    def may_send(self) -> str | None:
        """The fence on the order path: None, or why this instance must not send."""
        if not self._held:
            return "this instance is not the leader (leader lock not held)"
        age = self._clock() - self._last_ok
        if age >= self.timing.lease_s:
            return f"leader lock not confirmed for {age:.1f}s (lease {self.timing.lease_s:.1f}s)"
        return None

    def _app_name(self, role: str) -> str:
        return f"upbit-bot {role} {self.instance}"[:APP_NAME_MAX]

    @property
    def _classid_objid(self) -> tuple[int, int]:
        """How ``pg_locks`` shows a bigint key: high and low 32 bits as unsigned oids."""
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        return unsigned >> 32, unsigned & 0xFFFFFFFF

    # -- connection ----------------------------------------------------------------------------

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            settings = keepalive_settings(self.timing.failover_s)
            settings["application_name"] = self._app_name("standby")
            self._conn = await asyncpg.connect(
                self._dsn,
                timeout=max(2.0, self.timing.interval_s * 2),
                server_settings=settings,
                statement_cache_size=0,
            )
        return self._conn

    async def _drop(self) -> None:
        """Close the session (which frees the lock server-side if it still existed)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.terminate()

    def _query_timeout(self) -> float:
        return max(self.timing.interval_s, 0.5)

    # -- the protocol --------------------------------------------------------------------------

    async def try_acquire(self) -> bool:
        """One non-blocking attempt; False (never an exception) while another instance leads
        or the server cannot be reached."""
        if self._held:
            return True
        async with self._busy:
            try:
                conn = await self._connection()
                asked = self._clock()  # the lease runs from the question, not the answer
                timeout = self._query_timeout()
                got = bool(
                    await conn.fetchval(
                        "SELECT pg_try_advisory_lock($1)", self.key, timeout=timeout
                    )
                )
                if got:
                    self._held = True
                    self._last_ok = asked
                    await conn.execute(
                        "SELECT set_config('application_name', $1, false)",
                        self._app_name("leader"),
                        timeout=timeout,
                    )
            except _LOCK_ERRORS as exc:
                self._held = False
                await self._drop()
                if not self._warned:
                    log.warning("leader lock: cannot reach PostgreSQL (%s); retrying", exc)
                    self._warned = True
                return False
        self._warned = False
        return got

    async def check(self) -> bool:
        """Leader: is the lock still ours? True refreshes the lease; False is final (the
        session is closed, so the lock is certainly free for a standby)."""
        if not self._held:
            return False
        classid, objid = self._classid_objid
        async with self._busy:
            conn = self._conn
            ok = False
            asked = self._clock()  # the server confirmed the lock at or after this moment
            if conn is None or conn.is_closed():
                log.warning("leader lock check: the lock connection is closed")
            else:
                try:
                    ok = bool(
                        await conn.fetchval(
                            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                            "AND pid = pg_backend_pid() AND granted AND classid = $1::oid "
                            "AND objid = $2::oid AND objsubid = 1)",
                            classid,
                            objid,
                            timeout=self._query_timeout(),
                        )
                    )
                except _LOCK_ERRORS as exc:
                    log.warning("leader lock check failed: %s", exc)
            if ok:
                self._last_ok = asked
                return True
            self._held = False
            await self._drop()
            return False

    async def holder(self) -> str | None:
        """Who holds the lock now (its ``application_name`` and since when), or None."""
        classid, objid = self._classid_objid
        async with self._busy:
            try:
                conn = await self._connection()
                row = await conn.fetchrow(
                    "SELECT a.application_name, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid "
                    "AND l.objid = $2::oid AND l.objsubid = 1 "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())",
                    classid,
                    objid,
                    timeout=self._query_timeout(),
                )
            except _LOCK_ERRORS:
                await self._drop()
                self._held = False
                return None
        if row is None:
            return None
        name = str(row["application_name"] or "?").removeprefix("upbit-bot leader ")
        return f"{name} (since {row['backend_start']:%Y-%m-%d %H:%M:%S %Z})"

    async def release(self) -> None:
        """Give the lock back (clean stop) and close the session."""
        async with self._busy:
            if self._held and self._conn is not None and not self._conn.is_closed():
                with contextlib.suppress(*_LOCK_ERRORS):
                    await self._conn.execute(
                        "SELECT pg_advisory_unlock($1)", self.key, timeout=1.0
                    )
            self._held = False
            await self._drop()


def leader_lock(
    url: str, *, access_key: str | None, failover_s: float, instance: str | None = None
) -> LeaderLock:
    """The lock for a store URL: an advisory lock on PostgreSQL, ``SoleLeader`` on SQLite."""
    if make_url(url).get_backend_name() != "postgresql":
        return SoleLeader(failover_s)
    key = lock_key(account_identity(access_key))
    return PgAdvisoryLock(
        url, key, timing=LeaderTiming.for_failover(failover_s), instance=instance
    )
