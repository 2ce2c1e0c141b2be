"""The trading side of the bot, assembled from config: store, engine, feeds and their tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import AppConfig
from bot.venue import market_rules
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.engine.lifecycle import READ_ERRORS, MarketWatch
from trading.engine.replay_summary import ReplayTally
from trading.engine.universe import UniverseKeeper
from trading.events import Event, EventSink
from trading.marketdata.feeds import Feed
from trading.marketdata.replay import ReplayFeed, ReplayFile
from trading.marketdata.universe import Selection, choose
from trading.orders import reconcile
from trading.orders.submit import Fence
from trading.positions import PositionState
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory
from trading.strategies import build_strategy
from trading.timeframes import timeframe_seconds
from trading.upbit.auth import Credentials
from trading.upbit.feed import UpbitTradeFeed
from trading.upbit.mapping import book_snapshot, stream_report
from trading.upbit.rest import UpbitRestClient
from trading.upbit.ws_client import Subscription, UpbitWebSocket
from trading.upbit.ws_messages import MyOrder, Orderbook

log = logging.getLogger("bot.trader")
TaskStarter = Callable[[Awaitable[None], str], None]


def risk_limits(config: AppConfig) -> RiskLimits:
    return RiskLimits.from_mapping(config.risk.model_dump() | {"timezone": config.bot.timezone})


class Trader:
    def __init__(
        self,
        config: AppConfig,
        *,
        sink: EventSink,
        create_task: TaskStarter,
        rest: UpbitRestClient | None,
        credentials: Credentials | None,
        replay_file: Path,
        fence: Fence | None = None,
    ) -> None:
        self.config = config
        self._fence = fence  # the leader lock's: asked before every order leaves
        self._out = sink
        # a replay ends with a summary of what the bot did over it (trading/engine/replay_summary)
        self.tally: ReplayTally | None = None
        if config.bot.feed == "replay":
            self.tally = ReplayTally(
                config.bot.fixed_markets, timeframe_seconds(config.strategy.timeframe)
            )
        self._create_task = create_task
        self.rest = rest
        self._credentials = credentials
        self._replay_file = replay_file
        self._db: AsyncEngine | None = None
        self.rig: EngineRig | None = None
        self.facade: EngineFacade | None = None
        self.feed: Feed | None = None
        self._private: UpbitWebSocket | None = None
        self._books: UpbitWebSocket | None = None
        self.watch: MarketWatch | None = None
        self.universe: UniverseKeeper | None = None  # bot.markets = "top:N" only
        self.feed_done = asyncio.Event()
        self._engine_started = False
        self._stopping = False

    def _sink(self, event: Event) -> None:
        if self.tally is not None:
            self.tally.on_event(event)
        self._out(event)

    @property
    def paper(self) -> bool:
        return self.config.bot.mode == "paper"

    @property
    def engine_alive(self) -> bool | None:
        """None until the engine's worker starts; then whether it still runs (liveness)."""
        return self.rig.loop.alive if self._engine_started and self.rig is not None else None

    def streams(self) -> list[UpbitWebSocket]:
        """The WebSocket connections now open (trades, order books, private), for metrics."""
        feed_ws = self.feed.ws if isinstance(self.feed, UpbitTradeFeed) else None
        return [s for s in (feed_ws, self._books, self._private) if s is not None]

    async def start(self) -> None:
        cfg = self.config
        self._db = create_engine(cfg.store.url, echo=cfg.store.echo)
        store = Store(session_factory(self._db))
        strategy = build_strategy(cfg.strategy.name, cfg.strategy.file, cfg.strategy.params)
        first = await self._first_universe()
        spec = EngineSpec(
            markets=cfg.bot.fixed_markets if first is None else first.markets,
            timeframe=cfg.strategy.timeframe,
            paper=self.paper,
            prefix=cfg.bot.identifier_prefix,
            cooldown_candles=cfg.risk.cooldown_candles,
            stop_cooldown_candles=cfg.risk.stop_cooldown_candles,
            paper_start_krw=cfg.paper.start_krw,
            paper_fee_rate=cfg.paper.fee_rate,
            paper_slippage_bps=cfg.paper.slippage_bps,
            # after a timed-out order, wait as long as a request may take before re-sending
            order_timeout_settle_s=cfg.upbit.request_timeout_s,
            refusals_per_hour=cfg.upbit.max_refused_orders_per_hour,
        )
        self.rig = await assemble(
            spec,
            strategy=strategy,
            limits=risk_limits(cfg),
            store=store,
            sink=self._sink,
            live_exchange=None if self.paper else self.rest,
            candles=self.rest,
            circuit=None if self.paper or self.rest is None else self.rest.circuit,
            rules=market_rules(),
        )
        self.rig.engine.orders.submitter.fence = self._fence
        engine = self.rig.engine
        engine.set_universe(engine.universe)  # a position outside it is watched too
        self.facade = EngineFacade(
            engine, store, sink=self._sink, mode="paper" if self.paper else "live"
        )
        await self.facade.restore()
        self.rig.loop.start()
        self._engine_started = True
        log.info(
            "engine ready: %s on %s %s, strategy %s %s",
            "paper" if self.paper else "LIVE",
            ",".join(spec.markets),
            spec.timeframe,
            strategy.name,
            strategy.params.model_dump(),
        )
        self._sink(await reconcile(self.rig.engine.orders))
        await self._check_holdings()
        if not self.paper:
            await self._start_private()
        if first is not None:
            await self._keep_universe(first)
        await self._watch_markets()
        await self._start_feed()

    async def _first_universe(self) -> Selection | None:
        """``bot.markets = "top:N"``: the markets chosen from Upbit's 24-hour values now
        (None for a fixed list). No eligible market at all stops the start."""
        top = self.config.bot.top_n
        if top is None:
            return None
        if self.rest is None:  # the config refuses "top:N" without the Upbit feed
            raise ValueError('bot.markets = "top:N" needs bot.feed = "upbit"')
        first = await choose(self.rest, top)
        if not first.markets:
            raise ValueError(
                f'bot.markets = "top:{top}": no KRW market without an Upbit warning or'
                " delisting has a 24-hour traded value"
            )
        return first

    async def _keep_universe(self, first: Selection) -> None:
        """Announce the first choice; ``UniverseJob`` (on the scheduler) chooses again."""
        assert self.rig is not None
        assert self.facade is not None
        engine = self.rig.engine
        self.universe = UniverseKeeper(
            engine,
            self._rest(),
            first.top,
            sink=self._sink,
            every_s=self.config.bot.universe_refresh_s,
            warmup_bars=max(engine.warmup_bars() * 2, 50),
            on_change=self._subscribe_traded,
        )
        self.facade.universe = self.universe
        await self.universe.apply(first)

    def _rest(self) -> UpbitRestClient:
        if self.rest is None:
            raise RuntimeError("no Upbit REST client")
        return self.rest

    async def _subscribe_traded(self) -> None:
        """The universe changed: the feeds follow ``Engine.traded`` (Upbit replaces the whole
        subscription), and the tick table is checked for the new markets."""
        assert self.rig is not None
        traded = self.rig.engine.traded
        if isinstance(self.feed, UpbitTradeFeed):
            await self.feed.resubscribe(traded)
        if self._books is not None:
            await self._books.resubscribe([Subscription("orderbook", traded, depth=15)])
        if self.rest is not None:
            try:
                await self.rest.refresh_ticks(traded)
            except READ_ERRORS as exc:
                log.warning("tick table not checked for the new markets: %s", exc)

    async def _check_holdings(self) -> None:
        """The book against the account's balances: now, then every
        ``upbit.balance_check_s`` (a smaller balance is adopted, a larger one reported)."""
        assert self.rig is not None
        holdings, every = self.rig.engine.holdings, self.config.upbit.balance_check_s
        try:
            await holdings.check("start")
        except READ_ERRORS as exc:
            log.warning("balances not read at start (again in %.0f s): %s", every, exc)
        self._create_task(holdings.run(every, READ_ERRORS), "balance-check")

    async def _watch_markets(self) -> None:
        """Upbit's warnings and delistings: read now, before the feed (so the first entry is
        already gated), then every ``upbit.market_status_poll_s``. Only with the REST client
        (live mode, or the Upbit feed): a replay in paper mode has no such news."""
        if self.rest is None:
            return
        assert self.rig is not None
        self.watch = MarketWatch(self.rig.engine, self.rest, sink=self._sink)
        every = self.config.upbit.market_status_poll_s
        try:
            await self.watch.poll()
        except READ_ERRORS as exc:
            log.warning("Upbit market status not read at start (again in %.0f s): %s", every, exc)
        self._create_task(self.watch.run(every), "market-status")

    async def _start_feed(self) -> None:
        assert self.rig is not None
        cfg = self.config
        if cfg.bot.feed == "replay":
            self.feed = ReplayFeed(
                [ReplayFile(self._replay_file, cfg.bot.markets[0])], speed=cfg.bot.replay_factor
            )
        else:
            if self.rest is not None:
                warmup = max(self.rig.engine.warmup_bars() * 2, 50)
                loaded = await self.rig.engine.market_data.warm_up(warmup)
                log.info("history loaded over REST: %s", loaded)
            self.feed = UpbitTradeFeed(
                cfg.upbit.ws_url,
                self.rig.engine.traded,
                on_event=self._sink,
                ping_interval_s=cfg.upbit.ws_ping_interval_s,
                stale_after_s=cfg.upbit.ws_stale_after_s,
                backoff_max_s=cfg.upbit.ws_reconnect_max_s,
            )
            self._create_task(self._ticks(), "engine-ticks")
            await self._start_books()
        self._create_task(self._pump(self.feed), "feed")

    async def _pump(self, feed: Feed) -> None:
        """Prints into the engine's inbox; a replay waits for the engine every few hundred."""
        assert self.rig is not None
        loop, market_data = self.rig.loop, self.rig.engine.market_data
        await feed.start()
        tally = self.tally
        count = 0
        try:
            async for print_ in feed.prints():
                loop.put_print(print_)
                count += 1
                if tally is not None:
                    tally.on_print(print_)
                    if count == 1:  # the start: held coin is marked at the first price
                        await loop.drain()
                        tally.mark(await self._equity())
                if count % 250 == 0:
                    await loop.drain()
                    if tally is not None:
                        tally.mark(await self._equity())
                for gap in feed.take_gaps():
                    self._create_task(self._repair(market_data.on_gap(gap)), "gap-repair")
            await loop.drain()
            if tally is not None and count and not self._stopping:
                tally.mark(await self._equity())
                self._sink(tally.finish(self._holding()))
        finally:
            self.feed_done.set()
        log.info("feed finished after %d prints", count)

    async def _equity(self) -> Decimal:
        """The account's equity as the book marks it now (the replay summary's curve)."""
        assert self.rig is not None
        engine = self.rig.engine
        prices = {m: p for m in engine.traded if (p := engine.market_data.price(m))}
        account = await engine.account.snapshot(engine.positions.all(), prices)
        return account.equity

    def _holding(self) -> int:
        assert self.rig is not None
        return sum(1 for p in self.rig.engine.positions.all().values() if p.volume > 0)

    @staticmethod
    async def _repair(work: Awaitable[Any]) -> None:
        await work

    async def _start_books(self) -> None:
        """Live order books: the slippage check and (in paper mode) the simulated fills."""
        assert self.rig is not None
        cfg = self.config
        self._books = UpbitWebSocket(
            cfg.upbit.ws_url,
            [Subscription("orderbook", self.rig.engine.traded, depth=15)],
            name="orderbook",
            on_event=self._sink,
            ping_interval_s=cfg.upbit.ws_ping_interval_s,
            stale_after_s=cfg.upbit.ws_stale_after_s,
            backoff_max_s=cfg.upbit.ws_reconnect_max_s,
        )
        await self._books.start()
        self._create_task(self._consume_books(self._books), "orderbooks")

    async def _consume_books(self, stream: UpbitWebSocket) -> None:
        assert self.rig is not None
        market_data, paper = self.rig.engine.market_data, self.rig.paper
        async for message in stream.messages():
            if isinstance(message, Orderbook):
                book = book_snapshot(message)
                market_data.set_orderbook(book.market, book)
                if paper is not None:
                    paper.set_orderbook(book.market, book.asks, book.bids)

    async def _ticks(self) -> None:
        assert self.rig is not None
        while True:
            await asyncio.sleep(1.0)
            self.rig.loop.put_tick()

    async def _start_private(self) -> None:
        """Live fills: the ``myOrder`` stream, with REST polling as the fallback."""
        assert self.rig is not None
        cfg = self.config
        if self._credentials is None:
            return
        self._private = UpbitWebSocket(
            cfg.upbit.ws_private_url,
            [Subscription("myOrder")],
            credentials=self._credentials,
            name="private",
            on_event=self._sink,
        )
        await self._private.start()
        self._create_task(self._my_orders(self._private), "my-orders")
        self._create_task(self._poll(), "order-poll")

    async def _my_orders(self, stream: UpbitWebSocket) -> None:
        assert self.rig is not None
        async for message in stream.messages():
            report = stream_report(message) if isinstance(message, MyOrder) else None
            if report is not None:
                self.rig.loop.put_stream(report)

    async def _poll(self) -> None:
        assert self.rig is not None
        while True:
            await asyncio.sleep(self.config.upbit.order_poll_s)
            await self.rig.engine.orders.poll_open()

    async def stop(self, *, cancel: bool = True) -> None:
        """Stop the feeds, let queued fills land, optionally cancel orders, close the store.

        ``cancel=False``: leadership was lost, so the orders are the new leader's business."""
        self._stopping = True  # a replay cut short by a stop has no summary
        if self.feed is not None:
            with contextlib.suppress(Exception):
                await self.feed.stop()
        for stream in (self._private, self._books):
            if stream is not None:
                await stream.stop()
        if self.rig is not None:
            if cancel and self.config.bot.cancel_orders_on_stop:
                cancelled = await self.rig.engine.orders.cancel_all()
                log.info("cancelled %d open order(s) on stop", cancelled)
            await self.rig.loop.stop()
        if self._db is not None:
            await self._db.dispose()

    async def status_lines(self) -> list[str]:
        if self.rig is None:
            return ["engine not started"]
        engine = self.rig.engine
        lines = []
        for market in engine.traded:
            position = engine.positions.get(market)
            price = engine.market_data.price(market)
            text = f"{market}: {position.state.value}"
            if position.state is PositionState.LONG:
                text += f" {position.volume.normalize():f} @ {position.avg_entry_price:,.0f}"
                if position.stop_price:
                    text += f", stop {position.stop_price:,.0f}"
            if price is not None:
                text += f"; last {price:,.0f} KRW"
            lines.append(text)
        account = await engine.account.snapshot(
            engine.positions.all(),
            {m: p for m in engine.traded if (p := engine.market_data.price(m))},
        )
        lines.append(
            f"equity {account.equity:,.0f} KRW (cash {account.free_krw:,.0f}), "
            f"market time {engine.market_time():%Y-%m-%d %H:%M} UTC"
        )
        return lines
