"""The history timeframes are the venue-neutral ``NATIVE`` units; Upbit's own list pins them.

``trading.history.timeframes`` no longer imports the adapter (issue #14): these checks keep
its units and client keys equal to what Upbit's constants say it serves.
"""

from __future__ import annotations

from bot.upbit_factory import CANDLE_PAGE_SIZE
from trading.history.timeframes import TIMEFRAMES, parse_timeframe
from trading.upbit.constants import MAX_CANDLES_PER_CALL, MINUTE_UNITS, TIMEFRAME_PATHS


def test_fixed_units_are_upbits_minute_units() -> None:
    minutes = {
        tf.seconds // 60
        for tf in map(parse_timeframe, TIMEFRAMES)
        if tf.seconds is not None and tf.seconds >= 60 and tf.seconds < 86400
    }
    assert minutes == set(MINUTE_UNITS)


def test_every_client_key_is_a_path_upbit_serves() -> None:
    for name in TIMEFRAMES:
        assert parse_timeframe(name).client_key in TIMEFRAME_PATHS
    assert set(TIMEFRAMES) <= set(TIMEFRAME_PATHS)


def test_the_wiring_pages_by_upbits_limit() -> None:
    assert CANDLE_PAGE_SIZE == MAX_CANDLES_PER_CALL
