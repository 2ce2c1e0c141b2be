"""Real Upbit KRW-BTC minute candles for indicator and strategy tests."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from trading.candle_file import read_candles
from trading.strategies import CandleFrame

DATA = Path(__file__).resolve().parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
BARS = 3000


@pytest.fixture(scope="session")
def btc() -> CandleFrame:
    return CandleFrame.from_bars(list(itertools.islice(read_candles(DATA), BARS)))
