"""Applying the market universe (``bot.markets = "top:N"``) to a running engine.

``UniverseKeeper.refresh`` chooses again (``trading.marketdata.universe.choose``) and, when
the choice differs from the engine's universe:

1. every joiner gets a fresh candle builder and ``warmup_bars`` of history over REST, so the
   strategy can trade it from its first live candle (a failed backfill: it warms on live data);
2. the engine's universe becomes the new choice: entries go only there, while a leaver that
   holds a position stays traded (``Engine.traded``): its stop, take-profit and exit signal
   apply until it is flat, then it is dropped at the next refresh;
3. ``on_change`` (the trader) subscribes the feeds to ``Engine.traded`` (also when only a
   leaver's position closed since: its feed is dropped then);
4. ``UniverseChanged`` tells the chat who joined and who left, and why.

A read that fails, or an answer with no eligible market at all, keeps the last universe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime

from trading.engine.account import HOLDING
from trading.engine.core import Engine
from trading.errors import UpbitError
from trading.events import EventSink, UniverseChanged
from trading.marketdata.universe import Selection, UniverseSource, choose

log = logging.getLogger(__name__)
Changed = Callable[[], Awaitable[None]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class UniverseView:
    """What ``/status``, the JSON API, the dashboard and ``/metrics`` show of the universe.

    ``excluded``: ``(market, reason)`` of the KRW markets the last choice left out for a flag
    (``warning`` or ``delisting``), in Upbit's value order; ``changes``: the choices since
    start that differed from the one before (the first choice is not a change).
    """

    top: int
    markets: tuple[str, ...]
    refreshed_at: datetime | None
    every_s: float
    held_outside: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...] = ()
    changes: int = 0


@dataclass(eq=False, repr=False)
class UniverseKeeper:
    """Keeps the engine's universe the top ``top`` markets; one per engine."""

    engine: Engine
    source: UniverseSource
    top: int
    _: KW_ONLY
    sink: EventSink
    every_s: float
    warmup_bars: int = 0
    on_change: Changed | None = None
    clock: Callable[[], datetime] = _utcnow
    selection: Selection | None = field(default=None, init=False)
    refreshed_at: datetime | None = field(default=None, init=False)
    changes: int = field(default=0, init=False)  # choices that changed it, after the first
    #: ``Engine.traded`` as ``on_change`` last saw it
    _subscribed: tuple[str, ...] = field(default=(), init=False)

    def view(self) -> UniverseView:
        engine = self.engine
        outside = tuple(m for m in engine.traded if m not in engine.universe)
        ranked = () if self.selection is None else self.selection.ranked
        return UniverseView(
            self.top,
            engine.universe,
            self.refreshed_at,
            self.every_s,
            held_outside=outside,
            excluded=tuple((r.market, r.excluded) for r in ranked if r.excluded),
            changes=self.changes,
        )

    async def refresh(self) -> UniverseChanged | None:
        """Choose again and apply; the announcement, or None when nothing changed. A read
        error propagates (the caller logs it); the last universe stays."""
        selection = await choose(self.source, self.top)
        return await self.apply(selection)

    async def apply(self, selection: Selection) -> UniverseChanged | None:
        """Make ``selection`` the universe (the first one, at start, is announced too)."""
        engine, first = self.engine, self.selection is None
        self.refreshed_at = self.clock()
        if not selection.markets:
            log.warning(
                "universe: no KRW market qualifies for top:%d; the last one stays", self.top
            )
            return None
        old = () if first else engine.universe
        joined = tuple(m for m in selection.markets if m not in old)
        left = tuple(m for m in old if m not in selection.markets)
        self.selection = selection
        changed = first or bool(joined or left)
        if changed:
            await self._warm(joined if not first else ())
            engine.set_universe(selection.markets)
        self._drop_flat_leavers()
        if engine.traded != self._subscribed:  # a leaver's position may have closed since
            self._subscribed = engine.traded
            if self.on_change is not None:
                await self.on_change()
        if not changed:
            return None
        self.changes += not first
        event = self._event(selection, joined, left, first=first)
        log.info(
            "universe top:%d: %s (joined %s, left %s)",
            self.top,
            ", ".join(selection.markets),
            ", ".join(joined) or "-",
            ", ".join(left) or "-",
        )
        self.sink(event)
        return event

    async def _warm(self, joined: tuple[str, ...]) -> None:
        """Fresh builders for the joiners, their history backfilled (at start the trader
        warms every market up itself)."""
        md = self.engine.market_data
        for market in joined:
            md.track(market)
        if not joined or not self.warmup_bars or md.client is None:
            return
        try:
            loaded = await md.warm_up(self.warmup_bars, markets=joined)
        except (UpbitError, ValueError) as exc:  # a failed backfill must not block the change
            log.warning("universe: joiners not warmed up over REST (live data will): %s", exc)
            return
        log.info("universe: history loaded for joiners: %s", loaded)

    def _drop_flat_leavers(self) -> None:
        """Stop keeping candles of markets that are neither in the universe nor held."""
        engine, traded = self.engine, set(self.engine.traded)
        for market in engine.market_data.markets:
            if market not in traded:
                engine.market_data.untrack(market)

    def _event(
        self, selection: Selection, joined: tuple[str, ...], left: tuple[str, ...], *, first: bool
    ) -> UniverseChanged:
        ranks, values, why = [], [], []
        for market in (*joined, *left):
            place = selection.place(market)
            if place is None:
                ranks.append((market, "0"))
                values.append((market, "0"))
            else:
                ranks.append((market, str(place.rank)))
                values.append((market, format(place.value_24h.quantize(1), "f")))
            if market in left:
                why.append((market, "unlisted" if place is None else place.excluded or "rank"))
        positions = self.engine.positions
        held = tuple(m for m in left if positions.get(m).state in HOLDING)
        return UniverseChanged(
            top=self.top,
            markets=selection.markets,
            joined=joined,
            left=left,
            why=tuple(why),
            ranks=tuple(ranks),
            values=tuple(values),
            held=held,
            first=first,
        )
