"""The market universe on the scheduler: ``bot.markets = "top:N"`` chosen again every
``bot.universe_refresh_s``.

The choosing and applying is ``trading.engine.universe.UniverseKeeper``; this is when it runs
and what a failed read does (a warning, the last universe stays, the next run tries again).
It runs on the leader only (chat-ops' scheduler), beside the daily report and retention.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from trading.engine.lifecycle import READ_ERRORS
from trading.engine.universe import UniverseKeeper
from trading.events import UniverseChanged

log = logging.getLogger(__name__)
JOB_ID = "universe"


class UniverseJob:
    """Runs ``UniverseKeeper.refresh`` every ``keeper.every_s`` (the first run one interval
    after start: the trader chose at start)."""

    def __init__(self, keeper: UniverseKeeper, *, zone: tzinfo) -> None:
        self.keeper = keeper
        self.zone = zone
        self.runs = 0
        self.failures = 0

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        every = self.keeper.every_s
        scheduler.add_job(
            self.run,
            IntervalTrigger(seconds=every, timezone=self.zone),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(every),
            next_run_time=datetime.now(self.zone) + timedelta(seconds=every),
        )

    async def run(self) -> UniverseChanged | None:
        """One refresh; the scheduler calls this, tests may too."""
        self.runs += 1
        try:
            return await self.keeper.refresh()
        except READ_ERRORS as exc:
            self.failures += 1
            log.warning("universe not refreshed (the last one stays): %s", exc)
            return None
