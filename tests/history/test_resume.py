"""Resumability: a second run asks only for what the target lacks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW
from trading.errors import ServerError
from trading.history.downloader import Downloader, plan_jobs
from trading.history.files import FileTarget, read_csv_rows, write_rows
from trading.history.store_candles import StoreTarget
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL
from trading.upbit.rest import UpbitRestClient

M1 = parse_timeframe("1m")
END = A_FIRST + 1000 * MINUTE  # exactly 5 pages
JOBS = plan_jobs(["KRW-BTC"], [M1], A_FIRST, END, now=NOW)


def temporaries(directory: Path) -> list[Path]:
    return list(directory.glob("*.tmp"))


async def run_files(client: UpbitRestClient, directory: Path, **kw: float) -> int:
    target = FileTarget(directory, "csv", **kw)
    await target.open()
    try:
        [report] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(JOBS)
    finally:
        await target.close()
    return report.requests


async def test_second_run_fetches_nothing_then_only_the_deleted_tail(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    assert await run_files(client, tmp_path) == 5
    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    full = path.read_bytes()

    assert await run_files(client, tmp_path) == 0
    assert len(fake.candle_requests()) == 5
    assert path.read_bytes() == full

    rows = read_csv_rows(path)
    write_rows(path, {k: rows[k] for k in sorted(rows)[:550]}, "csv")  # drop the newest 450
    assert await run_files(client, tmp_path) == 3  # 450 missing: 200 + 200 + 50 (+ anchor)
    assert len(fake.candle_requests()) == 8
    assert path.read_bytes() == full


async def test_interrupted_by_an_outage_keeps_the_tail_and_resumes(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    fake.candle_outage_after(2)
    with pytest.raises(ServerError):
        await run_files(client, tmp_path)
    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    partial = read_csv_rows(path)
    assert len(partial) == 400  # the two pages answered, contiguous up to the end
    assert max(partial) == int((END - MINUTE).timestamp())
    assert sorted(partial) == list(range(min(partial), max(partial) + 60, 60))

    fake.end_candle_outage()
    before = len(fake.candle_requests())
    assert await run_files(client, tmp_path) == 3
    assert len(fake.candle_requests()) - before == 3
    assert len(read_csv_rows(path)) == 1000


async def test_killed_run_leaves_a_readable_checkpoint(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    task = asyncio.create_task(run_files(client, tmp_path, flush_every_s=0.0))
    for _ in range(500):  # bounded: 5 s
        if len(fake.candle_requests()) >= 3:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    partial = read_csv_rows(path)
    assert 200 <= len(partial) < 1000
    assert sorted(partial) == list(range(min(partial), max(partial) + 60, 60))
    assert not temporaries(tmp_path)

    before = len(fake.candle_requests())
    await run_files(client, tmp_path)
    assert len(fake.candle_requests()) - before == 5 - len(partial) // 200
    assert len(read_csv_rows(path)) == 1000


async def test_store_resume(fake: FakeUpbit, client: UpbitRestClient, store_url: str) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    for expected_requests in (5, 0):
        target = StoreTarget(store_url)
        await target.open()
        try:
            [report] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(JOBS)
        finally:
            await target.close()
        assert report.requests == expected_requests
    assert (report.present, report.fetched) == (1000, 0)
    assert len(fake.candle_requests()) == 5
