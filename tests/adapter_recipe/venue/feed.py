"""``TernTradeFeed``: Tern's public trade stream as a ``trading.marketdata.feeds.Feed``, and
``TernPrivateStream``: its private order stream as neutral reports for
``EngineLoop.put_stream``.

Both read an ``asyncio.Queue`` of JSON texts (the in-process stand-in for a socket). Each
message is marked done only once the consumer has taken it and asks for the next, so
``queue.join()`` tells a test that the engine's inbox holds everything sent so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.adapter_recipe.venue import mapping
from tests.adapter_recipe.venue.wire import private_message, trade_message
from trading.domain import TradePrint
from trading.domain.orders import FillReport, OrderReport
from trading.events import FeedGapped

_END = ""  # put by ``stop``: the iterator ends


class TernTradeFeed:
    def __init__(self, tape: asyncio.Queue[str], markets: tuple[str, ...]) -> None:
        self._tape = tape
        self._symbols = {mapping.symbol(m) for m in markets}

    async def start(self) -> None:
        """Nothing to connect in-process; a socket client would subscribe to the symbols."""

    async def stop(self) -> None:
        self._tape.put_nowait(_END)

    async def prints(self) -> AsyncIterator[TradePrint]:
        while True:
            text = await self._tape.get()
            try:
                if text == _END:
                    return
                trade = trade_message(text)
                if trade.symbol in self._symbols:
                    yield mapping.trade_print(trade)
            finally:
                self._tape.task_done()

    def take_gaps(self) -> list[FeedGapped]:
        return []  # an in-process queue never drops


class TernPrivateStream:
    def __init__(self, queue: asyncio.Queue[str]) -> None:
        self._queue = queue

    async def stop(self) -> None:
        self._queue.put_nowait(_END)

    async def reports(self) -> AsyncIterator[FillReport | OrderReport]:
        while True:
            text = await self._queue.get()
            try:
                if text == _END:
                    return
                message = private_message(text)
                report = None if message is None else mapping.stream_report(message)
                if report is not None:
                    yield report
            finally:
                self._queue.task_done()
