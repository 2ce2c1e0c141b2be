"""Page candles backwards from Upbit into a target, fetching only what the target lacks.

For each series (market, timeframe) over ``[start, end)``:

1. ask the target which starts it already has; the missing part is a list of ranges;
2. for each range ``[a, b)`` page backwards with ``to`` (exclusive), ``page_size`` candles per
   call (the most the venue serves at once; the wiring gives it: Upbit's 200),
   until a page reaches ``a`` or Upbit runs out of history;
3. every page becomes one contiguous block (real candles plus flat ones for the intervals
   Upbit skipped) written at once, so an interrupted run leaves a usable, gap-free tail and
   the next run continues below it.

Requests go through ``UpbitRestClient.candles``, whose limiter keeps the ``candle`` group
inside Upbit's budget however many series run at once; ``concurrency`` only decides how many
series keep requests queued (it hides network latency, it never adds requests per second).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from trading.domain.candle import Candle
from trading.errors import NotFound
from trading.history.series import Gap, HistCandle, fill_block, merge_gaps
from trading.history.targets import CandleTarget
from trading.history.timeframes import Timeframe

SETTLE = timedelta(seconds=60)


class PageSource(Protocol):
    """The one call of ``UpbitRestClient`` the downloader needs."""

    async def candles(
        self, market: str, timeframe: str = ..., *, count: int = ..., to: datetime | None = ...
    ) -> Sequence[Candle]: ...


class UnknownMarket(LookupError):
    """Upbit answered 404 for a market's candles."""

    def __init__(self, market: str) -> None:
        super().__init__(f"market {market!r} is unknown to Upbit (candles answered 404)")
        self.market = market


class ServerIgnoresTo(RuntimeError):
    """A page did not move backwards: following it would loop forever."""


@dataclass(frozen=True, slots=True)
class SeriesJob:
    market: str
    tf: Timeframe
    start: datetime
    end: datetime  # exclusive, already clamped to closed candles


@dataclass(slots=True)
class SeriesReport:
    """What one series' run did; ``first``/``last`` describe the target after the run."""

    market: str
    timeframe: str
    start: datetime
    end: datetime
    present: int = 0
    fetched: int = 0
    filled: int = 0
    requests: int = 0
    seconds: float = 0.0
    first: datetime | None = None
    last: datetime | None = None
    gaps: list[Gap] = field(default_factory=list)
    history_starts: datetime | None = None  # Upbit has nothing before this (inside the range)
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """``intervals`` more of ``job``'s missing intervals are done (``total`` in all)."""

    job: SeriesJob
    intervals: int
    total: int


ProgressSink = Callable[[Progress], None]


def _ignore(_: Progress) -> None:
    pass


def plan_jobs(
    markets: Sequence[str],
    timeframes: Sequence[Timeframe],
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
) -> list[SeriesJob]:
    """One job per market and timeframe; ``end`` is clamped to candles closed at least
    ``SETTLE`` ago: an interval Upbit has not published yet would otherwise be filled flat
    for good (a resume never asks for a candle the target holds)."""
    moment = (now or datetime.now(UTC)) - SETTLE
    jobs = []
    for market in markets:
        for tf in timeframes:
            jobs.append(SeriesJob(market, tf, start, min(end, tf.floor(moment))))
    return jobs


