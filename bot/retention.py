"""Retention on the scheduler: once at start, then daily at ``retention.daily_time``.

The deleting itself is ``trading.store.retention.Retention`` (bounded batches, the space
reclaim); this is when it runs, what it logs, and whom it tells (the metrics). It runs on the
leader only (chat-ops starts it), so two instances never prune one PostgreSQL database at
once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.report import daily_trigger
from trading.store import Store
from trading.store.retention import Retention, RetentionResult

if TYPE_CHECKING:
    from bot.config import RetentionConfig

log = logging.getLogger(__name__)
JOB_ID = "retention"


class RetentionJob:
    """Runs ``Retention`` on a scheduler; ``on_result`` is told every run (the metrics).
    "Now" is the store's clock."""

    def __init__(
        self,
        store: Store,
        config: RetentionConfig,
        *,
        zone: tzinfo,
        on_result: Callable[[RetentionResult], None] | None = None,
    ) -> None:
        self.config = config
        self.zone = zone
        self.on_result = on_result
        self._stopping = False
        self._running: asyncio.Task[object] | None = None
        self.retention: Retention = store.retention(
            config.keep(),
            batch_rows=config.batch_rows,
            should_stop=lambda: self._stopping,
        )
        self.runs = 0

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Daily at the quiet hour, and the first run now (a bot restarted daily still
        prunes)."""
        if not self.config.enabled:
            log.info("retention is off (retention.enabled = false): nothing is deleted")
            return
        scheduler.add_job(
            self.run,
            daily_trigger(self.config.daily_time, self.zone),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            next_run_time=datetime.now(self.zone),
        )

    async def run(self) -> RetentionResult:
        """One pass; the scheduler calls this, the soak benchmark and tests may too."""
        self._running = asyncio.current_task()
        try:
            result = await self.retention.run()
        finally:
            self._running = None
        self.runs += 1
        deleted = ", ".join(f"{t} {n}" for t, n in result.deleted.items() if n) or "nothing"
        log.info(
            "retention: deleted %s in %d batch(es), %.2f s; %s freed (%s, %.2f s)%s",
            deleted,
            result.batches,
            result.seconds,
            _size(result.freed_bytes),
            result.vacuum,
            result.reclaim_seconds,
            "; stopped early" if result.stopped else "",
        )
        if self.on_result is not None:
            self.on_result(result)
        return result

    async def stop(self) -> None:
        """Stop between two batches; a run under way ends within one batch."""
        self._stopping = True
        task = self._running
        if task is not None and task is not asyncio.current_task():
            await asyncio.gather(task, return_exceptions=True)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"
