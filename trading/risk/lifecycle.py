"""What Upbit says about each market's life, as the risk gate reads it.

Upbit designates markets for an investment warning (유의종목, ``market_event.warning`` of
``GET /v1/market/all?is_details=true``) or a caution (주의종목, its ``caution`` flags): trading
goes on, but a warned market is a delisting candidate. A delisting is announced with a date
(the ticker's ``delisting_date``), a market not yet or no longer tradeable has a
``market_state`` other than ``ACTIVE``, and a delisted market leaves ``market/all``
(reference §4.1, §8.3, §9.5). Entering any of those is a bet the bot should not make alone.

``MarketLifecycle`` keeps the latest ``MarketStatus`` per market and two plain sets, ``warned``
and ``closing``, that the gate's checks look up: a backtest (which never learns a status) pays
one membership test of an empty set per entry. The engine feeds it (``update``) from a
schedule; ``update`` answers what changed, so the engine can tell the chat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from trading.risk.decision import Denied

#: ``market_state`` values in which no order can be placed (listing announced / delisted)
NOT_TRADEABLE = frozenset({"PREVIEW", "DELISTED"})


@dataclass(frozen=True, slots=True)
class MarketStatus:
    """One market as Upbit last described it.

    ``listed`` False: absent from ``market/all`` (delisted). ``state`` is the ticker's
    ``market_state`` (PREVIEW, ACTIVE, DELISTED), "" when Upbit did not say.
    """

    market: str
    listed: bool = True
    warning: bool = False
    cautions: tuple[str, ...] = ()
    state: str = ""
    delisting_date: date | None = None

    @property
    def warned(self) -> bool:
        """Under the warning designation or any caution flag."""
        return self.warning or bool(self.cautions)

    @property
    def closing(self) -> bool:
        """Delisting scheduled, delisted, or not tradeable now."""
        return not self.listed or self.delisting_date is not None or self.state in NOT_TRADEABLE

    @property
    def tag(self) -> str:
        """A word for lists in any language: the delisting date, ``DELISTED``, ``PREVIEW``,
        ``unlisted``, else the caution flags."""
        if self.closing:
            if self.delisting_date is not None:
                return self.delisting_date.isoformat()
            return self.state if self.listed else "unlisted"
        return ", ".join(self.cautions)

    @property
    def state_text(self) -> str:
        """What ``closing`` rests on, for a sentence: ``delisting on 2025-07-01``."""
        if self.delisting_date is not None:
            return f"delisting on {self.delisting_date.isoformat()}"
        if not self.listed:
            return "no longer listed"
        return f"state {self.state}"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """``market`` moved from ``old`` (None: first seen) to ``new``."""

    old: MarketStatus | None
    new: MarketStatus

    @property
    def market(self) -> str:
        return self.new.market


class MarketLifecycle:
    """The gate's view of Upbit's designations; ``warned`` and ``closing`` are what it checks."""

    def __init__(self) -> None:
        self.statuses: dict[str, MarketStatus] = {}
        self.warned: set[str] = set()
        self.closing: set[str] = set()

    def update(self, statuses: Iterable[MarketStatus]) -> list[StatusChange]:
        """Take the latest statuses; the changes, a first sighting only when it is flagged
        (a clean market seen for the first time is no news)."""
        changes: list[StatusChange] = []
        for new in statuses:
            old = self.statuses.get(new.market)
            if old == new:
                continue
            self.statuses[new.market] = new
            _put(self.warned, new.market, new.warned)
            _put(self.closing, new.market, new.closing)
            if old is None and not (new.warned or new.closing):
                continue
            changes.append(StatusChange(old, new))
        return changes

    def refusal(self, market: str) -> Denied | None:
        """Why no entry into ``market`` now (a delisting before a warning), None if none."""
        status = self.statuses.get(market)
        if status is None:
            return None
        if market in self.closing:
            return deny_closing(status)
        if market in self.warned:
            return deny_warned(status)
        return None


def _put(members: set[str], market: str, present: bool) -> None:
    if present:
        members.add(market)
    else:
        members.discard(market)


def deny_closing(status: MarketStatus) -> Denied:
    market = status.market
    if status.delisting_date is not None:
        day = status.delisting_date.isoformat()
        return Denied(
            "delisting",
            f"Upbit delists {market} on {day}: no new entries",
            code="delisting",
            values=(("market", market), ("date", day)),
        )
    state = status.state if status.listed else "unlisted"
    return Denied(
        "delisting",
        f"{market} is not tradeable on Upbit ({status.state_text}): no new entries",
        code="market_inactive",
        values=(("market", market), ("state", state)),
    )


def deny_warned(status: MarketStatus) -> Denied:
    market = status.market
    if status.warning:
        return Denied(
            "market_warning",
            f"{market} is under an Upbit investment warning (유의종목): no new entries",
            code="market_warning",
            values=(("market", market),),
        )
    flags = ", ".join(status.cautions)
    return Denied(
        "market_warning",
        f"{market} is under an Upbit investment caution ({flags}): no new entries",
        code="market_caution",
        values=(("market", market), ("flags", flags)),
    )
