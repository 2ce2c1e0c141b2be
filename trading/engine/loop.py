"""One ordered inbox for everything that moves the engine.

Trade prints, order events, paper-exchange callbacks and the live ``myOrder`` stream all land
here and are handled one at a time, in arrival order, by a single worker. So a fill is never
applied before the order that caused it was recorded, a replay gives the same result every
time, and no callback (the paper exchange's are synchronous) ever waits for the engine.
The inbox is unbounded on purpose: a fill must never be dropped; its depth is a metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from trading.domain import TradePrint
from trading.engine.core import Engine
from trading.events import Event, OrderFilled, OrderSettled
from trading.orders.reports import FillReport
from trading.paper import PaperExchange, PaperFill
from trading.upbit.models import Order
from trading.upbit.ws_messages import MyOrder

log = logging.getLogger(__name__)
_TICK = object()


class EngineLoop:
    def __init__(self, engine: Engine, *, paper: PaperExchange | None = None) -> None:
        self.engine = engine
        self.paper = paper
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.handled = 0
        self.errors = 0
        self.accepting_market_data = True
        self.skipped_on_stop = 0

    # -- producers (all synchronous, none blocks) ----------------------------------------------

    def put_print(self, print_: TradePrint) -> None:
        self.inbox.put_nowait(print_)

    def put_tick(self) -> None:
        self.inbox.put_nowait(_TICK)

    def put_event(self, event: Event) -> None:
        """An ``EventSink`` for the order manager: only order events concern the engine."""
        if isinstance(event, OrderFilled | OrderSettled):
            self.inbox.put_nowait(event)

    def put_my_order(self, message: MyOrder) -> None:
        self.inbox.put_nowait(message)

    def on_paper_fill(self, fill: PaperFill) -> None:
        self.inbox.put_nowait(fill)

    def on_paper_order(self, order: Order) -> None:
        self.inbox.put_nowait(order)

    # -- the worker ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._worker is not None:
            raise RuntimeError("EngineLoop is already started")
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="engine")

    async def stop(self) -> None:
        """Stop trading on new data, land every queued fill and settlement, then stop.

        Prints and ticks still queued are skipped: acting on them after a stop request could
        open a position nobody is watching.
        """
        if self._worker is None:
            return
        self.accepting_market_data = False
        await self.drain()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def drain(self) -> None:
        await self.inbox.join()

    async def _run(self) -> None:
        while True:
            item = await self.inbox.get()
            try:
                await self._handle(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("engine failed on %r", item)
            finally:
                self.handled += 1
                self.inbox.task_done()

    async def _handle(self, item: object) -> None:
        engine = self.engine
        if (isinstance(item, TradePrint) or item is _TICK) and not self.accepting_market_data:
            self.skipped_on_stop += 1
            return
        if isinstance(item, TradePrint):
            if self.paper is not None:
                await self.paper.on_trade(item)
            await engine.on_print(item)
        elif item is _TICK:
            await engine.on_tick()
        elif isinstance(item, OrderFilled | OrderSettled):
            await engine.on_order_event(item)
        elif isinstance(item, PaperFill):
            await engine.orders.on_fill(paper_fill_report(item))
        elif isinstance(item, Order):
            await engine.orders.on_order(item)
        elif isinstance(item, MyOrder):
            await engine.orders.on_my_order(item)
        else:
            raise TypeError(f"unexpected inbox item {item!r}")


def paper_fill_report(fill: PaperFill) -> FillReport:
    return FillReport(
        trade_uuid=fill.trade_uuid,
        order_uuid=fill.order_uuid,
        identifier=fill.identifier,
        market=fill.market,
        side="bid" if fill.side == "bid" else "ask",
        price=fill.price,
        volume=fill.volume,
        funds=fill.funds,
        fee=fill.fee,
        is_maker=fill.is_maker,
        at=fill.at,
    )
