"""Scheduled halts: windows in which no new entries are opened (exits still run).

``HaltWindow`` is the one model of a window, shared by the config file (``risk.halt_windows``)
and the ``/schedule`` commands, so both accept and refuse exactly the same input with the same
words. It lives in ``trading`` because the engine evaluates it and ``trading`` never imports
``bot``. A window is either recurring (``"HH:MM"`` start and end, optional weekdays; it may wrap
midnight) or one-off (ISO date-times). Naive times are wall-clock times in the bot's zone
(Asia/Seoul by default, which has no DST, so a local day is always 24 hours).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEOUL = ZoneInfo("Asia/Seoul")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_HHMMSS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$")


def parse_moment(value: object) -> time | datetime:
    """``"HH:MM"`` (recurring) or an ISO date-time (one-off); TOML native values too."""
    if isinstance(value, time | datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - zone added later
    if isinstance(value, str):
        match = _HHMM_RE.match(value)
        if match:
            return time(int(match.group(1)), int(match.group(2)))
        if _HHMMSS_RE.match(value):  # what model_dump(mode="json") writes back
            return time.fromisoformat(value)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _refused("halt_time", 'must be "HH:MM" or an ISO date-time like "2025-01-01T09:00"')


def _refused(code: str, message: str) -> PydanticCustomError:
    """A window's problem with a code (its ``type``) chat renders from the catalogs, and the
    English ``message`` the config file's report shows."""
    return PydanticCustomError(code, message)


class HaltWindow(BaseModel):
    """No new entries inside the window: daily ``"HH:MM"`` times or one-off ISO date-times.

    A daily window may wrap midnight (start 23:30, end 00:30); ``days`` are the days it starts
    on, empty = every day. One-off date-times without an offset are in ``bot.timezone``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=64)
    start: time | datetime
    end: time | datetime
    days: tuple[Weekday, ...] = ()

    @field_validator("start", "end", mode="before")
    @classmethod
    def _moment(cls, value: object) -> time | datetime:
        return parse_moment(value)

    @field_validator("days", mode="before")
    @classmethod
    def _lower_days(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(d.lower() if isinstance(d, str) else d for d in value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> HaltWindow:
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            raise _refused("halt_mixed", "start and end must both be HH:MM or both be date-times")
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            if self.days:
                raise _refused("halt_days_one_off", "days applies only to daily HH:MM windows")
            if (self.start.tzinfo is None) != (self.end.tzinfo is None):
                message = "start and end must both have a UTC offset or neither"
                raise _refused("halt_offset_mixed", message)
            if self.end <= self.start:
                raise _refused("halt_end_before_start", "end must be after start")
        elif self.start == self.end:
            raise _refused("halt_end_equals_start", "end must differ from start")
        if len(set(self.days)) != len(self.days):
            raise _refused("halt_days_repeated", "days lists a day more than once")
        return self

    @property
    def recurring(self) -> bool:
        return not isinstance(self.start, datetime)

    def occurrences(
        self, around: datetime, zone: tzinfo = SEOUL
    ) -> Iterator[tuple[datetime, datetime]]:
        """Aware ``[start, end)`` spans, in order, from the one that may contain ``around``.

        A recurring window yields spans for the next 8 local days (enough to find the next
        start whatever the weekday filter); a one-off window yields its single span.
        """
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            yield _aware(self.start, zone), _aware(self.end, zone)
            return
        start_t, end_t = _clock(self.start), _clock(self.end)
        first = around.astimezone(zone).date() - timedelta(days=1)
        for offset in range(9):
            day = first + timedelta(days=offset)
            if self.days and WEEKDAYS[day.weekday()] not in self.days:
                continue
            start = datetime.combine(day, start_t, tzinfo=zone)
            end_day = day if start_t < end_t else day + timedelta(days=1)
            yield start, datetime.combine(end_day, end_t, tzinfo=zone)

    def span_at(self, moment: datetime, zone: tzinfo = SEOUL) -> tuple[datetime, datetime] | None:
        """The span containing the aware ``moment`` (start inclusive, end exclusive), if any."""
        for start, end in self.occurrences(moment, zone):
            if start <= moment < end:
                return start, end
            if start > moment:
                return None
        return None

    def active_at(self, moment: datetime, zone: tzinfo = SEOUL) -> bool:
        """Whether the aware ``moment`` falls inside the window (start inclusive)."""
        return self.span_at(moment, zone) is not None

    def next_start(self, moment: datetime, zone: tzinfo = SEOUL) -> datetime | None:
        """The first start strictly after ``moment``; None for a one-off window already begun."""
        return next((s for s, _ in self.occurrences(moment, zone) if s > moment), None)


def _aware(value: datetime, zone: tzinfo) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _clock(value: time | datetime) -> time:
    return value.time() if isinstance(value, datetime) else value.replace(tzinfo=None)


class HaltSchedule:
    """The live list of halt windows, edited by ``/schedule`` and seeded from the config.

    Names are the handle users type, so they are unique; an edit that breaks that is refused
    with a sentence saying why, and the schedule is left as it was.
    """

    MAX_WINDOWS = 50

    def __init__(self, windows: Iterable[HaltWindow] = (), zone: tzinfo = SEOUL) -> None:
        self.zone = zone
        self._windows: list[HaltWindow] = []
        for window in windows:
            self.add(window)

    @property
    def windows(self) -> tuple[HaltWindow, ...]:
        return tuple(self._windows)

    def get(self, name: str) -> HaltWindow | None:
        return next((w for w in self._windows if w.name == name), None)

    def add(self, window: HaltWindow) -> None:
        """Append ``window``; raise ValueError when its name is taken or the list is full."""
        if self.get(window.name) is not None:
            raise ValueError(f"a halt window named {window.name!r} already exists")
        if len(self._windows) >= self.MAX_WINDOWS:
            raise ValueError(f"at most {self.MAX_WINDOWS} halt windows are allowed")
        self._windows.append(window)

    def remove(self, name: str) -> HaltWindow:
        """Remove and return the window called ``name``; raise KeyError naming what exists."""
        window = self.get(name)
        if window is None:
            known = ", ".join(repr(w.name) for w in self._windows) or "none"
            raise KeyError(f"no halt window named {name!r} (known: {known})")
        self._windows.remove(window)
        return window

    def active(self, now: datetime) -> list[HaltWindow]:
        """Windows in force at the aware ``now``, in schedule order."""
        if not self._windows:
            return []  # asked on every entry check: the usual answer, without the loop
        return [w for w in self._windows if w.active_at(now, self.zone)]

    def next_change(self, now: datetime) -> datetime | None:
        """The next moment any window starts or ends after ``now``; None if nothing is left."""
        moments: list[datetime] = []
        for window in self._windows:
            span = window.span_at(now, self.zone)
            if span is not None:
                moments.append(span[1])
            upcoming = window.next_start(now, self.zone)
            if upcoming is not None:
                moments.append(upcoming)
        return min(moments, default=None)

    def resumes_at(self, now: datetime) -> datetime | None:
        """When entries are next allowed: the end of back-to-back or overlapping windows."""
        moment, resume = now, None
        for _ in range(len(self._windows) * 9 + 1):  # each hop ends at least one span
            ends = [span[1] for w in self._windows if (span := w.span_at(moment, self.zone))]
            if not ends:
                return resume
            moment = resume = max(ends)
        return resume

    def expired(self, now: datetime) -> list[HaltWindow]:
        """One-off windows that are over; ``/schedule`` may offer to prune them."""
        return [
            w
            for w in self._windows
            if isinstance(w.end, datetime) and _aware(w.end, self.zone) <= now
        ]
