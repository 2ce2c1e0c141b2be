"""Stateful halts: volatility hysteresis, daily loss per Seoul day, drawdown from the peak."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tests.risk.helpers import SEOUL, Recorder, bar
from trading.events import HaltChanged
from trading.risk.breakers import DailyLossBreaker, DrawdownBreaker, VolatilityFilter
from trading.risk.decision import Approved, Denied
from trading.risk.limits import RiskLimits

D = Decimal


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=SEOUL)


def test_volatility_hysteresis_emits_one_event_per_change() -> None:
    limits = RiskLimits(volatility_halt_pct=D(5), volatility_period=2)  # resume below 4%
    sink = Recorder()
    vol = VolatilityFilter(sink)
    levels = []
    for i, rng in enumerate((2, 2, 10, 10, 0, 0, 9, 9)):
        half = D(rng) / 2
        levels.append(vol.on_bar(bar(100, high=100 + half, low=100 - half, i=i), limits))
        if i == 3:
            assert vol.check("KRW-BTC", limits) == Denied(
                "volatility",
                "KRW-BTC volatility (ATR 2) is 10%, above the 5% halt level: no new entries"
                " until it falls below 4%",
            )
            assert vol.check("KRW-ETH", limits) == Approved()
    assert levels == [None, 2, 6, 10, 5, 0, D("4.5"), 9]
    changes = sink.of(HaltChanged)
    assert [(e.name, e.active) for e in changes] == [
        ("volatility:KRW-BTC", True),  # 6% > 5%
        ("volatility:KRW-BTC", False),  # 5% is not below 4%; 0% is
        ("volatility:KRW-BTC", True),  # 4.5% after resuming does not halt; 9% does
    ]
    assert changes[0].reason == (
        "KRW-BTC volatility (ATR 2) is 6%, above the 5% halt level: no new entries until it"
        " falls below 4%"
    )
    assert changes[1].reason == "KRW-BTC volatility (ATR 2) fell to 0%, below 4%: entries resume"
    assert changes[1].at == bar(100, i=5).end


def test_volatility_filter_off_lifts_a_halt() -> None:
    limits = RiskLimits(volatility_halt_pct=D(5), volatility_period=2)
    vol = VolatilityFilter()
    for i in range(3):
        vol.on_bar(bar(100, high=110, low=90, i=i), limits)
    assert not vol.check("KRW-BTC", limits).ok
    off = limits.replace(volatility_halt_pct=D(0))
    assert vol.check("KRW-BTC", off).ok
    vol.on_bar(bar(100, high=110, low=90, i=3), off)
    assert vol.halted == set()


def test_realized_volatility_measure() -> None:
    limits = RiskLimits(
        volatility_measure="realized", volatility_period=2, volatility_halt_pct=D(5)
    )
    vol = VolatilityFilter()
    for i, close in enumerate(("100", "110", "99")):
        vol.on_bar(bar(close, i=i), limits)
    assert vol.level("KRW-BTC") == D(10)
    assert vol.check("KRW-BTC", limits) == Denied(
        "volatility",
        "KRW-BTC volatility (realized 2) is 10%, above the 5% halt level: no new entries until"
        " it falls below 4%",
    )


def test_daily_loss_halts_for_the_rest_of_the_seoul_day() -> None:
    limits = RiskLimits(daily_loss_limit_krw=D(50000))
    sink = Recorder()
    loss = DailyLossBreaker(sink)
    loss.observe(seoul(20, 8), D(-30000), limits)
    assert loss.check(seoul(20, 8), limits) == Approved()
    loss.observe(seoul(20, 8, 30), D(-50000), limits)  # reaching the limit trips
    denied = Denied(
        "daily_loss",
        "daily loss 50,000 KRW reached the 50,000 KRW limit: no new entries until"
        " 2025-06-21 00:00 Asia/Seoul",
    )
    assert loss.check(seoul(20, 8, 30), limits) == denied
    loss.observe(seoul(20, 9, 30), D(-10000), limits)  # recovered, and past UTC midnight
    assert loss.check(seoul(20, 23, 59), limits) == denied
    assert loss.check(seoul(21, 0, 0), limits) == Approved()  # a new Seoul day
    assert [(e.active, e.reason) for e in sink.of(HaltChanged)] == [
        (True, denied.reason),
        (False, "new trading day 2025-06-21: the daily_loss halt is lifted"),
    ]


def test_daily_loss_limit_zero_is_off_and_reset_lifts() -> None:
    off = RiskLimits(daily_loss_limit_krw=D(0))
    loss = DailyLossBreaker()
    loss.observe(seoul(20, 10), D(-10_000_000), off)
    assert loss.check(seoul(20, 10), off).ok
    on = RiskLimits()
    loss.observe(seoul(20, 11), D(-60000), on)
    assert not loss.check(seoul(20, 11), on).ok
    loss.reset(seoul(20, 12))
    assert loss.check(seoul(20, 12), on).ok
    loss.observe(seoul(20, 13), D(-70000), on)  # waived for the rest of the day
    assert loss.check(seoul(20, 13), on).ok
    loss.observe(seoul(21, 9), D(-70000), on)
    assert not loss.check(seoul(21, 9), on).ok


def test_drawdown_from_peak() -> None:
    limits = RiskLimits(max_drawdown_pct=D(20))
    sink = Recorder()
    dd = DrawdownBreaker(sink)
    dd.observe(seoul(20, 10), D(1_000_000), limits)
    dd.observe(seoul(20, 11), D(800_000), limits)  # exactly 20%: not more than the limit
    assert dd.check(seoul(20, 11), limits) == Approved()
    dd.observe(seoul(20, 12), D(790_000), limits)
    denied = Denied(
        "drawdown",
        "equity 790,000 KRW is 21% below its peak of 1,000,000 KRW, more than the 20% limit:"
        " no new entries until 2025-06-21 00:00 Asia/Seoul",
    )
    assert dd.check(seoul(20, 13), limits) == denied
    dd.observe(seoul(21, 9), D(790_000), limits)  # still deep in drawdown the next day
    assert not dd.check(seoul(21, 9), limits).ok
    dd.reset_peak(seoul(21, 10), D(790_000))
    assert dd.check(seoul(21, 10), limits) == Approved()
    dd.observe(seoul(21, 11), D(700_000), limits)  # 11.4% from the new peak
    assert dd.check(seoul(21, 11), limits).ok
    assert [e.active for e in sink.of(HaltChanged)] == [True, False, True, False]


def test_drawdown_peak_is_restored_after_restart() -> None:
    dd = DrawdownBreaker(peak=D(2_000_000))
    dd.observe(seoul(20, 10), D(1_500_000), RiskLimits())
    assert dd.drawdown_pct == D(25)
    assert not dd.check(seoul(20, 10), RiskLimits()).ok


def test_late_or_repeated_candles_do_not_disturb_volatility() -> None:
    limits = RiskLimits(volatility_period=2)
    vol = VolatilityFilter()
    vol.on_bar(bar(100, high=101, low=99, i=0), limits)
    vol.on_bar(bar(100, high=101, low=99, i=1), limits)
    assert vol.on_bar(bar(100, high=150, low=50, i=1), limits) == D(51)  # corrected copy wins
    assert vol.on_bar(bar(100, high=200, low=10, i=0), limits) == D(51)  # older: ignored


def test_a_late_observation_never_reopens_a_finished_day() -> None:
    limits = RiskLimits()
    loss = DailyLossBreaker()
    loss.observe(seoul(21, 1), D(-60000), limits)
    loss.observe(seoul(20, 23), D(0), limits)  # delayed mark from yesterday
    assert not loss.check(seoul(21, 2), limits).ok
