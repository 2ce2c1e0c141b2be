"""Retention on the bot's scheduler: it runs once at start, then daily at the quiet hour,
logs what went and counts it in ``upbit_bot_retention_deleted_total``."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import RetentionConfig
from bot.metrics import Metrics
from bot.retention import JOB_ID, RetentionJob
from tests.metrics.conftest import value
from trading.store import Store
from trading.store.retention import TABLES

SEOUL = ZoneInfo("Asia/Seoul")


async def test_runs_at_start_then_daily_and_counts_what_it_deleted(
    store: Store, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: 12 audit entries 400 days old, 3 from today
    now = datetime.now(UTC)
    for n in range(15):
        at = now - timedelta(days=400 if n < 12 else 0, seconds=n)
        await store.audit(transport="console", command="status", outcome="ok", at=at)
    job = RetentionJob(
        store, RetentionConfig(daily_time=time(4, 30)), zone=SEOUL, on_result=metrics.on_retention
    )
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=SEOUL)
    caplog.set_level(logging.INFO, logger="bot.retention")
    # Act
    job.schedule(scheduler)
    scheduler.start()
    try:
        for _ in range(200):  # bounded: at most 10 s
            if job.runs:
                break
            await asyncio.sleep(0.05)
        next_run = scheduler.get_job(JOB_ID).next_run_time
    finally:
        scheduler.shutdown(wait=False)
        await job.stop()
    # Assert
    assert job.runs == 1
    assert next_run.astimezone(SEOUL).time() == time(4, 30)
    assert value(metrics, "upbit_bot_retention_deleted_total", table="audit_log") == 12
    for table in TABLES:  # every table's series exists from the start
        assert (
            metrics.registry.get_sample_value(
                "upbit_bot_retention_deleted_total", {"table": table}
            )
            is not None
        )
    assert len(await store.audit_log(100)) == 3
    assert any("retention: deleted audit_log 12" in r.getMessage() for r in caplog.records)


async def test_off_schedules_nothing(store: Store) -> None:
    job = RetentionJob(store, RetentionConfig(enabled=False), zone=SEOUL)
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=SEOUL)
    job.schedule(scheduler)
    assert scheduler.get_job(JOB_ID) is None
