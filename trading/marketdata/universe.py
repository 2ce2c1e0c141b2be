"""The market universe of ``bot.markets = "top:N"``: which KRW markets the bot trades.

``select_top`` is pure: the N KRW markets of the highest 24-hour traded value
(``acc_trade_price_24h``), leaving out every market Upbit has under an investment warning or
caution (유의·주의종목) and every market closing (a delisting date, a state other than ACTIVE,
or gone from the list): the same ``MarketStatus.warned`` / ``closing`` the risk gate refuses
entries on, so the universe never picks a market the gate would refuse. Equal values rank by
market code, so a refresh on unchanged data never swaps two markets back and forth.

``read_candidates`` asks Upbit, two public quotation calls: ``GET /v1/market/all?
is_details=true`` (group ``market``: listed, warning and caution flags) and ``GET
/v1/ticker/all?quote_currencies=KRW`` (group ``ticker``: the 24-hour value, ``market_state``,
``delisting_date``). The engine applies the choice (``trading.engine.universe``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from trading.domain.market import Listing, TickerValue
from trading.risk.lifecycle import MarketStatus

QUOTE = "KRW"
#: why a market is not eligible ("" = it is)
Exclusion = Literal["", "warning", "delisting"]


class UniverseSource(Protocol):
    """What ``UpbitRestClient`` offers for this (a test may hand in anything alike)."""

    async def markets(self, *, details: bool = True) -> Sequence[Listing]: ...

    async def ticker_values(self, quote: str = QUOTE) -> Sequence[TickerValue]: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """A KRW market as Upbit describes it now, with its 24-hour traded value in KRW."""

    status: MarketStatus
    value_24h: Decimal

    @property
    def market(self) -> str:
        return self.status.market

    @property
    def excluded(self) -> Exclusion:
        if self.status.closing:
            return "delisting"
        return "warning" if self.status.warned else ""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One candidate's place: ``rank`` 1 is the highest value among the eligible markets (0:
    excluded, ``excluded`` says why)."""

    market: str
    rank: int
    value_24h: Decimal
    excluded: Exclusion


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen ``markets`` (highest value first) and every candidate's place."""

    top: int
    markets: tuple[str, ...]
    ranked: tuple[Ranked, ...]

    def place(self, market: str) -> Ranked | None:
        """``market``'s place; None when Upbit no longer lists it (or it is not KRW)."""
        return next((r for r in self.ranked if r.market == market), None)


def select_top(candidates: Iterable[Candidate], n: int) -> Selection:
    """The ``n`` eligible KRW markets of the highest 24-hour value (fewer if fewer qualify)."""
    if n < 1:
        raise ValueError(f"top:N needs N >= 1, not {n}")
    krw = [c for c in candidates if c.market.startswith(f"{QUOTE}-")]
    ordered = sorted(krw, key=lambda c: (-c.value_24h, c.market))
    ranked, rank = [], 0
    for candidate in ordered:
        excluded = candidate.excluded
        if not excluded:
            rank += 1
        ranked.append(
            Ranked(candidate.market, 0 if excluded else rank, candidate.value_24h, excluded)
        )
    chosen = tuple(r.market for r in ranked if 0 < r.rank <= n)
    return Selection(top=n, markets=chosen, ranked=tuple(ranked))


async def read_candidates(source: UniverseSource) -> list[Candidate]:
    """Every listed KRW market with a ticker, as Upbit describes it now."""
    listed = {m.market: m for m in await source.markets(details=True)}
    out = []
    for ticker in await source.ticker_values(QUOTE):
        info = listed.get(ticker.market)
        if info is None or not ticker.market.startswith(f"{QUOTE}-"):
            continue  # gone from market/all: delisted, never a candidate
        status = MarketStatus(
            ticker.market,
            warning=info.warning,
            cautions=info.cautions,
            state=ticker.market_state,
            delisting_date=ticker.delisting_date,
        )
        out.append(Candidate(status, ticker.acc_trade_price_24h))
    return out


async def choose(source: UniverseSource, n: int) -> Selection:
    """Read and select in one call."""
    return select_top(await read_candidates(source), n)
