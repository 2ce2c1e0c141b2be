"""Tick grid, rounding, minimum totals and the order parameter matrix."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.domain.rules import Rounding
from trading.errors import BelowMinTotal, InvalidOrder, InvalidPrice
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.models import Instrument
from trading.upbit.tick_check import check_instruments, common_tick

RULES = UpbitMarketRules()


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("150000000", "1000"),
        ("1000000", "1000"),
        ("999999", "500"),
        ("500000", "500"),
        ("120000", "100"),
        ("99999", "50"),
        ("50000", "50"),
        ("12345", "10"),
        ("7000", "5"),
        ("4999", "1"),
        ("150", "1"),
        ("55.5", "0.1"),
        ("5.5", "0.01"),
        ("0.55", "0.001"),
        ("0.0055", "0.00001"),
        ("0.000005", "0.00000001"),
    ],
)
def test_krw_tick_table(price, tick):
    assert RULES.tick_size("KRW-BTC", D(price)) == D(tick)


def test_btc_and_usdt_markets_have_their_own_grid():
    assert RULES.tick_size("BTC-ETH", D("0.05")) == D("0.00000001")
    assert RULES.tick_size("USDT-BTC", D("65000")) == D("0.01")
    assert RULES.tick_size("USDT-XRP", D("0.5")) == D("0.0001")


def test_a_band_exception_applies_inside_its_band_only():
    rules = UpbitMarketRules({"KRW-USDT": {D(1000): D("0.5")}})

    assert rules.tick_size("KRW-USDT", D("1400")) == D("0.5")
    assert rules.tick_size("KRW-USDT", D("999")) == D(1)  # the band below: the table
    assert rules.tick_size("KRW-USDT", D("5000")) == D(5)  # the band above: the table
    assert rules.tick_size("KRW-BTC", D("1400")) == D(1)  # other markets: the table


@pytest.mark.parametrize(
    ("table", "upbit", "common"),
    [("1", "0.5", "1"), ("1", "10", "10"), ("5", "2", "10"), ("0.1", "0.25", "0.5")],
)
def test_common_tick_is_on_both_grids(table, upbit, common):
    assert common_tick(D(table), D(upbit)) == D(common)


def test_instruments_that_agree_leave_the_table_and_drop_an_old_exception():
    old = UpbitMarketRules({"KRW-XRP": {D(1000): D(10)}})
    answer = [Instrument(market="KRW-XRP", quote_currency="KRW", tick_size=D(1))]

    rules, found = check_instruments(old, answer, {"KRW-XRP": D(1400)})

    assert (rules.band_ticks, found) == ({}, [])
    unpriced, found = check_instruments(old, answer, {})
    assert (unpriced, found) == (old, [])  # no price known: nothing to compare


@pytest.mark.parametrize(
    ("price", "rounding", "expected"),
    [
        ("145759321", Rounding.DOWN, "145759000"),
        ("145759321", Rounding.UP, "145760000"),
        ("145759500", Rounding.NEAREST, "145760000"),
        ("1000499", Rounding.DOWN, "1000000"),
        ("999999", Rounding.UP, "1000000"),
        ("12.34", Rounding.DOWN, "12.3"),
        ("12.31", Rounding.UP, "12.4"),
    ],
)
def test_round_price(price, rounding, expected):
    rounded = RULES.round_price("KRW-BTC", D(price), rounding)

    assert rounded == D(expected)
    assert RULES.is_on_grid("KRW-BTC", rounded)


def test_round_for_side_favours_the_trader():
    assert RULES.round_for_side("KRW-BTC", D("145759321"), "bid") == D("145759000")
    assert RULES.round_for_side("KRW-BTC", D("145759321"), "ask") == D("145760000")


def test_off_grid_limit_is_refused_before_sending():
    with pytest.raises(InvalidPrice, match="not a multiple of the KRW-BTC tick 1000") as info:
        RULES.check_order(
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("145759321"),
            volume=D("0.001"),
            time_in_force=None,
        )
    assert info.value.name == "invalid_price_bid"


def test_below_minimum_total_is_refused():
    with pytest.raises(BelowMinTotal, match="below the KRW-BTC minimum of 5000"):
        RULES.check_order(
            market="KRW-BTC",
            side="bid",
            ord_type="price",
            price=D("4999"),
            volume=None,
            time_in_force=None,
        )
    with pytest.raises(BelowMinTotal):
        RULES.check_order(
            market="KRW-BTC",
            side="ask",
            ord_type="market",
            price=None,
            volume=D("0.00001"),
            time_in_force=None,
            reference_price=D("100000000"),
        )


def test_above_maximum_total_is_refused():
    with pytest.raises(InvalidOrder, match="above the maximum") as info:
        RULES.check_order(
            market="KRW-BTC",
            side="bid",
            ord_type="limit",
            price=D("100000000"),
            volume=D("11"),
            time_in_force=None,
        )
    assert info.value.name == "over_krw_funds_bid"


@pytest.mark.parametrize(
    ("side", "ord_type", "price", "volume", "tif", "name"),
    [
        ("bid", "price", "10000", "0.1", None, "create_bid_error"),
        ("ask", "market", "10000", "0.1", None, "create_ask_error"),
        ("bid", "market", None, "0.1", None, "create_bid_error"),
        ("bid", "limit", "10000", None, None, "create_bid_error"),
        ("bid", "best", "10000", None, None, "invalid_time_in_force"),
        ("bid", "limit", "10000", "1", "gtc", "invalid_time_in_force"),
        ("bid", "price", "10000", None, "ioc", "invalid_time_in_force"),
        ("buy", "limit", "10000", "1", None, "validation_error"),
        ("bid", "stop", "10000", "1", None, "validation_error"),
        ("bid", "limit", "-10000", "1", None, "validation_error"),
    ],
)
def test_parameter_matrix(side, ord_type, price, volume, tif, name):
    with pytest.raises(InvalidOrder) as info:
        RULES.check_order(
            market="KRW-BTC",
            side=side,
            ord_type=ord_type,
            price=D(price) if price else None,
            volume=D(volume) if volume else None,
            time_in_force=tif,
        )
    assert info.value.name == name


def test_volume_with_more_than_eight_decimals_is_refused():
    with pytest.raises(InvalidOrder, match="more than 8 decimals"):
        RULES.check_order(
            market="KRW-BTC",
            side="ask",
            ord_type="limit",
            price=D("100000000"),
            volume=D("0.000000001"),
            time_in_force=None,
        )


def test_valid_orders_pass():
    RULES.check_order(
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("145759000"),
        volume=D("0.001"),
        time_in_force="post_only",
    )
    RULES.check_order(
        market="KRW-BTC",
        side="bid",
        ord_type="best",
        price=D("10000"),
        volume=None,
        time_in_force="ioc",
    )
    RULES.check_order(
        market="KRW-BTC",
        side="ask",
        ord_type="best",
        price=None,
        volume=D("0.01"),
        time_in_force="fok",
    )
