"""Issue #13: chat's /backtest runs over a hole the way ``upbit-bot backtest`` does, and
/optimize refuses one with a coded text, instead of both filling it with flat candles.

The store holds the bundled file's first STORED minutes, the engine has seen LIVE minutes
starting HOLE minutes after them: a hole between the downloaded and the live candles, as
after a restart long after a download.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import islice
from pathlib import Path

import pytest

from tests.engine.conftest import BUNDLED, replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from tests.handlers.test_research import JOB_LIMIT_S, api, result
from trading.candle_file import read_candles
from trading.history.series import HistCandle
from trading.history.store_candles import StoreTarget
from trading.history.timeframes import parse_timeframe

STORED, HOLE, LIVE = 600, 300, 240


async def stored_then_live(rig: Rig, tmp_path: Path, hole: int) -> AsyncIterator[Rig]:
    """The store holds the first STORED minutes, the engine replays LIVE minutes ``hole``
    minutes after them."""
    target = StoreTarget(f"sqlite+aiosqlite:///{tmp_path / 'handlers.db'}")
    candles = [
        HistCandle(c.start, c.open, c.high, c.low, c.close, c.volume, c.close * c.volume, False)
        for c in islice(read_candles(BUNDLED), STORED)
    ]
    await target.write("KRW-BTC", parse_timeframe("1m"), candles)
    await target.close()
    rig.engine.loop.start()
    await replay(rig.engine, LIVE, from_minute=STORED + hole)
    yield rig
    await api(rig).research.close()
    await rig.engine.loop.stop()


@pytest.fixture
async def gapped(rig: Rig, tmp_path: Path) -> AsyncIterator[Rig]:
    async for ready in stored_then_live(rig, tmp_path, HOLE):
        yield ready


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "The data has 1 gap(s) (300 missing candles): it was run in 2 stretches"),
        ("ko", "데이터에 공백 1개(빠진 캔들 300개)가 있어 2개 구간으로 나누어 실행했습니다"),
    ],
)
async def test_backtest_runs_the_stretches_and_says_so(
    gapped: Rig, language: str, says: str
) -> None:
    reply = await gapped.say(VIEWER, "/backtest", language)
    text = reply.plain_text()
    assert says in text, text
    assert "filled flat" not in text
    event = await result(gapped)
    assert event.ok, event.lines
    assert any(says in line for line in event.lines), event.lines
    # only the candles that exist: no 300 flat minutes bridged (the live history may count
    # its last, still open minute or not)
    candles = event.lines[1].split(", ")[2]
    assert candles.split()[0 if language == "en" else 1].strip("캔들개") in {
        f"{STORED + LIVE - 1:,}",
        f"{STORED + LIVE:,}",
    }, event.lines[1]


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "300 candles are missing in 1 gap(s)"),
        ("ko", "캔들 300개가 1개 공백에서 빠져 있습니다"),
    ],
)
async def test_optimize_refuses_the_gap_coded_and_names_the_options(
    gapped: Rig, language: str, says: str
) -> None:
    reply = await gapped.say(OPERATOR, "/optimize 5", language)
    text = reply.plain_text()
    assert says in text, text
    assert "/backtest" in text
    assert "upbit-bot download" in text
    assert api(gapped).research.running is None


QUIET = 30  # minutes without a candle: a quiet half hour, not missing data


@pytest.fixture
async def quiet(rig: Rig, tmp_path: Path) -> AsyncIterator[Rig]:
    async for ready in stored_then_live(rig, tmp_path, QUIET):
        yield ready


@pytest.mark.parametrize(
    ("language", "filled", "english"),
    [
        ("en", "30 filled flat in quiet holes of up to three hours", True),
        ("ko", "직전 종가로 채운 30개", False),
    ],
)
async def test_a_quiet_half_hour_is_filled_as_live_fills_it_and_said_in_the_language(
    quiet: Rig, language: str, filled: str, english: bool
) -> None:
    # Act
    reply = await quiet.say(VIEWER, "/backtest", language)
    # Assert: one series over every minute, the filled ones named in the reader's language
    text = reply.plain_text()
    assert filled in text, text
    assert "stretches" not in text
    assert "구간으로 나누어" not in text
    assert ("downloaded" in text) is english  # no English source line for a Korean reader
    event = await result(quiet)
    assert event.ok, event.lines
    assert any(filled in line for line in event.lines), event.lines
    # /optimize runs over it too: only longer holes are refused
    reply = await quiet.say(OPERATOR, "/optimize 3", language)
    started = {"en": "Optimization started", "ko": "최적화 시작"}[language]
    assert reply.title == started, reply.plain_text()
    async with asyncio.timeout(JOB_LIMIT_S):
        await api(quiet).research.wait()
