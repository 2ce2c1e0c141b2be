"""Read Upbit's word on each market's life over REST, as ``MarketStatus`` values.

Two public quotation calls per read: ``GET /v1/market/all?is_details=true`` (group
``market``) for the warning designation and caution flags, and whether the market is listed
at all; then ``GET /v1/ticker`` (group ``ticker``) for the listed ones' ``market_state`` and
``delisting_date`` (asking the ticker for an unlisted market would fail the whole call with
404). The engine decides what the values mean (``trading.engine.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from trading.domain.market import Listing, TickerState
from trading.risk.lifecycle import MarketStatus


class StatusSource(Protocol):
    """What ``UpbitRestClient`` offers for this (a test may hand in anything alike)."""

    async def markets(self, *, details: bool = True) -> Sequence[Listing]: ...

    async def ticker_states(self, markets: Sequence[str]) -> Sequence[TickerState]: ...


async def read_statuses(source: StatusSource, markets: Sequence[str]) -> list[MarketStatus]:
    """One status per market of ``markets``, in that order."""
    listed = {m.market: m for m in await source.markets(details=True)}
    present = [m for m in markets if m in listed]
    states = {t.market: t for t in await source.ticker_states(present)} if present else {}
    out = []
    for market in markets:
        info = listed.get(market)
        if info is None:
            out.append(MarketStatus(market, listed=False))
            continue
        ticker = states.get(market)
        out.append(
            MarketStatus(
                market,
                warning=info.warning,
                cautions=info.cautions,
                state=ticker.market_state if ticker is not None else "",
                delisting_date=ticker.delisting_date if ticker is not None else None,
            )
        )
    return out
