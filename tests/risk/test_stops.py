"""ATR trailing stop (``trailing_stop`` on; the fixed stop and the other exits are in
test_exits.py): placement, the fallback before the ATR, the minimum distance, trailing,
never loosening, tick grid, take-profit, exits, which candles it may judge whole."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.risk.helpers import T0, Recorder, bar
from trading.domain.rules import Rounding
from trading.events import StopMoved
from trading.risk.stops import ExitReason, Trail, TrailingStop
from trading.upbit.market_rules import UpbitMarketRules

D = Decimal
RULES = UpbitMarketRules()
GAP = D("0.2")  # the default minimum distance, percent


def btc_stop(sink: Recorder | None = None, tp: str = "0") -> TrailingStop:
    return TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market="KRW-BTC",
        entry_price=D(95_000_000),
        atr=D(1_234_567),
        atr_mult=D(2),
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=GAP,
        take_profit_pct=D(tp),
        at=T0,
        sink=sink or Recorder(),
    )


def test_initial_stop_is_entry_minus_mult_atr_rounded_down() -> None:
    sink = Recorder()
    stop = btc_stop(sink)
    assert stop.stop == D(92_530_000)  # 92,530,866 -> tick 1,000, down
    assert stop.take_profit is None
    assert sink.of(StopMoved) == [StopMoved(market="KRW-BTC", old=None, new=D(92_530_000), at=T0)]


def test_trails_the_highest_close_and_never_loosens() -> None:
    sink = Recorder()
    stop = btc_stop(sink)
    assert stop.update(bar(97_000_000), D(1_000_000)) == D(95_000_000)
    assert stop.update(bar(96_000_000, i=1), D(1_000_000)) == D(95_000_000)  # lower close
    assert stop.update(bar(97_500_000, i=2), D(2_000_000)) == D(95_000_000)  # wider ATR
    assert stop.update(bar(98_000_000, i=3), D(500_000)) == D(97_000_000)
    moves = [(e.old, e.new) for e in sink.of(StopMoved)]
    assert moves == [
        (None, D(92_530_000)),
        (D(92_530_000), D(95_000_000)),
        (D(95_000_000), D(97_000_000)),
    ]
    assert sink.of(StopMoved)[-1].at == bar(0, i=3).end


def test_stop_exit_intrabar_and_on_a_gap() -> None:
    stop = btc_stop()
    assert stop.should_exit(bar(93_000_000, low=92_600_000)) is None
    hit = stop.should_exit(bar(93_000_000, open_=93_500_000, low=92_530_000))
    assert hit == ExitReason(
        "stop",
        D(92_530_000),
        "KRW-BTC fell to 92,530,000 KRW, at or below the stop 92,530,000 KRW",
    )
    gap = stop.should_exit(bar(91_000_000, open_=91_500_000, low=90_000_000))
    assert gap is not None
    assert gap.price == D(91_500_000)  # opened below the stop: fills at the open
    assert stop.should_exit(D(92_000_000)) is not None
    assert stop.should_exit(D(93_000_000)) is None


def test_take_profit_rounds_up_and_triggers_on_the_high() -> None:
    stop = TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market="KRW-XRP",
        entry_price=D(3127),
        atr=D(50),
        atr_mult=D(2),
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=GAP,
        take_profit_pct=D("2.5"),
        at=T0,
    )
    assert stop.take_profit == D(3206)  # 3,205.175 -> tick 1, up
    assert stop.stop == D(3027)
    assert stop.should_exit(bar(3200, high=3205, market="KRW-XRP")) is None
    tp = stop.should_exit(bar(3200, high=3210, market="KRW-XRP"))
    assert tp == ExitReason(
        "take_profit",
        D(3206),
        "KRW-XRP reached 3,210 KRW, at or above the take-profit 3,206 KRW",
    )
    both = stop.should_exit(bar(3100, high=3300, low=3000, market="KRW-XRP"))
    assert both is not None
    assert both.kind == "stop"  # unknown intrabar order: assume the worse


def test_atr_wider_than_price_has_no_stop_until_it_can() -> None:
    stop = TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market="KRW-DOGE",
        entry_price=D(200),
        atr=D(150),
        atr_mult=D(2),
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=GAP,
        at=T0,
    )
    assert stop.stop is None
    assert stop.should_exit(D(1)) is None
    assert stop.update(bar(300, market="KRW-DOGE"), D(100)) == D(100)


prices = st.integers(min_value=1, max_value=3_000_000_000).map(lambda n: D(n) / 10)


@settings(max_examples=150, deadline=None)
@given(
    entry=prices,
    path=st.lists(
        st.tuples(st.integers(min_value=20, max_value=300), st.integers(0, 40)),
        min_size=1,
        max_size=40,
    ),
    mult=st.sampled_from([D("0.5"), D(1), D("2.5"), D(3)]),
    gap=st.sampled_from([D("0.05"), GAP, D(3)]),
)
def test_any_path_gives_non_decreasing_on_grid_stops(
    entry: Decimal, path: list[tuple[int, int]], mult: Decimal, gap: Decimal
) -> None:
    sink = Recorder()
    stop = TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market="KRW-BTC",
        entry_price=entry,
        atr=entry / 20,
        atr_mult=mult,
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=gap,
        at=T0,
        sink=sink,
    )
    seen = [stop.stop]
    for i, (close_pct, atr_pct) in enumerate(path):
        close = entry * close_pct / 100
        seen.append(stop.update(bar(close, i=i), close * atr_pct / 100))
        high = stop.highest_close  # the minimum distance holds after every move
        assert seen[-1] is None or seen[-1] <= high * (1 - gap / 100)
        assert seen[-1] is None or seen[-1] <= high - RULES.tick_size("KRW-BTC", high)
    placed = [s for s in seen if s is not None]
    assert placed == seen  # an ATR of 5% of the entry always leaves room for a stop
    assert placed == sorted(placed)
    assert all(RULES.is_on_grid("KRW-BTC", s) for s in placed)
    assert all(s <= stop.highest_close for s in placed)
    moves = sink.of(StopMoved)
    assert [m.new for m in moves] == sorted({*placed})
    assert all(m.old is None or m.new > m.old for m in moves)


def opened(
    entry: str | int, *, atr: str | int | None, market: str = "KRW-BTC", gap: Decimal = GAP
) -> TrailingStop:
    return TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market=market,
        entry_price=D(entry),
        atr=None if atr is None else D(atr),
        atr_mult=D(3),
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=gap,
        at=T0,
    )


def test_a_flat_market_keeps_the_stop_the_minimum_distance_under_the_highest_close() -> None:
    stop = opened(100_050_000, atr=0)
    assert stop.stop == D(99_849_000)  # 0.2 % under the entry, down to the tick
    assert stop.update(bar(100_050_000), D(0)) == D(99_849_000)
    assert stop.should_exit(D(100_000_000)) is None  # under the entry, no loss to cut yet
    assert stop.update(bar(101_000_000, i=1), D(0)) == D(100_798_000)  # trails the close


@pytest.mark.parametrize(
    ("market", "ref", "expected"),
    [
        ("KRW-BTC", "50000000", "49975000"),  # 0.05 % (25,000) is wider than a tick (1,000)
        ("KRW-BTC", "1000000", "999000"),  # the lowest price of the 1,000 band: one tick
        ("KRW-BTC", "999500", "999000"),  # the top of the 500 band
        ("KRW-BTC", "100000", "99900"),  # 100 band: a tick of 100, not 0.05 % (50)
        ("KRW-XRP", "5000", "4995"),  # 5 band
        ("KRW-XRP", "1000", "999"),  # 1 band: a tick of 1, not 0.05 % (0.5)
        ("KRW-XRP", "100", "99"),  # the lowest price of the 1 band
        ("KRW-XRP", "99.9", "99.8"),  # 0.1 band
        ("KRW-XRP", "10", "9.9"),
        ("KRW-XRP", "9.99", "9.98"),  # 0.01 band
        ("USDT-BTC", "10", "9.99"),  # USDT table: 0.01 from 10 up
        ("USDT-BTC", "1", "0.999"),  # the lowest price of the 0.001 band
    ],
)
def test_the_stop_is_at_least_one_tick_of_the_band_under_the_price_it_trails(
    market: str, ref: str, expected: str
) -> None:
    stop = opened(ref, atr=0, market=market, gap=D("0.05"))
    assert stop.stop == D(expected)
    assert D(ref) - stop.stop >= RULES.tick_size(market, D(ref))
    assert RULES.is_on_grid(market, stop.stop)


def test_before_the_atr_the_fallback_then_the_atr_stop_from_the_highest_close() -> None:
    stop = opened(100_000_000, atr=None)
    assert stop.stop == D(98_000_000)  # the fallback, 2 % under the entry
    assert stop.update(bar(102_000_000), None) == D(98_000_000)  # no ATR yet: it stands
    assert stop.update(bar(101_000_000, i=1), None) == D(98_000_000)
    assert stop.highest_close == D(102_000_000)
    # the ATR arrives: highest close since the entry - 3 x ATR
    assert stop.update(bar(101_500_000, i=2), D(500_000)) == D(100_500_000)


def test_the_atr_stop_never_goes_under_the_fallback() -> None:
    stop = opened(100_000_000, atr=None)
    assert stop.update(bar(100_000_000), D(1_000_000)) == D(98_000_000)  # 97,000,000: lower


def test_the_minimum_distance_also_caps_the_fallback() -> None:
    stop = opened(100_000_000, atr=None, gap=D(5))
    assert stop.stop == D(95_000_000)


def test_a_stop_opened_late_trails_from_the_highest_close_since_the_entry() -> None:
    stop = TrailingStop.open(
        trail=Trail(),  # these tests are about the trail
        market="KRW-BTC",
        entry_price=D(100_000_000),
        atr=D(500_000),
        atr_mult=D(2),
        rules=RULES,
        fallback_pct=D(2),
        min_distance_pct=GAP,
        highest_close=D(103_000_000),
    )
    assert stop.stop == D(102_000_000)
    assert stop.highest_close == D(103_000_000)


def test_only_a_candle_watched_from_its_start_is_judged_whole() -> None:
    candle = bar(100_000_000, low=90_000_000)
    assert opened(100_000_000, atr=100_000).covers(candle)  # since unknown: always watched
    for since, whole in (
        (T0 - timedelta(seconds=1), True),
        (T0, False),
        (T0 + timedelta(1), False),
    ):
        stop = opened(100_000_000, atr=100_000)
        stop.since = since
        assert stop.covers(candle) is whole


def test_round_price_and_the_fallback_agree() -> None:
    entry = D("3127.4")
    stop = opened(entry, atr=None, market="KRW-XRP")  # type: ignore[arg-type]
    assert stop.stop == RULES.round_price("KRW-XRP", entry * D("0.98"), Rounding.DOWN)


@settings(max_examples=300, deadline=None)
@given(
    entry=prices,
    pcts=st.lists(st.integers(0, 2_000).map(lambda n: D(n) / 100), min_size=1, max_size=4),
    market=st.sampled_from(["KRW-BTC", "BTC-ETH", "USDT-BTC", "KRW-X"]),
)
def test_the_targets_round_up_as_the_market_rules_do(
    entry: Decimal, pcts: list[Decimal], market: str
) -> None:
    """Issue #13 (speed): take-profit and ROI targets round up in the band the stop keeps
    (no new look-up), to the very price ``UpbitMarketRules.round_price(UP)`` gives, across band
    edges and with a market's own band ticks."""
    rules = UpbitMarketRules(band_ticks={"KRW-X": {D(1_000): D(5), D(100_000): D(100)}})
    roi = tuple((i * 10, pct) for i, pct in enumerate(pcts))
    stop = TrailingStop.open(
        market=market,
        entry_price=entry,
        atr=None,
        atr_mult=D(0),
        rules=rules,
        fallback_pct=D(2),
        min_distance_pct=GAP,
        take_profit_pct=pcts[0],
        stop_loss_pct=D(1),
        roi=roi,
    )
    expected = [rules.round_price(market, entry * (1 + p / 100), Rounding.UP) for p in pcts]
    assert [target for _, target in stop.roi] == expected
    assert stop.take_profit == (expected[0] if pcts[0] > 0 else None)
    for got, want in zip(stop.roi, expected, strict=True):
        assert str(got[1]) == str(want)  # the same exponent too
