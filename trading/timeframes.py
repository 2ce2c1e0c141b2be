"""Candle timeframes (``1s``, ``5s``, ``1m``, ``15m``, ``1h``, ``4h``, ``1d``) as seconds.

A timeframe must divide one day, so every candle starts on a boundary counted from 00:00 UTC,
which is where Upbit's day candles start (09:00 KST).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_TIMEFRAME = re.compile(r"^(\d{1,4})([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DAY_SECONDS = 86400
#: Korea Standard Time (UTC+9, no daylight saving): the clock of the KRW markets' timestamps,
#: Upbit's and the paper exchange's.
KST = timezone(timedelta(hours=9), "KST")


def timeframe_seconds(value: str) -> int:
    """Seconds in a timeframe like ``15m``; it must divide a day so candles align to midnight."""
    match = _TIMEFRAME.match(value)
    if not match:
        raise ValueError('must be a timeframe like "1s", "5s", "1m", "15m", "1h", "4h" or "1d"')
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds == 0 or seconds > DAY_SECONDS or DAY_SECONDS % seconds:
        raise ValueError("must divide one day evenly (e.g. 1m, 5m, 15m, 1h, 4h, 1d)")
    return seconds


def bucket_start(moment: datetime, seconds: int) -> datetime:
    """Start of the candle of ``seconds`` that contains ``moment`` (UTC-aligned)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)
