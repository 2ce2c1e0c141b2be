"""Halt windows and the live schedule: recurring, wrap-around, weekdays, one-off, Seoul time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from tests.risk.helpers import SEOUL
from trading.risk.halts import HaltSchedule, HaltWindow


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=SEOUL)  # 2025-06-20 is a Friday


def window(name: str, start: str, end: str, days: tuple[str, ...] = ()) -> HaltWindow:
    return HaltWindow.model_validate({"name": name, "start": start, "end": end, "days": days})


def test_recurring_window_is_start_inclusive_end_exclusive() -> None:
    maint = window("maintenance", "03:50", "04:10")
    assert maint.recurring
    assert not maint.active_at(seoul(20, 3, 49))
    assert maint.active_at(seoul(20, 3, 50))
    assert maint.active_at(seoul(20, 4, 9))
    assert not maint.active_at(seoul(20, 4, 10))


def test_wrap_around_midnight_counts_from_the_start_day() -> None:
    night = window("night", "23:00", "01:00", ("Fri",))
    assert night.days == ("fri",)
    assert night.active_at(seoul(20, 23, 30))  # Friday night
    assert night.active_at(seoul(21, 0, 30))  # Saturday morning, still Friday's window
    assert not night.active_at(seoul(21, 1, 0))
    assert not night.active_at(seoul(21, 23, 30))  # Saturday night: not a start day
    assert not night.active_at(seoul(20, 0, 30))  # Friday morning belongs to Thursday


def test_weekday_filter() -> None:
    weekend = window("weekend", "09:00", "18:00", ("sat", "sun"))
    assert not weekend.active_at(seoul(20, 12))  # Friday
    assert weekend.active_at(seoul(21, 12))  # Saturday
    assert weekend.active_at(seoul(22, 12))  # Sunday
    assert not weekend.active_at(seoul(23, 12))  # Monday


def test_one_off_window_naive_times_are_seoul_time() -> None:
    fomc = window("fomc", "2025-06-19T02:30", "2025-06-19T04:00")
    assert not fomc.recurring
    assert fomc.active_at(datetime(2025, 6, 18, 18, 0, tzinfo=UTC))  # 03:00 in Seoul
    assert not fomc.active_at(datetime(2025, 6, 18, 19, 0, tzinfo=UTC))  # 04:00 in Seoul
    assert fomc.next_start(seoul(19, 1)) == seoul(19, 2, 30)
    assert fomc.next_start(seoul(19, 3)) is None


def test_seoul_is_dst_free_so_windows_are_fixed_utc_times_all_year() -> None:
    maint = window("maintenance", "03:50", "04:10")
    for month in (1, 3, 7, 11):  # other zones switch DST in March and November
        utc_start = datetime(2025, month, 10, 18, 50, tzinfo=UTC)  # 03:50 +09:00 next day
        assert maint.active_at(utc_start)
        assert not maint.active_at(utc_start - timedelta(minutes=1))
        assert maint.span_at(utc_start) == (utc_start, utc_start + timedelta(minutes=20))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "10:00", "end": "2025-01-01T00:00"}, "both be HH:MM or both be date-times"),
        ({"start": "10:00", "end": "10:00"}, "end must differ from start"),
        ({"start": "2025-01-02T00:00", "end": "2025-01-01T00:00"}, "end must be after start"),
        (
            {"start": "2025-01-01T00:00", "end": "2025-01-02T00:00", "days": ["mon"]},
            "days applies only to daily HH:MM windows",
        ),
        ({"start": "10:00", "end": "11:00", "days": ["mon", "Mon"]}, "lists a day more than once"),
        ({"start": "25:00", "end": "11:00"}, 'must be "HH:MM" or an ISO date-time'),
    ],
)
def test_window_validation(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HaltWindow.model_validate({"name": "x", **data})


def test_window_is_frozen_and_accepts_native_times() -> None:
    w = HaltWindow(name="n", start=time(1, 0), end=time(2, 0))
    with pytest.raises(ValidationError, match="frozen"):
        w.name = "m"  # type: ignore[misc]


def test_schedule_add_remove_validate_names() -> None:
    sched = HaltSchedule([window("a", "01:00", "02:00")])
    sched.add(window("b", "03:00", "04:00"))
    with pytest.raises(ValueError, match="a halt window named 'a' already exists"):
        sched.add(window("a", "05:00", "06:00"))
    assert sched.remove("a").name == "a"
    with pytest.raises(KeyError, match=r"no halt window named 'zz' \(known: 'b'\)"):
        sched.remove("zz")
    assert [w.name for w in sched.windows] == ["b"]


def test_schedule_active_next_change_and_resume() -> None:
    sched = HaltSchedule(
        [
            window("maintenance", "03:50", "04:10"),
            window("late", "04:00", "05:00"),
            window("fomc", "2025-06-21T02:30", "2025-06-21T04:00"),
        ]
    )
    now = seoul(20, 3, 55)
    assert [w.name for w in sched.active(now)] == ["maintenance"]
    assert sched.next_change(now) == seoul(20, 4, 0)  # "late" starts
    assert sched.resumes_at(now) == seoul(20, 5, 0)  # overlapping windows chain
    assert sched.active(seoul(20, 12)) == []
    assert sched.resumes_at(seoul(20, 12)) is None
    assert sched.next_change(seoul(20, 12)) == seoul(21, 2, 30)  # the one-off comes first
    assert sched.expired(seoul(21, 4)) == [sched.windows[2]]


def test_schedule_next_change_skips_filtered_days() -> None:
    sched = HaltSchedule([window("monday", "09:00", "10:00", ("mon",))])
    assert sched.next_change(seoul(20, 12)) == seoul(23, 9)
    assert HaltSchedule().next_change(seoul(20, 12)) is None


def test_halt_window_survives_a_json_round_trip():
    window = HaltWindow(name="fomc", start="03:00", end="04:00", days=("wed",))

    again = HaltWindow.model_validate(window.model_dump(mode="json"))

    assert again == window
