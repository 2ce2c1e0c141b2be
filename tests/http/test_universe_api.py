"""The market universe (``bot.markets = "top:N"``, issue #13) as the JSON API and ``/metrics``
show it: which markets the bot may enter, how they were chosen, when, and who was left out
and why; a fixed list says it is one. A real paper engine, the real HTTP server, the real
``UniverseKeeper`` applying two choices (the second one leaves the held KRW-BTC outside)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal as D

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from tests.http.conftest import AUTH, Served, Traded, assert_matches_openapi
from trading.domain.market import Listing, TickerValue
from trading.engine.universe import UniverseKeeper
from trading.marketdata.universe import Ranked, Selection
from trading.positions import PositionState

REFRESHED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


class Unused:
    """The keeper's Upbit source: these tests hand it each choice (``apply``)."""

    async def markets(self, *, details: bool = True) -> Sequence[Listing]:
        raise AssertionError("not read")

    async def ticker_values(self, quote: str = "KRW") -> Sequence[TickerValue]:
        raise AssertionError("not read")


def selection(*markets: str) -> Selection:
    """``markets`` chosen (top 2), DOGE left out under a warning, OLD for its delisting."""
    ranked = (
        Ranked("KRW-DOGE", 0, D(99), "warning"),
        *(Ranked(m, i + 1, D(10 - i), "") for i, m in enumerate(markets)),
        Ranked("KRW-OLD", 0, D(1), "delisting"),
    )
    return Selection(top=2, markets=markets, ranked=ranked)


async def top_two(traded: Traded) -> UniverseKeeper:
    """top:2 chosen twice: first BTC and ETH, then ETH and XRP (BTC, held, stays traded)."""
    assert traded.rig.engine.positions.get("KRW-BTC").state is PositionState.LONG
    keeper = UniverseKeeper(
        traded.rig.engine,
        Unused(),
        2,
        sink=traded.events.append,
        every_s=600,
        clock=lambda: REFRESHED,
    )
    traded.facade.universe = keeper
    await keeper.apply(selection("KRW-BTC", "KRW-ETH"))
    await keeper.apply(selection("KRW-ETH", "KRW-XRP"))
    return keeper


async def test_status_says_a_fixed_list_is_one(api: Served) -> None:
    response = await api.get("/api/v1/status", headers=AUTH)
    body = assert_matches_openapi("/api/v1/status", response)
    assert body["universe"] == {
        "chosen_by": "fixed",
        "top": None,
        "markets": ["KRW-BTC"],
        "held_outside": [],
        "refreshed_at": None,
        "refresh_every_s": None,
        "changes": 0,
        "excluded": [],
    }


async def test_status_shows_the_top_n_universe_its_refresh_and_who_was_left_out(
    api: Served, traded: Traded
) -> None:
    await top_two(traded)
    response = await api.get("/api/v1/status", headers=AUTH)
    body = assert_matches_openapi("/api/v1/status", response)
    assert body["universe"] == {
        "chosen_by": "top",
        "top": 2,
        "markets": ["KRW-ETH", "KRW-XRP"],
        "held_outside": ["KRW-BTC"],
        "refreshed_at": "2026-12-07T09:30:00Z",
        "refresh_every_s": 600.0,
        "changes": 1,  # the first choice is not a change
        "excluded": [
            {"market": "KRW-DOGE", "reason": "warning"},
            {"market": "KRW-OLD", "reason": "delisting"},
        ],
    }


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_the_universe_its_members_and_its_changes(traded: Traded) -> None:
    metrics = Metrics(version="t", mode="paper", strategy="ma_cross", cache_s=0.0)
    metrics.sources.facade = traded.facade
    fixed = samples((await metrics.scrape()).decode())
    await top_two(traded)
    top = samples((await metrics.scrape()).decode())

    assert fixed[("upbit_bot_universe_size", ())] == 1
    assert fixed[("upbit_bot_universe_member", (("market", "KRW-BTC"),))] == 1
    assert fixed[("upbit_bot_universe_changes_total", ())] == 0
    assert top[("upbit_bot_universe_size", ())] == 2
    members = {
        dict(labels)["market"]: value
        for (name, labels), value in top.items()
        if name == "upbit_bot_universe_member"
    }
    assert members == {"KRW-ETH": 1, "KRW-XRP": 1, "KRW-BTC": 0}  # BTC: held, exits only
    assert top[("upbit_bot_universe_changes_total", ())] == 1
