"""Gap filling: flat candles where Upbit sent none, counted exactly, never before the first."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.fakes.upbit.candles import rows_from_file
from tests.history.conftest import A_FIRST, A_LAST, B_FIRST, BUNDLED, MINUTE, NOW, shared
from trading.history.downloader import Downloader, SeriesReport, plan_jobs
from trading.history.files import FileTarget, read_csv_rows
from trading.history.series import Gap, HistCandle, fill_block
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL
from trading.upbit.rest import UpbitRestClient

M1 = parse_timeframe("1m")


async def download(
    client: UpbitRestClient, directory: Path, market: str, tf: str, start: datetime, end: datetime
) -> SeriesReport:
    target = FileTarget(directory, "csv")
    await target.open()
    try:
        [report] = await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
            plan_jobs([market], [parse_timeframe(tf)], start, end, now=NOW)
        )
    finally:
        await target.close()
    return report


def missing_in_file(path: Path, step: timedelta) -> tuple[int, int]:
    """(missing intervals, gap runs) between the file's first and last row, counted directly."""
    starts = [
        datetime.fromisoformat(r["candle_date_time_utc"])
        for r in rows_from_file(path, "X", "days")
    ]
    missing = runs = 0
    for a, b in itertools.pairwise(starts):
        if b - a > step:
            missing += (b - a) // step - 1
            runs += 1
    return missing, runs


@pytest.mark.parametrize(
    ("name", "unit", "tf", "step"),
    [
        ("upbit_KRW-ETH_1h.csv", "minutes/60", "1h", timedelta(hours=1)),
        ("upbit_KRW-BTC_3m.csv", "minutes/3", "3m", timedelta(minutes=3)),
        ("upbit_KRW-ETH_1d.csv", "days", "1d", timedelta(days=1)),
    ],
)
async def test_fill_count_equals_the_real_datas_missing_intervals(
    fake: FakeUpbit,
    client: UpbitRestClient,
    tmp_path: Path,
    name: str,
    unit: str,
    tf: str,
    step: timedelta,
) -> None:
    path = shared(name)
    rows = fake.load_candles("KRW-ETH", unit, path)
    missing, runs = missing_in_file(path, step)
    first = datetime.fromisoformat(
        rows_from_file(path, "X", unit, limit=1)[0]["candle_date_time_utc"]
    ).replace(tzinfo=UTC)
    start = first - 10 * step  # before the market's first candle: nothing filled there
    end = (
        datetime.fromisoformat(fake.md.candles.series[("KRW-ETH", unit)].keys[-1]).replace(
            tzinfo=UTC
        )
        + step
    )
    report = await download(client, tmp_path, "KRW-ETH", tf, start, end)
    assert (report.fetched, report.filled, len(report.gaps)) == (rows, missing, runs)
    assert report.history_starts == first
    assert report.first == first
    written = read_csv_rows(tmp_path / f"upbit_KRW-ETH_{tf}.csv")
    assert len(written) == rows + missing


@pytest.mark.slow  # a million flat minutes: ~8 s
async def test_fills_the_bundled_two_year_gap_and_never_before_the_first_candle(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED)
    report = await download(
        client, tmp_path, "KRW-BTC", "1m", A_FIRST - timedelta(days=1), B_FIRST + 5 * MINUTE
    )
    gap_minutes = (B_FIRST - A_LAST) // MINUTE - 1  # 749 days of no candle
    assert report.filled == gap_minutes
    assert report.gaps == [Gap(A_LAST + MINUTE, gap_minutes)]
    assert report.fetched == (A_LAST - A_FIRST) // MINUTE + 1 + 5
    assert report.history_starts == A_FIRST
    written = read_csv_rows(tmp_path / "upbit_KRW-BTC_1m.csv")
    first = min(written)
    assert first == int(A_FIRST.timestamp())
    last_close = written[int(A_LAST.timestamp())].split(",")[3]
    flat = written[int((A_LAST + MINUTE).timestamp())]
    assert flat == ",".join([last_close] * 4 + ["0", "0"])
    assert report.requests == 70  # 13,877 candles: 69 full pages and one short one


def test_fill_block_uses_the_previous_close_and_splits_nothing() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    def c(i: int, close: str) -> HistCandle:
        p = Decimal(close)
        return HistCandle(t0 + i * MINUTE, p, p, p, p, Decimal(1), p)

    anchor = c(-3, "10")
    block, gaps = fill_block(
        M1, [c(1, "11"), c(4, "12")], anchor=anchor, begin=t0, end=t0 + 6 * MINUTE
    )
    assert [b.start for b in block] == [t0 + i * MINUTE for i in range(6)]
    assert [(b.close, b.filled) for b in block] == [
        (Decimal(10), True),
        (Decimal(11), False),
        (Decimal(11), True),
        (Decimal(11), True),
        (Decimal(12), False),
        (Decimal(12), True),
    ]
    assert gaps == [Gap(t0, 1), Gap(t0 + 2 * MINUTE, 2), Gap(t0 + 5 * MINUTE, 1)]
    # no anchor: nothing before the first real candle
    block, gaps = fill_block(M1, [c(2, "11")], anchor=None, begin=t0, end=t0 + 3 * MINUTE)
    assert [b.start for b in block] == [t0 + 2 * MINUTE]
    assert gaps == []
