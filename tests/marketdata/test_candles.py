"""CandleBuilder: buckets, flat bars over quiet intervals, late trades, ticks, seed and merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tests.marketdata.conftest import BTC, tp
from trading.domain import Bar
from trading.marketdata.bars import check_series, fill_holes, flat_bar
from trading.marketdata.candles import CandleBuilder
from trading.timeframes import timeframe_seconds

DAY = datetime(2026, 3, 2, tzinfo=UTC)
US = timedelta(microseconds=1)


def bar(start: datetime, close: str, tf: str = "1m", volume: str = "1") -> Bar:
    c = D(close)
    return Bar(BTC, tf, start, c, c, c, c, D(volume), 1)


@pytest.mark.parametrize("tf", ["1s", "5s", "1m", "15m", "1h", "4h", "1d"])
def test_one_bucket_per_interval_with_exact_boundaries(tf: str) -> None:
    step = timedelta(seconds=timeframe_seconds(tf))
    t0 = DAY + step * 3  # aligned to UTC midnight
    closed: list[Bar] = []
    b = CandleBuilder(BTC, tf, on_close=closed.append)
    assert b.add(tp(100, t0)) == []
    assert b.add(tp(120, t0 + step / 3, "2")) == []
    assert b.add(tp(90, t0 + step / 2, "0.5")) == []
    assert b.add(tp(110, t0 + step - US)) == []  # last instant still belongs to the bucket
    out = b.add(tp(111, t0 + step))  # the first instant of the next one closes it
    expected = Bar(BTC, tf, t0, D(100), D(120), D(90), D(110), D("4.5"), 4)
    assert out == [expected]
    assert closed == [expected]
    assert b.history() == [expected]
    assert expected.end == t0 + step
    assert b.open_bar is not None
    assert b.open_bar.start == t0 + step
    assert b.last_trade_at == t0 + step


def test_day_bars_start_at_utc_midnight() -> None:
    b = CandleBuilder(BTC, "1d")
    b.add(tp(1, DAY + timedelta(hours=23, minutes=59)))
    (closed,) = b.add(tp(2, DAY + timedelta(days=1, seconds=1)))
    assert closed.start == DAY
    assert closed.start.tzinfo is not None


def test_quiet_intervals_become_flat_bars_in_order() -> None:
    closed: list[Bar] = []
    b = CandleBuilder(BTC, "1m", on_close=closed.append)
    b.add(tp(100, DAY))
    b.add(tp(105, DAY + timedelta(seconds=30)))
    out = b.add(tp(200, DAY + timedelta(minutes=3, seconds=5)))
    assert [x.start for x in out] == [DAY + timedelta(minutes=i) for i in range(3)]
    assert out == closed
    for flat in out[1:]:
        assert (flat.open, flat.high, flat.low, flat.close) == (D(105),) * 4
        assert flat.volume == 0
        assert flat.trades == 0
    check_series(b.history(), BTC, "1m")


def test_late_trades_are_counted_and_never_reopen_a_bar() -> None:
    b = CandleBuilder(BTC, "1m")
    b.add(tp(100, DAY))
    b.add(tp(101, DAY + timedelta(minutes=1)))
    before = b.history()
    assert b.add(tp(999, DAY + timedelta(seconds=59))) == []
    assert b.late_trades == 1
    assert b.history() == before
    assert b.open_bar is not None
    assert b.open_bar.high == D(101)
    # with no open bar, anything before the end of the last closed bar is late too
    b.tick(DAY + timedelta(minutes=5))
    assert b.open_bar is None
    b.add(tp(5, DAY + timedelta(minutes=3, seconds=10)))
    assert b.late_trades == 2
    assert b.last_trade_at == DAY + timedelta(minutes=1)


def test_tick_closes_after_grace_and_fills_quiet_intervals_on_time() -> None:
    b = CandleBuilder(BTC, "1m", grace=timedelta(seconds=2))
    b.add(tp(100, DAY + timedelta(seconds=10)))
    assert b.tick(DAY + timedelta(seconds=61)) == []  # over, but within grace
    (first,) = b.tick(DAY + timedelta(seconds=62))
    assert first.close == D(100)
    assert b.tick(DAY + timedelta(seconds=121)) == []
    (flat,) = b.tick(DAY + timedelta(seconds=122))
    assert flat == flat_bar(first, DAY + timedelta(minutes=1))
    later = b.tick(DAY + timedelta(minutes=5, seconds=3))
    assert [x.start.minute for x in later] == [2, 3, 4]
    # a trade in the current interval continues seamlessly
    b.add(tp(130, DAY + timedelta(minutes=5, seconds=4)))
    (live,) = b.tick(DAY + timedelta(minutes=6, seconds=2))
    assert live.start == DAY + timedelta(minutes=5)
    check_series(b.history(), BTC, "1m")
    assert len(b.history()) == 6


def test_tick_before_any_trade_emits_nothing() -> None:
    b = CandleBuilder(BTC, "1s")
    assert b.tick(DAY + timedelta(days=3)) == []
    assert b.history() == []


def test_history_is_bounded_and_a_long_outage_stays_bounded() -> None:
    closed: list[Bar] = []
    b = CandleBuilder(BTC, "1s", history=50, on_close=closed.append)
    b.add(tp(1, DAY))
    b.add(tp(2, DAY + timedelta(days=20)))  # 1.7 million empty seconds
    assert len(closed) == 51  # the real bar, then only as many flats as the history holds
    hist = b.history()
    assert len(hist) == 50
    assert hist[-1].end == DAY + timedelta(days=20)
    check_series(hist, BTC, "1s")
    assert fill_holes(hist) == hist
    assert b.history(3) == hist[-3:]


def test_seed_validates_and_joins_without_holes() -> None:
    b = CandleBuilder(BTC, "1m")
    with pytest.raises(ValueError, match="unsorted"):
        b.seed([bar(DAY + timedelta(minutes=1), "1"), bar(DAY, "1")])
    with pytest.raises(ValueError, match="expected KRW-BTC/1m"):
        b.seed([bar(DAY, "1", tf="5m")])
    with pytest.raises(ValueError, match="not aligned"):
        b.seed([bar(DAY + timedelta(seconds=5), "1")])
    b.seed([bar(DAY + timedelta(minutes=10), "10"), bar(DAY + timedelta(minutes=12), "12")])
    assert [x.close for x in b.history()] == [D(10), D(10), D(12)]  # hole filled flat
    with pytest.raises(ValueError, match="overlap"):
        b.seed([bar(DAY + timedelta(minutes=11), "11")])
    b.seed([bar(DAY + timedelta(minutes=7), "7")])  # before: joined by flats
    b.seed([bar(DAY + timedelta(minutes=14), "14")])  # after
    hist = b.history()
    check_series(hist, BTC, "1m")
    assert [x.start.minute for x in hist] == list(range(7, 15))
    assert b.add(tp(15, DAY + timedelta(minutes=16))) == [flat_bar(hist[-1], hist[-1].end)]


def test_seed_refuses_bars_past_the_open_bar() -> None:
    b = CandleBuilder(BTC, "1m")
    b.add(tp(1, DAY + timedelta(minutes=5)))
    with pytest.raises(ValueError, match="past the open bar"):
        b.seed([bar(DAY + timedelta(minutes=5), "1")])
    b.seed([bar(DAY + timedelta(minutes=2), "2")])
    closed = b.add(tp(9, DAY + timedelta(minutes=6)))
    assert [x.start.minute for x in closed] == [3, 4, 5]  # flats join the seed to the live bar
    assert closed[-1].close == D(1)


def test_merge_replaces_the_window_and_refills_flats_from_truth() -> None:
    b = CandleBuilder(BTC, "1m")
    b.seed([bar(DAY + timedelta(minutes=i), str(100 + i)) for i in range(3)])
    b.tick(DAY + timedelta(minutes=8))  # outage: five flats at 102
    assert [x.close for x in b.history()][-5:] == [D(102)] * 5
    truth = [bar(DAY + timedelta(minutes=4), "140", volume="3")]
    changed = b.merge(truth, DAY + timedelta(minutes=3), DAY + timedelta(minutes=8))
    closes = [x.close for x in b.history()]
    assert closes == [D(100), D(101), D(102), D(102), D(140), D(140), D(140), D(140)]
    assert [x.start.minute for x in changed] == [4, 5, 6, 7]
    check_series(b.history(), BTC, "1m")
    assert b.merge([], DAY, DAY + timedelta(minutes=8)) == []  # empty answer: keep what we have
