"""The store target (SQLite and PostgreSQL) and the backtester's reader ``load_frame``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, MINUTE, NOW, source
from trading.history.downloader import Downloader, plan_jobs
from trading.history.series import HistCandle
from trading.history.store_candles import StoreTarget, load_candles, load_frame
from trading.history.timeframes import parse_timeframe
from trading.strategies import CandleFrame
from trading.upbit.constants import MAX_CANDLES_PER_CALL
from trading.upbit.rest import UpbitRestClient

M1 = parse_timeframe("1m")
END = A_FIRST + 300 * MINUTE


async def test_download_into_the_store_and_read_back(
    fake: FakeUpbit, client: UpbitRestClient, store_url: str
) -> None:
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=1200)
    target = StoreTarget(store_url)
    await target.open()
    await Downloader(client, target, page_size=MAX_CANDLES_PER_CALL).run(
        plan_jobs(["KRW-BTC"], [M1], A_FIRST, END, now=NOW)
    )
    await target.close()
    expected = source(BUNDLED, A_FIRST, END)
    assert await load_candles(store_url, "KRW-BTC", "1m", A_FIRST, END) == expected
    assert (
        await load_candles(store_url, "KRW-BTC", "1m", A_FIRST + MINUTE, A_FIRST + 3 * MINUTE)
        == expected[1:3]
    )
    assert await load_candles(store_url, "KRW-ETH", "1m", None, None) == []

    frame = await asyncio.to_thread(load_frame, store_url, "KRW-BTC", "1m", None, None)
    reference = CandleFrame.from_bars(expected)
    for name in ("start", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(frame, name), getattr(reference, name)), name
    # also callable from inside a running event loop (it uses a worker thread then)
    assert len(load_frame(store_url, "KRW-BTC", "60m", None, None)) == 0


async def test_upsert_replaces_instead_of_duplicating(store_url: str) -> None:
    target = StoreTarget(store_url)
    await target.open()
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    p = Decimal("123456789.123456789012")
    first = HistCandle(t0, p, p, p, p, Decimal("0.00000001"), Decimal("1E+12"))
    await target.write("KRW-BTC", M1, [first])
    flat = first.flat_at(t0)
    await target.write("KRW-BTC", M1, [flat])
    await target.close()
    assert await load_candles(store_url, "KRW-BTC", "1m", None, None) == [flat]
    assert flat.filled


def test_load_frame_without_a_candles_table(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no candles table"):
        load_frame(
            f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}", "KRW-BTC", "1m", None, None
        )
