"""``MarketData``: the engine's one view of the market.

Per market it keeps a ``CandleBuilder`` for the strategy timeframe, the latest price, the time
of the latest trade (staleness) and optionally the latest order book; closed bars go out as
``CandleClosed`` events. ``run(feed)`` owns the feed's lifecycle; gaps the feed reports are
repaired over REST in the background (``backfill.fill_gap``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.domain import Bar, BookSide, TradePrint
from trading.domain.book import BookSnapshot
from trading.events import CandleClosed, EventSink, FeedGapped, ignore_event
from trading.marketdata.backfill import CandleSource, backfill, fill_gap
from trading.marketdata.candles import DEFAULT_HISTORY, CandleBuilder
from trading.marketdata.feeds import Feed
from trading.marketdata.orderbook import expected_fill
from trading.marketdata.replay import ReplayFeed

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MarketData:
    """Candles, prices and books for ``markets`` at one strategy ``timeframe``.

    ``client`` (an ``UpbitRestClient``) is needed for ``warm_up`` and gap repair only; without
    it gaps are logged and left flat.
    """

    def __init__(
        self,
        markets: Sequence[str],
        timeframe: str,
        *,
        sink: EventSink = ignore_event,
        client: CandleSource | None = None,
        history: int = DEFAULT_HISTORY,
        grace: timedelta | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not markets:
            raise ValueError("at least one market is required")
        self.timeframe = timeframe
        self.client = client
        self._sink = sink
        self._clock = clock
        self._history, self._grace = history, grace
        self._builders = {m: self._new_builder(m) for m in markets}
        #: markets no longer fed (they left the universe): their builders stay readable for a
        #: decision already under way, but take no prints, close no bars and are not repaired
        self._untracked: set[str] = set()
        self._prices: dict[str, Decimal] = {}
        self._last_at: dict[str, datetime] = {}
        self._books: dict[str, BookSnapshot] = {}
        self._feed: Feed | None = None
        self._repairs: set[asyncio.Task[None]] = set()
        self.unknown_prints = 0
        self.gaps_repaired = 0

    # ------------------------------------------------------------------ queries

    @property
    def markets(self) -> tuple[str, ...]:
        return tuple(m for m in self._builders if m not in self._untracked)

    def track(self, market: str) -> bool:
        """Keep candles of ``market`` from now on; True if it was not tracked (a market that
        comes back gets a fresh builder: its old history has a gap)."""
        if market in self._builders and market not in self._untracked:
            return False
        self._builders[market] = self._new_builder(market)
        self._untracked.discard(market)
        return True

    def untrack(self, market: str) -> None:
        """Stop keeping candles of ``market`` (see ``_untracked``)."""
        if market in self._builders:
            self._untracked.add(market)

    def reserve(self, bars: int) -> None:
        """Every builder (and each one made later) holds at least ``bars`` closed bars."""
        self._history = max(self._history, bars)
        for builder in self._builders.values():
            builder.reserve(bars)

    def builder(self, market: str) -> CandleBuilder:
        return self._builders[market]

    def history(self, market: str, count: int | None = None) -> list[Bar]:
        return self._builders[market].history(count)

    def price(self, market: str) -> Decimal | None:
        return self._prices.get(market)

    def last_print_at(self, market: str) -> datetime | None:
        return self._last_at.get(market)

    def age(self, market: str, now: datetime | None = None) -> timedelta | None:
        """How long since the market's last trade (``None``: never traded since start)."""
        last = self._last_at.get(market)
        return None if last is None else (now or self._clock()) - last

    def orderbook(self, market: str) -> BookSnapshot | None:
        return self._books.get(market)

    def set_orderbook(self, market: str, book: BookSnapshot) -> None:
        self._books[market] = book

    def expected_fill(self, market: str, side: BookSide, amount: Decimal) -> Decimal | None:
        """VWAP of a market order of ``amount`` (KRW for ``bid``, coin for ``ask``).

        ``None`` without a book or when the visible book is too thin.
        """
        book = self._books.get(market)
        return None if book is None else expected_fill(book, side, amount)

    # ------------------------------------------------------------------ input

    def on_print(self, p: TradePrint) -> list[Bar]:
        builder = self._builders.get(p.market)
        if builder is None or p.market in self._untracked:
            self.unknown_prints += 1
            return []
        closed = builder.add(p)
        last = self._last_at.get(p.market)
        if last is None or p.at >= last:
            self._last_at[p.market] = p.at
            self._prices[p.market] = p.price
        return closed

    def tick(self, now: datetime | None = None) -> list[Bar]:
        """Close due bars of every market (call about once a second in live mode)."""
        at = now or self._clock()
        closed = [bar for m in self.markets for bar in self._builders[m].tick(at)]
        if self._feed is not None:
            self._schedule_repairs(self._feed)
        return closed

    async def warm_up(
        self, bars: int, *, end: datetime | None = None, markets: Sequence[str] | None = None
    ) -> dict[str, int]:
        """Backfill ``bars`` of history per market (default: every tracked one) before the
        first live bar; returns counts."""
        if self.client is None:
            raise RuntimeError("warm_up needs a REST client")
        loaded: dict[str, int] = {}
        for market in self.markets if markets is None else markets:
            builder = self._builders[market]
            stop = end or self._clock()
            existing, open_bar = builder.history(), builder.open_bar
            if existing:
                stop = min(stop, existing[0].start)
            elif open_bar is not None:
                stop = min(stop, open_bar.start)
            got = await backfill(self.client, market, self.timeframe, bars, end=stop)
            builder.seed(got)
            loaded[market] = len(got)
        return loaded

    async def on_gap(self, gap: FeedGapped) -> dict[str, list[Bar]]:
        """Repair every market's history for the outage ``gap`` describes."""
        if self.client is None:
            log.warning("feed gap %s..%s not repaired: no REST client", *_span(gap))
            return {}
        fixed: dict[str, list[Bar]] = {}
        for market in self.markets:
            builder = self._builders[market]
            fixed[market] = await fill_gap(
                self.client, builder, gap.disconnected_at, gap.reconnected_at, now=self._clock()
            )
        self.gaps_repaired += 1
        counts = {m: len(b) for m, b in fixed.items()}
        log.info("feed gap %s..%s repaired: %s", *_span(gap), counts)
        return fixed

    # ------------------------------------------------------------------ running

    async def run(self, feed: Feed, *, tick_every_s: float | None = 1.0) -> None:
        """Start ``feed`` and consume it until ``stop()`` or its end, then stop it.

        A ``ReplayFeed`` runs on its own clock (the print times), with no wall-clock ticking;
        at its end the last open bars are closed, since the recording is complete.
        """
        replay = isinstance(feed, ReplayFeed)
        self._feed = feed
        await feed.start()
        ticker = None
        if not replay and tick_every_s:
            ticker = asyncio.create_task(self._tick_loop(tick_every_s), name="marketdata-tick")
        try:
            async for p in feed.prints():
                self.on_print(p)
                if replay:
                    self.tick(p.at)
                self._schedule_repairs(feed)
            if replay:
                for builder in self._builders.values():
                    if (bar := builder.open_bar) is not None:
                        builder.tick(bar.end + builder.grace)
        finally:
            if ticker is not None:
                ticker.cancel()
                await asyncio.wait([ticker])
            await feed.stop()
            if self._repairs:
                await asyncio.wait(self._repairs)
            self._feed = None

    async def stop(self) -> None:
        """End ``run``: stops the feed, whose ``prints()`` then ends."""
        if self._feed is not None:
            await self._feed.stop()

    # ------------------------------------------------------------------ internals

    def _new_builder(self, market: str) -> CandleBuilder:
        return CandleBuilder(
            market, self.timeframe, on_close=self._closed, history=self._history, grace=self._grace
        )

    def _closed(self, bar: Bar) -> None:
        self._sink(CandleClosed(bar=bar, at=bar.end))

    async def _tick_loop(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.tick()

    def _schedule_repairs(self, feed: Feed) -> None:
        for gap in feed.take_gaps():
            task = asyncio.create_task(self._repair(gap), name="marketdata-gap")
            self._repairs.add(task)
            task.add_done_callback(self._repairs.discard)

    async def _repair(self, gap: FeedGapped) -> None:
        try:
            await self.on_gap(gap)
        except Exception:  # a failed repair leaves flat bars; the feed must keep running
            log.exception("feed gap %s..%s could not be repaired", *_span(gap))


def _span(gap: FeedGapped) -> tuple[str, str]:
    return gap.disconnected_at.isoformat(), gap.reconnected_at.isoformat()
