"""The timeframes Upbit serves candles for, with their step and their floor.

Fixed-length units (seconds, minutes, hours, days) step by seconds from 00:00 UTC. Weeks,
months and years are calendar units: they step by the calendar from a candle's own start, so
gap filling never depends on guessing where Upbit anchors a week. Names follow the config's
spelling (``1m``, ``1h``, ``1d``); ``60m``/``240m`` are accepted as ``1h``/``4h`` and ``1M``
(capital M) is a month.

The fixed units are the venue's native candle units, ``trading.marketdata.backfill.NATIVE``
(the live backfill fetches the same ones), not an import of the Upbit adapter: this package
stays venue-neutral, and tests/history/test_timeframes.py pins them to Upbit's own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trading.marketdata.backfill import NATIVE

_ALIASES = {"60m": "1h", "240m": "4h"}
#: canonical name -> seconds, shortest first (``60m``/``240m`` are spelled ``1h``/``4h``)
_FIXED: dict[str, int] = {_ALIASES.get(name, name): seconds for seconds, name in NATIVE.items()}
_CALENDAR = ("1w", "1M", "1y")
#: the key ``UpbitRestClient.candles`` takes for each canonical name
_CLIENT_KEY = {**{name: name for name in (*_FIXED, *_CALENDAR)}, "1h": "60m", "4h": "240m"}

TIMEFRAMES: tuple[str, ...] = (*_FIXED, *_CALENDAR)


class TimeframeError(ValueError):
    """A timeframe Upbit has no candles for."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    """One Upbit candle unit: ``name`` is canonical, ``client_key`` goes to the REST client."""

    name: str
    client_key: str
    seconds: int | None  # None for calendar units

    def next(self, start: datetime) -> datetime:
        """The start of the candle after the one starting at ``start``."""
        if self.seconds is not None:
            return start + timedelta(seconds=self.seconds)
        if self.name == "1w":
            return start + timedelta(days=7)
        if self.name == "1M":
            year, month = divmod(start.month, 12)
            return start.replace(year=start.year + year, month=month + 1)
        return start.replace(year=start.year + 1)

    def floor(self, moment: datetime) -> datetime:
        """Start of the candle containing ``moment`` (weeks start on Monday 00:00 UTC)."""
        moment = moment.astimezone(UTC)
        if self.seconds is not None:
            epoch = int(moment.timestamp())
            return datetime.fromtimestamp(epoch - epoch % self.seconds, UTC)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.name == "1w":
            return day - timedelta(days=day.weekday())
        if self.name == "1M":
            return day.replace(day=1)
        return day.replace(month=1, day=1)

    def count_between(self, start: datetime, end: datetime) -> int:
        """How many candle starts ``start + k*step`` fall in ``[start, end)``."""
        if end <= start:
            return 0
        if self.seconds is not None:
            span = (end - start).total_seconds()
            return int(-(-span // self.seconds))
        count, cursor = 0, start
        while cursor < end:
            count += 1
            cursor = self.next(cursor)
        return count


def parse_timeframe(value: str) -> Timeframe:
    """``1m`` -> Timeframe; an unknown name raises ``TimeframeError`` listing the valid ones."""
    name = _ALIASES.get(value, value)
    if name in _FIXED:
        return Timeframe(name, _CLIENT_KEY[name], _FIXED[name])
    if name in _CALENDAR:
        return Timeframe(name, _CLIENT_KEY[name], None)
    raise TimeframeError(
        f"unknown timeframe {value!r}: Upbit has {', '.join(TIMEFRAMES)} (60m = 1h, 240m = 4h)"
    )
