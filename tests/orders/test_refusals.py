"""The refusal guard's memory and bound, on an injected clock."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.errors import (
    AuthError,
    BelowMinTotal,
    InsufficientFunds,
    OrderingSuspended,
    RefusedBefore,
)
from trading.orders.refusals import RefusalGuard, sent_and_refused


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sell(volume: str, market: str = "KRW-BTC", intent: str = "a") -> SubmitOrder:
    return SubmitOrder(
        intent, market, Side.SELL, OrderType.MARKET, volume=D(volume), reference_price=D(1)
    )


REFUSED = InsufficientFunds("no coin", name="insufficient_funds_ask", status=400)


def test_a_refused_body_waits_out_the_window_whatever_its_id() -> None:
    clock = Clock()
    guard = RefusalGuard(limit=5, window_s=3600, clock=clock)
    guard.refused(sell("1"), REFUSED)
    with pytest.raises(RefusedBefore) as info:
        guard.check(sell("1", intent="other"))  # a new intent, the same body
    assert info.value.refused_as == "insufficient_funds_ask"
    guard.check(sell("2"))  # another body goes
    guard.check(sell("1", market="KRW-ETH"))
    clock.now = 3600.5
    guard.refused(sell("3"), REFUSED)  # a refusal later forgets the old ones
    guard.check(sell("1"))


def test_the_bound_counts_a_sliding_hour_per_market_and_lift_resets_it() -> None:
    clock = Clock()
    guard = RefusalGuard(limit=3, window_s=3600, clock=clock)
    assert guard.refused(sell("1"), REFUSED) is None
    clock.now = 1800
    assert guard.refused(sell("2"), REFUSED) is None
    assert guard.refused(sell("1", market="KRW-ETH"), REFUSED) is None
    clock.now = 3601  # the first has left the window
    assert guard.refused(sell("3"), REFUSED) is None
    suspension = guard.refused(sell("4"), BelowMinTotal("small", name="under_min_total_ask"))
    assert suspension is not None
    assert (suspension.market, suspension.refusals) == ("KRW-BTC", 3)
    assert suspension.reasons == ("insufficient_funds_ask", "under_min_total_ask")
    with pytest.raises(OrderingSuspended):
        guard.check(sell("9"))
    guard.check(sell("9", market="KRW-ETH"))
    assert guard.lift("KRW-BTC") == ("KRW-BTC",)
    guard.check(sell("4"))  # lifted: its refused bodies are forgotten too
    assert guard.refused(sell("5"), REFUSED) is None


def test_restored_suspensions_block_and_only_upbits_own_refusals_count() -> None:
    guard = RefusalGuard()
    guard.restore(["KRW-XRP"])
    with pytest.raises(OrderingSuspended):
        guard.check(sell("1", market="KRW-XRP"))
    assert sent_and_refused(REFUSED)
    assert not sent_and_refused(BelowMinTotal("ours, before sending"))  # no HTTP status
    assert not sent_and_refused(AuthError("keys", status=401))
    with pytest.raises(ValueError, match="at least 1"):
        RefusalGuard(limit=0)
