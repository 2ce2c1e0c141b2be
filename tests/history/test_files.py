"""CSV and Parquet: exact round trips, the repo's header, atomic rewrites."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW, source
from trading.candle_file import read_candles
from trading.history.downloader import Downloader, plan_jobs
from trading.history.files import HEADER, FileTarget, read_csv_rows, read_parquet_rows
from trading.history.series import HistCandle
from trading.history.targets import TargetError
from trading.history.timeframes import parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL
from trading.upbit.rest import UpbitRestClient

END = A_FIRST + 450 * MINUTE


def as_candles(rows: dict[int, str]) -> list[HistCandle]:
    out = []
    for epoch in sorted(rows):
        o, h, lo, c, v, val = (Decimal(x) for x in rows[epoch].split(","))
        out.append(HistCandle(datetime.fromtimestamp(epoch, UTC), o, h, lo, c, v, val))
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
async def test_round_trip_is_exact(
    fake: FakeUpbit, client: UpbitRestClient, tmp_path: Path, fmt: str
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    target = FileTarget(tmp_path, "csv" if fmt == "csv" else "parquet")
    await target.open()
    await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
        plan_jobs(["KRW-BTC"], [parse_timeframe("1m")], A_FIRST, END, now=NOW)
    )
    await target.close()
    path = tmp_path / f"upbit_KRW-BTC_1m.{fmt}"
    read = read_csv_rows if fmt == "csv" else read_parquet_rows
    assert as_candles(read(path)) == source(BUNDLED, A_FIRST, END)
    if fmt == "csv":
        assert path.read_text().splitlines()[0] == ",".join(HEADER)
        # the repo's own reader takes the file as it is
        assert [c.close for c in read_candles(path)] == [
            c.close for c in source(BUNDLED, A_FIRST, END)
        ]
    else:
        schema = pq.read_schema(path)
        assert schema.names == list(HEADER)
        assert schema.field("timestamp_utc").type == pa.timestamp("ms", tz="UTC")
        assert {schema.field(n).type for n in HEADER[1:]} == {pa.string()}


async def test_unwritable_directory_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TargetError, match="cannot write to"):
        await FileTarget(blocker / "sub", "csv").open()


def test_foreign_or_broken_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,price\n1,2\n")
    with pytest.raises(TargetError, match="not a candle file"):
        read_csv_rows(path)
    path.write_text(
        ",".join(HEADER) + "\n2024-01-01T00:01:00Z,1,1,1,1,1,1\n2024-01-01T00:00:00Z,1,1,1,1,1,1\n"
    )
    with pytest.raises(TargetError, match="unsorted"):
        read_csv_rows(path)
