"""The exit rules of issue #13 on one position: the fixed initial stop (ATR or percentage,
the higher wins), freqtrade's trailing (offset, positive distance, only once reached), the
ROI table, the holding time and the exit-signal switches."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tests.risk.helpers import T0, bar
from trading.domain.rules import Rounding
from trading.risk.settings import RiskSettings
from trading.risk.stops import Trail, TrailingStop, exits_on, signal_counts, stop_on, trail_of
from trading.settings import show
from trading.upbit.market_rules import UpbitMarketRules

D = Decimal
RULES = UpbitMarketRules()
ENTRY = D(100_000_000)  # tick 1,000


def position(**kw: object) -> TrailingStop:
    args: dict[str, object] = {
        "market": "KRW-BTC",
        "entry_price": ENTRY,
        "atr": D(500_000),
        "atr_mult": D(2),
        "rules": RULES,
        "fallback_pct": D(2),
        "min_distance_pct": D("0.2"),
        "at": T0,
        "entered_at": T0,
        "since": T0,
    }
    args.update(kw)
    return TrailingStop.open(**args)  # type: ignore[arg-type]


def test_the_initial_stop_is_fixed_at_the_entry_without_trailing() -> None:
    stop = position()
    assert stop.stop == D(99_000_000)  # 2 x 500,000 below the entry
    for i, close in enumerate((101_000_000, 105_000_000, 110_000_000)):
        assert stop.update(bar(close, i=i + 1), D(100_000)) == D(99_000_000)
    hit = stop.should_exit(D(99_000_000), T0)
    assert hit is not None
    assert hit.kind == "stop"


def test_percentage_and_atr_stop_the_higher_wins() -> None:
    assert position(stop_loss_pct=D("0.5")).stop == D(99_500_000)  # 0.5 % above 2 ATR
    assert position(stop_loss_pct=D(3)).stop == D(99_000_000)  # 2 ATR is higher
    assert position(atr_mult=D(0), stop_loss_pct=D(3)).stop == D(97_000_000)
    assert position(atr_mult=D(0)).stop is None


def test_the_minimum_distance_keeps_a_tight_stop_away_from_the_entry() -> None:
    stop = position(atr=D(10_000), min_distance_pct=D(1))  # 2 ATR = 0.02 %
    assert stop.stop == D(99_000_000)


def test_the_fallback_gives_way_to_the_atr_stop_once_from_the_entry() -> None:
    stop = position(atr=None)
    assert stop.stop == D(98_000_000)
    assert stop.update(bar(103_000_000, i=1), D(400_000)) == D(99_200_000)  # from the entry
    assert stop.update(bar(104_000_000, i=2), D(100_000)) == D(99_200_000)  # fixed then


def test_trailing_at_the_initial_distance_and_its_exit_is_trailing() -> None:
    stop = position(trail=Trail())
    assert stop.update(bar(101_000_000, i=1), D(500_000)) == D(100_000_000)
    assert stop.trailed
    hit = stop.should_exit(D(99_990_000), T0)
    assert hit is not None
    assert hit.kind == "trailing"
    assert "trailing stop" in hit.text


def test_a_stop_not_yet_raised_by_the_trail_exits_as_stop() -> None:
    stop = position(trail=Trail())
    stop.update(bar(99_500_000, i=1), D(500_000))
    hit = stop.should_exit(D(98_000_000), T0)
    assert hit is not None
    assert hit.kind == "stop"


def test_trailing_positive_after_the_offset() -> None:
    trail = Trail(positive_pct=D(1), offset_pct=D(2))
    stop = position(trail=trail)
    # below the offset: the initial distance (2 ATR) trails the highest close
    assert stop.update(bar(101_500_000, i=1), D(500_000)) == D(100_500_000)
    # over the offset: 1 % under the highest close
    assert stop.update(bar(102_500_000, i=2), D(500_000)) == D(101_475_000)
    assert stop.update(bar(104_000_000, i=3), D(500_000)) == D(102_960_000)


def test_trailing_only_once_the_offset_is_reached() -> None:
    stop = position(trail=Trail(positive_pct=D(1), offset_pct=D(2), only_offset=True))
    assert stop.update(bar(101_900_000, i=1), D(500_000)) == D(99_000_000)  # untouched
    assert not stop.trailed
    assert stop.update(bar(102_000_001, i=2), D(500_000)) == D(100_980_000)
    assert stop.trailed


def test_trailing_offset_exactly_reached_is_not_over_it() -> None:
    stop = position(trail=Trail(positive_pct=D(1), offset_pct=D(2), only_offset=True))
    assert stop.update(bar(102_000_000, i=1), D(500_000)) == D(99_000_000)


def test_roi_table_steps_down_with_time() -> None:
    roi = ((0, D(3)), (30, D(1)), (60, D(0)))
    stop = position(roi=roi)
    assert stop.should_exit(D(102_000_000), T0 + timedelta(minutes=29)) is None
    hit = stop.should_exit(D(102_000_000), T0 + timedelta(minutes=30))
    assert hit is not None
    assert (hit.kind, hit.price) == ("roi", D(102_000_000))  # a print: its own price
    assert stop.roi_target(T0 + timedelta(minutes=30)) == (D(101_000_000), 30)
    assert stop.should_exit(D(103_000_000), T0) is not None
    assert stop.should_exit(D(100_000_000), T0 + timedelta(minutes=60)) is not None


def test_roi_rows_that_start_later_leave_the_first_minutes_free() -> None:
    stop = position(roi=((10, D(1)),))
    assert stop.should_exit(D(110_000_000), T0 + timedelta(minutes=9)) is None
    assert stop.should_exit(D(110_000_000), T0 + timedelta(minutes=10)) is not None


def test_a_whole_candle_is_held_to_the_roi_target_at_its_start() -> None:
    stop = position(roi=((0, D(3)), (1, D(1))))
    candle = bar(100_500_000, high=102_000_000, start=T0)  # 0..1 min: 3 % in force
    assert stop.should_exit(candle) is None


def test_max_holding_time() -> None:
    stop = position(max_holding_minutes=15)
    assert stop.time_up(T0 + timedelta(minutes=14, seconds=59), ENTRY) is None
    hit = stop.should_exit(D(100_100_000), T0 + timedelta(minutes=15))
    assert hit is not None
    assert hit.kind == "time"
    # a stop at the same print wins
    assert stop.should_exit(D(98_000_000), T0 + timedelta(minutes=15)).kind == "stop"  # type: ignore[union-attr]
    assert stop.time_up(bar(ENTRY, i=14).end, ENTRY) is not None


def test_exit_signal_switches() -> None:
    on = RiskSettings(exit_profit_only=False)
    assert signal_counts(on, ENTRY, D(90_000_000))
    assert not signal_counts(RiskSettings(), ENTRY, D(90_000_000))  # exit_profit_only by default
    assert not signal_counts(RiskSettings(use_exit_signal=False), ENTRY, D(200_000_000))
    only = RiskSettings(exit_profit_only=True, exit_profit_offset_pct=D("0.5"))
    assert not signal_counts(only, ENTRY, D(100_500_000))  # not above the offset
    assert signal_counts(only, ENTRY, D(100_500_001))


def test_which_rules_are_on() -> None:
    assert stop_on(RiskSettings())  # an ATR stop by default
    assert exits_on(RiskSettings(atr_stop_mult=D(0)))  # take-profit and time exit by default
    off: dict[str, Any] = {
        "atr_stop_mult": D(0),
        "take_profit_pct": D(0),
        "max_holding_minutes": 0,
    }
    assert not exits_on(RiskSettings(**off))
    assert exits_on(RiskSettings(**off | {"max_holding_minutes": 5}))
    assert exits_on(RiskSettings(**off | {"minimal_roi": ((0, D(1)),)}))
    assert exits_on(RiskSettings(**off | {"take_profit_pct": D(1)}))
    assert trail_of(RiskSettings()) is None
    assert trail_of(RiskSettings(trailing_stop=True, trailing_stop_positive_pct=D(1))) == Trail(
        positive_pct=D(1)
    )


@pytest.mark.parametrize(
    "table",
    ["0:1,30:2", "30:1,0:0.5", "0:-1", "0:1,x", "0:1001", "600000:1"],
)
def test_bad_roi_tables_are_refused(table: str) -> None:
    with pytest.raises(ValidationError):
        RiskSettings(minimal_roi=table)  # type: ignore[arg-type]


def test_roi_table_text_round_trips() -> None:
    settings = RiskSettings(minimal_roi="0:3, 60:1.5 240:0")  # type: ignore[arg-type]
    assert settings.minimal_roi == ((0, D(3)), (60, D("1.5")), (240, D(0)))
    assert show(settings.minimal_roi) == "0:3,60:1.5,240:0"
    assert RiskSettings(minimal_roi=show(settings.minimal_roi)) == settings  # type: ignore[arg-type]
    assert RiskSettings(minimal_roi="none").minimal_roi == ()  # type: ignore[arg-type]
    assert show(()) == "none"


def test_trailing_offset_below_positive_is_refused() -> None:
    with pytest.raises(ValidationError, match="rule_trailing_offset"):
        RiskSettings(trailing_stop_positive_pct=D(2), trailing_stop_positive_offset_pct=D(1))
    RiskSettings(trailing_stop_positive_pct=D(2))  # offset 0: as soon as in profit


@pytest.mark.parametrize("market", ["KRW-BTC", "BTC-ETH", "USDT-BTC"])
def test_the_stops_own_rounding_is_the_market_rules(market: str) -> None:
    """``_round_down`` skips the tick look-up inside the band it knows: same prices."""
    import random

    rng = random.Random(3)
    for _ in range(2000):
        ref = D(str(round(rng.uniform(0.00001, 3_000_000), rng.choice([0, 2, 5, 8]))))
        if ref <= 0:
            continue
        stop = TrailingStop(
            market=market,
            entry_price=ref,
            atr_mult=D(0),
            rules=RULES,
            stop=None,
            highest_close=ref,
            min_distance_pct=D("0.2"),
        )
        stop.ceiling(ref)  # looks the band up, as _raise_to does first
        price = ref * D(str(rng.uniform(0.5, 1)))
        if price > 0:
            assert stop._round_down(price) == RULES.round_price(market, price, Rounding.DOWN)
