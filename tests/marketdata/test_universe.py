"""``bot.markets = "top:N"``: the pure choice (ranking, exclusions, ties, too few markets) and
the read of Upbit's answers over loopback from the fake exchange."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from tests.fakes.upbit import FakeUpbit
from trading.marketdata.universe import Candidate, choose, read_candidates, select_top
from trading.risk.lifecycle import MarketStatus
from trading.upbit.rest import UpbitRestClient


def cand(market: str, value: int, **status: object) -> Candidate:
    return Candidate(MarketStatus(market, **status), D(value))  # type: ignore[arg-type]


def test_the_highest_24h_values_win_highest_first() -> None:
    # Arrange
    candidates = [
        cand("KRW-ETH", 50),
        cand("KRW-BTC", 90),
        cand("KRW-XRP", 70),
        cand("KRW-SOL", 10),
    ]

    # Act
    chosen = select_top(candidates, 3)

    # Assert
    assert chosen.markets == ("KRW-BTC", "KRW-XRP", "KRW-ETH")
    assert [(r.market, r.rank) for r in chosen.ranked] == [
        ("KRW-BTC", 1),
        ("KRW-XRP", 2),
        ("KRW-ETH", 3),
        ("KRW-SOL", 4),
    ]


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ({"warning": True}, "warning"),
        ({"cautions": ("PRICE_FLUCTUATIONS",)}, "warning"),
        ({"delisting_date": date(2026, 12, 31)}, "delisting"),
        ({"state": "DELISTED"}, "delisting"),
        ({"state": "PREVIEW"}, "delisting"),
        ({"warning": True, "delisting_date": date(2026, 12, 31)}, "delisting"),
    ],
)
def test_warned_and_closing_markets_are_left_out_whatever_their_value(
    status: dict[str, object], why: str
) -> None:
    candidates = [cand("KRW-DOGE", 999, **status), cand("KRW-BTC", 90), cand("KRW-ETH", 50)]

    chosen = select_top(candidates, 2)

    assert chosen.markets == ("KRW-BTC", "KRW-ETH")
    doge = chosen.place("KRW-DOGE")
    assert doge is not None
    assert (doge.rank, doge.excluded) == (0, why)
    assert chosen.place("KRW-ETH") is not None
    assert chosen.place("KRW-ETH").rank == 2  # type: ignore[union-attr]


def test_equal_values_rank_by_market_code_so_a_refresh_never_flaps() -> None:
    one = select_top([cand("KRW-XRP", 50), cand("KRW-ADA", 50), cand("KRW-BTC", 50)], 2)
    two = select_top([cand("KRW-BTC", 50), cand("KRW-XRP", 50), cand("KRW-ADA", 50)], 2)

    assert one.markets == two.markets == ("KRW-ADA", "KRW-BTC")


def test_fewer_eligible_markets_than_n_gives_all_of_them() -> None:
    chosen = select_top([cand("KRW-BTC", 9), cand("KRW-ETH", 5, warning=True)], 5)

    assert chosen.markets == ("KRW-BTC",)
    assert select_top([], 3).markets == ()


def test_only_krw_markets_qualify() -> None:
    chosen = select_top([cand("BTC-ETH", 10**12), cand("USDT-XRP", 10**12), cand("KRW-BTC", 1)], 3)

    assert chosen.markets == ("KRW-BTC",)
    assert chosen.place("BTC-ETH") is None


def test_n_must_be_positive() -> None:
    with pytest.raises(ValueError, match="N >= 1"):
        select_top([cand("KRW-BTC", 1)], 0)


async def test_read_from_upbit_ranks_by_acc_trade_price_24h_and_skips_flags() -> None:
    """The fake serves ``/v1/market/all?is_details=true`` and ``/v1/ticker/all`` on loopback:
    values scripted, one market warned, one with a delisting date, one unlisted."""
    markets = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "KRW-SOL", "KRW-DOGE", "KRW-ADA", "BTC-ETH"]
    async with FakeUpbit(markets=markets) as fake:
        for i, market in enumerate(markets):
            fake.set_trade_value_24h(market, D(10**9) * (len(markets) - i))
        fake.set_trade_value_24h("BTC-ETH", D(10**15))
        fake.set_market_warning("KRW-ETH")
        fake.set_market_state("KRW-XRP", delisting_date=date(2027, 1, 5))
        fake.set_listed("KRW-SOL", listed=False)
        async with UpbitRestClient(fake.rest_url) as rest:
            candidates = await read_candidates(rest)
            chosen = await choose(rest, 2)

    by_market = {c.market: c for c in candidates}
    assert "KRW-SOL" not in by_market  # gone from market/all: never a candidate
    assert by_market["KRW-BTC"].value_24h == D(7 * 10**9)
    assert by_market["KRW-ETH"].excluded == "warning"
    assert by_market["KRW-XRP"].excluded == "delisting"
    assert chosen.markets == ("KRW-BTC", "KRW-DOGE")