def missing_ranges(
    tf: Timeframe, present: Sequence[datetime], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of ``[start, end)`` not covered by ``present`` (sorted candle starts)."""
    out: list[tuple[datetime, datetime]] = []
    cursor = start
    for moment in present:
        if moment > cursor:
            out.append((cursor, moment))
        cursor = max(cursor, tf.next(moment))
    if cursor < end:
        out.append((cursor, end))
    return out


@dataclass(eq=False, repr=False)
class Downloader:
    """Runs series jobs against one client and one target. ``page_size`` is the most candles
    the venue serves per call, given by the wiring (a shorter page means its history ran out,
    so it must be the venue's real limit, not a smaller choice)."""

    client: PageSource
    target: CandleTarget
    _: KW_ONLY
    page_size: int
    concurrency: int = 4
    on_progress: ProgressSink = _ignore
    reports: list[SeriesReport] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")

    async def plan_total(self, jobs: Sequence[SeriesJob]) -> dict[SeriesJob, int]:
        """Missing intervals per job (what the progress bar counts to)."""
        totals = {}
        for job in jobs:
            present = await self.target.present(job.market, job.tf, job.start, job.end)
            totals[job] = sum(
                job.tf.count_between(a, b)
                for a, b in missing_ranges(job.tf, present, job.start, job.end)
            )
        return totals

    async def run(self, jobs: Sequence[SeriesJob]) -> list[SeriesReport]:
        """Download every job; on the first failure the others stop, and what was written
        stays (a later run resumes). Reports come back in job order."""
        reports = [SeriesReport(j.market, j.tf.name, j.start, j.end) for j in jobs]
        self.reports = reports  # also readable after a failure: what got done
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job: SeriesJob, report: SeriesReport) -> None:
            async with gate:
                await self._series(job, report)

        try:
            async with asyncio.TaskGroup() as group:
                for job, report in zip(jobs, reports, strict=True):
                    group.create_task(
                        one(job, report), name=f"download-{job.market}-{job.tf.name}"
                    )
        except BaseExceptionGroup as eg:
            raise _first(eg) from None
        finally:
            await self.target.flush()
        return reports

    async def _series(self, job: SeriesJob, report: SeriesReport) -> None:
        began = time.monotonic()
        tf = job.tf
        present = await self.target.present(job.market, tf, job.start, job.end)
        report.present = len(present)
        if present:
            report.first, report.last = present[0], present[-1]
        ranges = missing_ranges(tf, present, job.start, job.end)
        total = sum(tf.count_between(a, b) for a, b in ranges)
        gaps: list[Gap] = []
        try:
            for a, b in reversed(ranges):
                await self._range(job, report, a, b, gaps, total)
            await self.target.finish(job.market, tf)
            report.complete = True
        finally:
            report.gaps = merge_gaps(tf, gaps)
            report.seconds = time.monotonic() - began

    async def _range(
        self,
        job: SeriesJob,
        report: SeriesReport,
        a: datetime,
        b: datetime,
        gaps: list[Gap],
        total: int,
    ) -> None:
        tf = job.tf
        cursor = b
        while cursor > a:
            try:
                page = await self.client.candles(
                    job.market, tf.client_key, count=self.page_size, to=cursor
                )
            except NotFound as exc:
                raise UnknownMarket(job.market) from exc
            report.requests += 1
            real = sorted(
                (HistCandle.from_candle(c) for c in page if c.start < cursor),
                key=lambda c: c.start,
            )
            inside = [c for c in real if c.start >= a]
            older = [c for c in real if c.start < a]
            anchor = older[-1] if older else None
            exhausted = len(page) < self.page_size
            reached = anchor is not None or (bool(inside) and inside[0].start <= a)
            done = reached or exhausted
            if not done and not inside:
                raise ServerIgnoresTo(
                    f"{job.market} {tf.name}: a page before {cursor.isoformat()} did not move back"
                )
            block, block_gaps = fill_block(tf, inside, anchor=anchor, begin=a, end=cursor)
            if block:
                await self.target.write(job.market, tf, block)
                report.fetched += len(inside)
                report.filled += len(block) - len(inside)
                gaps.extend(block_gaps)
                report.first = min(block[0].start, report.first or block[0].start)
                report.last = max(block[-1].start, report.last or block[-1].start)
            new_cursor = a if done else inside[0].start
            if done and anchor is None and inside:
                report.history_starts = inside[0].start if inside[0].start > a else None
            elif done and not inside and anchor is None:
                report.history_starts = cursor if cursor < job.end else None
            self.on_progress(Progress(job, tf.count_between(new_cursor, cursor), total))
            cursor = new_cursor


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The exception that stopped the run (not the cancellations it caused)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]
