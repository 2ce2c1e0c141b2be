"""``plan_exit``: what an exit sells, given the exchange's minimum order total (issue #11.2)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from trading.engine.exits import plan_exit
from trading.positions import Position, PositionState
from trading.upbit.market_rules import UpbitMarketRules

MIN = D(5000)
STEP = UpbitMarketRules().volume_step
PRICE = D(100_000_000)  # KRW per BTC: 0.00005 BTC is 5,000 KRW


def long(volume: str, dust: str = "0") -> Position:
    return Position("KRW-BTC", PositionState.LONG, volume=D(volume), dust=D(dust))


def test_a_whole_exit_sells_the_position_and_the_dust():
    plan = plan_exit(long("0.01", "0.00002"), None, PRICE, MIN, STEP)
    assert (plan.volume, plan.dust, plan.whole, plan.grown, plan.blocked) == (
        D("0.01002"),
        D("0.00002"),
        True,
        False,
        None,
    )
    assert plan.value == D(1_002_000)


def test_a_part_that_would_leave_less_than_the_minimum_sells_everything():
    """The defect: ``/sell 99.97%`` of 0.09 BTC leaves 0.000027 BTC = 2,700 KRW, unsellable."""
    plan = plan_exit(long("0.09"), D("0.09") * D("0.9997"), PRICE, MIN, STEP)
    assert (plan.volume, plan.whole, plan.grown, plan.blocked) == (D("0.09"), True, True, None)
    assert plan.rest == D("0.000027")
    assert plan.rest_value == D(2700)


def test_a_part_leaving_enough_sells_only_that_part_and_keeps_the_dust():
    plan = plan_exit(long("0.01", "0.00002"), D("0.005"), PRICE, MIN, STEP)
    assert (plan.volume, plan.dust, plan.whole, plan.grown) == (D("0.005"), 0, False, False)


def test_a_part_below_the_minimum_is_blocked_unless_the_dust_makes_it_sellable():
    small = plan_exit(long("0.01"), D("0.00003"), PRICE, MIN, STEP)  # 3,000 KRW
    assert (small.volume, small.blocked, small.value) == (0, "below_min", D(3000))
    helped = plan_exit(long("0.01", "0.00003"), D("0.00003"), PRICE, MIN, STEP)  # 3,000 + 3,000
    assert (helped.volume, helped.dust, helped.blocked) == (D("0.00006"), D("0.00003"), None)


def test_a_holding_worth_less_than_the_minimum_is_dust_and_nothing_is_sent():
    plan = plan_exit(long("0.00002", "0.00001"), None, PRICE, MIN, STEP)  # 3,000 KRW in all
    assert (plan.volume, plan.blocked, plan.value) == (0, "dust", D(3000))
    partial = plan_exit(long("0.00004"), D("0.00001"), PRICE, MIN, STEP)  # grows to all: too small
    assert (partial.volume, partial.grown, partial.blocked) == (0, True, "dust")


def test_dust_joins_a_position_too_small_on_its_own():
    plan = plan_exit(long("0.00003", "0.00003"), None, PRICE, MIN, STEP)
    assert (plan.volume, plan.dust, plan.blocked) == (D("0.00006"), D("0.00003"), None)


def test_without_a_price_it_sells_what_was_asked():
    assert plan_exit(long("0.01", "0.00001"), None, None, MIN, STEP).volume == D("0.01001")
    part = plan_exit(long("0.01", "0.00001"), D("0.001"), None, MIN, STEP)
    assert (part.volume, part.dust, part.blocked) == (D("0.001"), 0, None)
    assert plan_exit(long("0.01"), D(0), PRICE, MIN, STEP).blocked == "nothing"


def test_volumes_are_cut_to_eight_decimals_and_never_above_the_position():
    plan = plan_exit(long("0.01"), D("0.004999999999"), PRICE, MIN, STEP)
    assert plan.volume == D("0.00499999")
    assert plan_exit(long("0.01"), D(5), PRICE, MIN, STEP).volume == D("0.01")


volumes = st.integers(1, 10**7).map(lambda i: D(i).scaleb(-8))


@given(volume=volumes, dust=st.integers(0, 10**4).map(lambda i: D(i).scaleb(-8)), part=volumes)
def test_what_is_sent_is_sellable_and_what_is_left_is_sellable_or_nothing(volume, dust, part):
    """No order below the minimum, never a stuck remainder of a position."""
    plan = plan_exit(long(str(volume), str(dust)), part, PRICE, MIN, STEP)
    assert plan.dust in (0, dust)
    if plan.volume:
        assert plan.volume * PRICE >= MIN
        left = volume + dust - plan.volume
        assert left >= 0
        if left and plan.volume - plan.dust < volume:  # part of the position stays
            assert left * PRICE >= MIN
    else:
        assert plan.blocked in ("dust", "below_min")
        assert (plan.blocked == "dust") == plan.whole
