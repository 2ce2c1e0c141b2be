"""Paging backwards: every candle exactly once, sorted, across page boundaries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW, source
from trading.history.downloader import Downloader, missing_ranges, plan_jobs
from trading.history.files import FileTarget, read_csv_rows
from trading.history.store_candles import StoreTarget, load_candles
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL
from trading.upbit.rest import UpbitRestClient

M1 = parse_timeframe("1m")
D1 = parse_timeframe("1d")


def csv_starts(path: Path) -> list[int]:
    return list(read_csv_rows(path))


def decimals(path: Path) -> list[tuple[Decimal, ...]]:
    rows = read_csv_rows(path)
    return [tuple(Decimal(x) for x in rows[s].split(",")) for s in sorted(rows)]


async def test_minutes_every_candle_once_across_pages(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    end = A_FIRST + 1001 * MINUTE  # 1001 candles: five full pages and one of a single candle
    target = FileTarget(tmp_path, "csv")
    await target.open()
    [report] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
        plan_jobs(["KRW-BTC"], [M1], A_FIRST, end, now=NOW)
    )
    await target.close()

    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    starts = csv_starts(path)
    assert starts == sorted(set(starts))
    assert len(starts) == 1001
    expected = source(BUNDLED, A_FIRST, end)
    assert [datetime.fromtimestamp(s, UTC) for s in starts] == [c.start for c in expected]
    assert decimals(path) == [
        (c.open, c.high, c.low, c.close, c.volume, c.value) for c in expected
    ]
    assert (report.fetched, report.filled, report.present) == (1001, 0, 0)
    assert report.requests == 6 == len(fake.candle_requests())
    # each page asks for 200 before the previous page's oldest candle
    tos = [r.query for r in fake.candle_requests()]
    assert all("count=200" in q for q in tos)
    assert "to=2018-01-22T14:08:00Z" not in " ".join(tos)  # never asks below the range


async def test_days_page_backwards_into_the_store(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    # real prices of 450 minutes, served as 450 consecutive days
    fake.load_candles("KRW-ETH", "days", BUNDLED, limit=450, relabel=timedelta(days=1))
    first = datetime(2018, 1, 22, 14, 8, tzinfo=UTC)
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    target = StoreTarget(url)
    await target.open()
    start, end = datetime(2018, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)
    [report] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
        plan_jobs(["KRW-ETH"], [D1], start, end, now=NOW)
    )
    await target.close()
    # day candles here start at 14:08 (relabelled); the series ends 2019-04-17 14:08
    stored = await load_candles(url, "KRW-ETH", "1d", None, None)
    starts = [c.start for c in stored]
    assert starts[0] == first
    assert starts == sorted(set(starts))
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(starts))
    assert report.fetched == 450
    # to 2020-01-01 the market has no trade after its last day: flat days, then nothing before
    assert report.filled == (end - (first + timedelta(days=449))).days
    assert report.history_starts == first
    assert report.requests == 3 == len(fake.candle_requests())
    assert [p for p in fake.candle_requests() if p.path != "/v1/candles/days"] == []

    # a second run asks once below the first candle (Upbit still has nothing there)
    target = StoreTarget(url)
    await target.open()
    [again] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
        plan_jobs(["KRW-ETH"], [D1], start, end, now=NOW)
    )
    await target.close()
    assert (again.requests, again.fetched, again.filled) == (1, 0, 0)
    assert again.present == len(stored)
    assert again.history_starts == first


def test_missing_ranges() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    def at(i: int) -> datetime:
        return t0 + i * MINUTE

    present = [at(i) for i in (2, 3, 4, 7)]
    assert missing_ranges(M1, present, at(0), at(10)) == [
        (at(0), at(2)),
        (at(5), at(7)),
        (at(8), at(10)),
    ]
    assert missing_ranges(M1, [at(i) for i in range(10)], at(0), at(10)) == []
    assert missing_ranges(M1, [], at(0), at(10)) == [(at(0), at(10))]


def test_calendar_timeframes_step_by_the_calendar() -> None:
    month = parse_timeframe("1M")
    assert month.next(datetime(2024, 12, 1, tzinfo=UTC)) == datetime(2025, 1, 1, tzinfo=UTC)
    assert (
        month.count_between(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
        == 12
    )
    week = parse_timeframe("1w")
    assert week.floor(datetime(2024, 1, 10, 5, tzinfo=UTC)) == datetime(2024, 1, 8, tzinfo=UTC)
    assert parse_timeframe("60m").name == "1h"
    assert parse_timeframe("240m").client_key == "240m"
