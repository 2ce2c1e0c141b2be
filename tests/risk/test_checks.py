"""Per-order checks: each approves and denies with the exact sentence users read."""

from __future__ import annotations

from decimal import Decimal

from trading.risk import checks
from trading.risk.decision import Approved, Denied, krw
from trading.risk.limits import RiskLimits
from trading.upbit.market_rules import UpbitMarketRules

LIMITS = RiskLimits()
RULES = UpbitMarketRules()
D = Decimal


def test_krw_format_has_thousands_separators() -> None:
    assert krw(D(3000)) == "3,000"
    assert krw(D("100050.000")) == "100,050"
    assert krw(D("-12000.456")) == "-12,000.46"


def test_kill_switch_and_paused() -> None:
    assert checks.check_kill_switch(False) == Approved()
    assert checks.check_kill_switch(True) == Denied(
        "kill_switch", "the kill switch is on: no new entries until it is reset"
    )
    assert checks.check_paused(False) == Approved()
    assert checks.check_paused(True) == Denied(
        "paused", "trading is paused: no new entries until it is resumed"
    )


def test_open_positions() -> None:
    assert checks.check_open_positions(2, LIMITS).ok
    assert checks.check_open_positions(3, LIMITS) == Denied(
        "max_positions", "3 of 3 positions are open; close one before entering another"
    )


def test_position_size_against_upbit_minimum_and_maximum() -> None:
    assert checks.check_position_size(D(5000), LIMITS).ok
    assert checks.check_position_size(D(3000), LIMITS) == Denied(
        "position_size",
        "position size 3,000 KRW is below Upbit's minimum order of 5,000 KRW",
    )
    big = D(2_000_000_000)
    assert checks.check_position_size(big, LIMITS, big) == Denied(
        "position_size",
        "position size 2,000,000,000 KRW is above Upbit's maximum order of 1,000,000,000 KRW",
    )


def test_position_size_is_the_cap_of_every_entry() -> None:
    """Issue #10.2: a buy above the position size is refused (a manual one too)."""
    assert checks.check_position_size(D(100_000), LIMITS).ok
    assert checks.check_position_size(D(100_001), LIMITS) == Denied(
        "position_size", "a 100,001 KRW buy is above the position size of 100,000 KRW"
    )
    assert checks.check_position_size(D(300_000), LIMITS, D(500_000)).ok  # an admin's cap
    refused = checks.check_position_size(D(600_000), LIMITS, D(500_000))
    assert refused == Denied(
        "position_size", "a 600,000 KRW buy is above the manual buy limit of 500,000 KRW"
    )
    assert isinstance(refused, Denied)
    assert refused.code == "size_above_manual"


def test_balance_includes_the_buy_fee() -> None:
    assert checks.check_balance(D(100000), D(100050), LIMITS).ok
    assert checks.check_balance(D(100000), D("100049.99"), LIMITS) == Denied(
        "balance",
        "a 100,000 KRW entry needs 100,050 KRW with the 0.05% fee but only 100,049.99 KRW is free",
    )


def _slippage(fill: Decimal | None, mode: str = "refuse", bps: int = 50) -> object:
    limits = RiskLimits(max_slippage_bps=bps, slippage_mode=mode)  # type: ignore[arg-type]
    return checks.check_slippage(
        market="KRW-BTC",
        signal_price=D(95_000_000),
        size_krw=D(100000),
        expected_fill=fill,
        limits=limits,
        rules=RULES,
    )


def test_slippage_within_limit_or_better_is_approved() -> None:
    assert _slippage(D(95_475_000)) == Approved()  # exactly 50 bps
    assert _slippage(D(94_000_000)) == Approved()  # a better fill


def test_slippage_refuse_mode() -> None:
    assert _slippage(D(95_600_000)) == Denied(
        "slippage",
        "expected fill 95,600,000 KRW is 63.2 bps above the signal price 95,000,000 KRW;"
        " the limit is 50 bps",
    )


def test_slippage_limit_mode_turns_the_order_into_a_limit_at_the_worst_tick() -> None:
    decision = _slippage(D(95_600_000), mode="limit")
    # 95,000,000 * 1.005 = 95,475,000 -> tick 1,000 -> 95,475,000
    assert decision == Approved(
        limit_price=D(95_475_000),
        note="expected fill 95,600,000 KRW is 63.2 bps above the signal price 95,000,000 KRW,"
        " over the 50 bps limit: placing a limit buy at 95,475,000 KRW",
    )


def test_slippage_limit_price_rounds_down_onto_the_grid() -> None:
    limits = RiskLimits(max_slippage_bps=33, slippage_mode="limit")
    decision = checks.check_slippage(
        market="KRW-XRP",
        signal_price=D(3127),
        size_krw=D(100000),
        expected_fill=D(3200),
        limits=limits,
        rules=RULES,
    )
    assert isinstance(decision, Approved)
    # 3127 * 1.0033 = 3137.3191 -> tick 1 in the 1,000-5,000 band -> 3137
    assert decision.limit_price == D(3137)
    assert RULES.is_on_grid("KRW-XRP", D(3137))
    big = checks.worst_acceptable_price("KRW-ETH", D(4_999_000), limits, RULES)
    assert big == D(5_015_000)  # 5,015,496.7 -> tick 1,000


def test_slippage_without_a_deep_enough_book_is_refused() -> None:
    assert _slippage(None) == Denied(
        "slippage", "the KRW-BTC order book is too thin to fill 100,000 KRW at a known price"
    )
