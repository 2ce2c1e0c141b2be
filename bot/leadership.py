"""Who trades: standby until the leader lock is ours, then trading; back to standby if it is lost.

Transitions (each logged, and told to ``on_change`` for health and metrics):

- standby -> leader: the lock is taken (an attempt every ``interval_s``), then a grace of
  ``lease_s`` plus one request timeout passes, so a lost leader's fence has closed and its
  last request has landed, then ``lead`` runs (the trader: reconciliation before the engine
  and the feeds, then chat-ops).
- leader -> standby: a lock check fails. The fence (``LeaderLock.may_send``) already refuses
  orders; ``step_down`` stops chat-ops and the trader without cancelling anything (that is the
  new leader's call), and the lock is not retried for ``failover_s``, so a healthy standby gets
  it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.standby import StandbyDesk
from trading.store.leader import LeaderLock, SoleLeader, instance_name, leader_lock

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.leader")


class Leadership:
    def __init__(
        self,
        lock: LeaderLock,
        *,
        lead: Callable[[], Awaitable[None]],
        step_down: Callable[[str], Awaitable[None]],
        grace_s: float,
        on_change: Callable[[bool], None] | None = None,
        on_fail: Callable[[], None] | None = None,
        desk: StandbyDesk | None = None,
    ) -> None:
        self.lock = lock
        self.desk = desk  # what a standby answers on the console
        self._lead = lead
        self._step_down = step_down
        self.grace_s = grace_s
        self._on_change = on_change
        self._on_fail = on_fail  # the loop crashed (a take-over failed): stop the bot
        self.leading = False  # trading parts started (after the grace)
        self._lost = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Holds the lock, within its lease: what health, metrics and the fence report."""
        return self.lock.is_leader

    async def start(self) -> None:
        """One attempt now (a lone instance leads before ``start`` returns), then the loop."""
        if await self.lock.try_acquire():
            await self._take_over()
        else:
            await self._announce_standby()
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="leadership")

    async def _announce_standby(self) -> None:
        holder = await self.lock.holder()
        log.info(
            "standby: %s is held by %s; retrying every %.1fs",
            self.lock.describe,
            holder or "another instance",
            self.lock.timing.interval_s,
        )
        self._changed(False)

    async def _take_over(self) -> None:
        log.info("leadership acquired: %s by %s", self.lock.describe, instance_name())
        self._lost.clear()
        self._keeper = asyncio.get_running_loop().create_task(self._keep(), name="leader-check")
        self._changed(True)
        if self.grace_s > 0:
            log.info("waiting %.1fs before trading (a lost leader's fence closes)", self.grace_s)
            await asyncio.sleep(self.grace_s)
        if self._lost.is_set():
            return
        await self._lead()
        self.leading = True
        log.info("leader: trading started")

    async def _keep(self) -> None:
        """Check the lock every interval; the first failure ends the leadership.

        A check that raises or does not answer within two intervals is a failure too: a
        leader that cannot confirm its lock steps down and gives the lock back (the fence has
        already closed the order path), instead of waiting on a broken session forever while
        the standby cannot take over."""
        timing = self.lock.timing
        while True:
            await asyncio.sleep(timing.interval_s)
            try:
                async with asyncio.timeout(2 * max(timing.interval_s, timing.lease_s)):
                    held = await self.lock.check()
            except Exception as exc:  # TimeoutError included
                log.warning("leader lock check failed (%r): the lock counts as lost", exc)
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2 * max(timing.interval_s, 1.0)):
                        await self.lock.release()
                held = False
            if not held:
                log.warning("leadership lost: %s is no longer held", self.lock.describe)
                self._changed(False)
                self._lost.set()
                return

    async def _run(self) -> None:
        try:
            await self._transitions()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("leadership loop failed; stopping")
            if self._on_fail is not None:
                self._on_fail()

    async def _transitions(self) -> None:
        timing = self.lock.timing
        while True:
            if self._keeper is not None:
                await self._lost.wait()
                self._keeper = None
                if self.leading:
                    self.leading = False
                    await self._step_down("leader lock lost")
                    log.warning("standby: trading stopped after losing the leader lock")
                # a healthy standby should win the lock, not the instance that just lost it
                await asyncio.sleep(timing.failover_s)
                continue
            await asyncio.sleep(timing.interval_s)
            if await self.lock.try_acquire():
                await self._take_over()

    async def stop(self) -> None:
        """Stop the loop and the checks (the caller stops the trading parts, then releases)."""
        for task in (self._runner, self._keeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._runner = self._keeper = None

    async def release(self) -> None:
        if self.desk is not None:
            await self.desk.close()
        await self.lock.release()
        self.leading = False
        self._changed(False)

    def _changed(self, leading: bool) -> None:
        if self._on_change is not None:
            self._on_change(leading)


def leadership_for(app: App) -> Leadership:
    """The lock for the app's store and account, wired to the app's trading parts.

    The grace before a new leader's first order is the lease (the old leader's fence has
    closed) plus, live, one request timeout (its last order request has landed or failed)."""
    cfg = app.config
    access = cfg.secrets.upbit_access_key
    live = cfg.bot.mode == "live"
    lock = leader_lock(
        cfg.store.url,
        access_key=access.get_secret_value() if live and access is not None else None,
        failover_s=cfg.store.failover_s,
    )
    grace = 0.0
    if not isinstance(lock, SoleLeader):
        grace = lock.timing.lease_s + (cfg.upbit.request_timeout_s if live else 0.0)
    return Leadership(
        lock,
        lead=app.start_trading,
        step_down=app.stop_trading,
        grace_s=grace,
        on_change=app.metrics.set_leader,
        on_fail=app.request_stop,
        desk=StandbyDesk(
            cfg.store.url,
            holder=lock.holder,
            describe=lock.describe,
            on_audit=app.metrics.on_command,
            language=cfg.bot.language,
            mode=cfg.bot.mode,
            strategy=cfg.strategy.name,
        ),
    )
