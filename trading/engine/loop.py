"""One inbox for everything that moves the engine, handled by a single worker.

Two lanes, each in arrival order: order traffic (fills, order states, paper-exchange
callbacks, the venue's private order stream) always goes before market data (prints, ticks).
So a fill is applied before the engine looks at the next price, however many prints a fast replay
has queued, and a replay gives the same decisions as live trading. No producer ever waits (the
paper exchange's callbacks are synchronous). Both lanes are unbounded on purpose: a fill must
never be dropped; their depth is a metric.

In paper mode a print that jumps over an armed entry trigger inside its candle is preceded
by a print at the trigger's level (``_at_trigger``), so the paper buy fills at the level, as
the backtester fills it (``trading.engine.triggers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading.domain import TradePrint
from trading.domain.orders import FillReport, OrderReport
from trading.engine.core import Engine
from trading.events import Event, OrderFilled, OrderSettled
from trading.paper import PaperExchange, PaperFill

log = logging.getLogger(__name__)
_TICK = object()


class EngineLoop:
    def __init__(self, engine: Engine, *, paper: PaperExchange | None = None) -> None:
        self.engine = engine
        self.paper = paper
        self._orders: deque[Any] = deque()
        self._market: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None
        self.handled = 0
        self.errors = 0
        self.accepting_market_data = True
        self.skipped_on_stop = 0

    @property
    def depth(self) -> tuple[int, int]:
        """(order lane, market lane) backlog, for metrics."""
        return len(self._orders), len(self._market)

    @property
    def alive(self) -> bool:
        """The worker runs: started and neither stopped nor crashed (liveness probe)."""
        return self._worker is not None and not self._worker.done()

    def _put(self, lane: deque[Any], item: object) -> None:
        lane.append(item)
        self._idle.clear()
        self._ready.set()

    # -- producers (all synchronous, none blocks) ----------------------------------------------

    def put_print(self, print_: TradePrint) -> None:
        self._put(self._market, print_)

    def put_tick(self) -> None:
        self._put(self._market, _TICK)

    def put_event(self, event: Event) -> None:
        """An ``EventSink`` for the order manager: only order events concern the engine."""
        if isinstance(event, OrderFilled | OrderSettled):
            self._put(self._orders, event)

    def put_stream(self, item: FillReport | OrderReport) -> None:
        """A report from the venue's private order stream (mapped by its adapter)."""
        self._put(self._orders, _Streamed(item))

    def on_paper_fill(self, fill: PaperFill) -> None:
        self._put(self._orders, fill)

    def on_paper_order(self, order: OrderReport) -> None:
        self._put(self._orders, order)

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
        """Wait until both lanes are empty and the worker is idle."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            if not self._orders and not self._market:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            item = self._orders.popleft() if self._orders else self._market.popleft()
            try:
                await self._handle(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("engine failed on %r", item)
            finally:
                self.handled += 1

    async def _handle(self, item: object) -> None:
        engine = self.engine
        if (isinstance(item, TradePrint) or item is _TICK) and not self.accepting_market_data:
            self.skipped_on_stop += 1
            return
        if isinstance(item, TradePrint):
            if self.paper is not None:
                item = self._at_trigger(item)
                await self.paper.on_trade(item)
            await engine.on_print(item)
        elif item is _TICK:
            await engine.on_tick()
        elif isinstance(item, OrderFilled | OrderSettled):
            await engine.on_order_event(item)
        elif isinstance(item, PaperFill):
            await engine.orders.on_fill(item.report())
        elif isinstance(item, OrderReport):
            await engine.orders.on_order(item)
        elif isinstance(item, _Streamed):
            await engine.orders.on_stream(item.report)
        else:
            raise TypeError(f"unexpected inbox item {item!r}")

    def _at_trigger(self, print_: TradePrint) -> TradePrint:
        """Paper: a print that jumps over an armed entry level (a replay's candle goes from
        its low to its high in one print) is preceded by a print at the level, with no
        volume, so the paper buy fills there, as the backtester fills it. The print itself
        goes back to the front of the market lane: the buy's fill lands before it."""
        level = self.engine.triggers.crossing(print_)
        if level is None:
            return print_
        self._market.appendleft(print_)
        self._idle.clear()
        return TradePrint(print_.market, level, Decimal(0), print_.at, "BID")


@dataclass(frozen=True, slots=True)
class _Streamed:
    """A live stream's report: an order's end is only looked up, never taken as it is."""

    report: FillReport | OrderReport
