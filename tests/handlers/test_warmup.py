"""Issue #13: a live ``/set`` that lengthens the strategy's warm-up past the candles the engine
holds must never stop the strategy silently: the history grows (backfilled over REST when the
engine has a candle source), and the reply and ``/status`` say how long the strategy warms up.

The scenario: ``ma_cross`` 5/20 trades the bundled minutes; ``/set strategy.slow 250`` then
``/set strategy.kind ema`` asks for 251 + 4 × 250 = 1,251 candles, more than the 1,000 the
engine was built to hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

import pytest

from tests.engine.conftest import BUNDLED, replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from trading.candle_file import read_candles
from trading.events import SignalRaised

NEEDED = 251 + 4 * 250


@dataclass(frozen=True, slots=True)
class FileCandle:
    """A REST candle as ``trading.domain.candle.Candle`` describes it."""

    market: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal


class FileCandles:
    """The REST candle endpoints over the bundled file: what the exchange had then."""

    def __init__(self) -> None:
        self.candles = [
            FileCandle("KRW-BTC", c.start, c.open, c.high, c.low, c.close, c.volume, Decimal(0))
            for c in read_candles(BUNDLED)
        ]
        self.asked: list[tuple[datetime, datetime]] = []

    async def candles(
        self, market: str, timeframe: str = "1m", *, count: int = 1, to: datetime | None = None
    ) -> Sequence[FileCandle]:
        before = [c for c in self.candles if to is None or c.start < to]
        return before[-count:][::-1]  # newest first, as Upbit answers

    async def candle_history(
        self, market: str, timeframe: str, start: datetime, end: datetime
    ) -> Sequence[FileCandle]:
        self.asked.append((start, end))
        return [c for c in self.candles if start <= c.start < end]


@pytest.fixture
async def running(rig: Rig) -> AsyncIterator[Rig]:
    rig.engine.loop.start()
    yield rig
    await rig.engine.loop.stop()


async def lengthen(rig: Rig, language: str) -> str:
    """The two changes; the second one's reply (the one that lengthens past the history)."""
    await rig.confirm(OPERATOR, "/set strategy.slow 250", language)
    reply = await rig.confirm(OPERATOR, "/set strategy.kind ema", language)
    return reply.plain_text()


def signals(rig: Rig) -> int:
    return sum(isinstance(e, SignalRaised) for e in rig.events)


async def test_a_set_past_the_history_says_the_strategy_warms_up_and_it_resumes(
    running: Rig,
) -> None:
    rig = running
    await replay(rig.engine, 300)
    assert signals(rig) > 0  # 5/20 trades the first 300 minutes

    text = await lengthen(rig, "en")

    # no candle source in a replay: the user is told, with the numbers and the time
    assert "warming up" in text, text
    assert f"of the {NEEDED} candles" in text, text
    status = (await rig.say(VIEWER, "/status", "en")).plain_text()
    assert "Warming up" in status, status
    assert f"/{NEEDED} candles" in status, status
    ko = (await rig.say(VIEWER, "/status", "ko")).plain_text()
    assert "워밍업 중" in ko, ko

    before = signals(rig)
    await replay(rig.engine, 2000, from_minute=300)
    # the history grew past the 1,000 candles it was built for: the strategy speaks again
    assert len(rig.engine.engine.market_data.history("KRW-BTC")) >= NEEDED
    assert signals(rig) > before
    status = (await rig.say(VIEWER, "/status", "en")).plain_text()
    assert "Warming up" not in status, status


async def test_a_set_past_the_history_backfills_it_over_rest_and_says_so(running: Rig) -> None:
    rig = running
    source = FileCandles()
    market_data = rig.engine.engine.market_data
    market_data.client = source
    await replay(rig.engine, 300, from_minute=3000)
    first = market_data.history("KRW-BTC")[0].start

    text = await lengthen(rig, "ko")

    assert "REST로 받아왔습니다" in text, text
    assert "워밍업 중" not in text, text
    history = market_data.history("KRW-BTC")
    assert len(history) >= NEEDED
    # the older candles are the exchange's, contiguous with what was held
    by_start = {c.start: c for c in source.candles}
    assert source.asked
    assert history[0].start < first
    for bar in history[:5]:
        assert bar.close == by_start[bar.start].close
    assert all(b.end == n.start for b, n in pairwise(history))
    status = (await rig.say(VIEWER, "/status", "en")).plain_text()
    assert "Warming up" not in status, status
