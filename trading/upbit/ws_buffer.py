"""Bounded hand-off between the socket reader and one consumer, with a per-type drop policy.

Ticker, orderbook and candle messages are superseded by the next one, so when the consumer
falls behind we drop the *oldest* of those and count it. Trades and private events
(myOrder/myAsset) are never dropped: when only they fill the buffer the reader waits a
little, then overfills by one and reports overflow so the client can disconnect — the
reconnect emits ``FeedGapped`` and the engine resyncs over REST instead of losing a fill quietly.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from trading.upbit.ws_messages import Candle, Orderbook, Ticker, WsMessage

DROPPABLE: Final = (Ticker, Orderbook, Candle)


def is_droppable(msg: WsMessage) -> bool:
    return isinstance(msg, DROPPABLE)


class WsBuffer:
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self.drops = 0
        self._items: deque[WsMessage] = deque()
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _evict_oldest_droppable(self) -> bool:
        for i, item in enumerate(self._items):
            if is_droppable(item):
                del self._items[i]
                self.drops += 1
                return True
        return False

    def _append(self, msg: WsMessage) -> None:
        self._items.append(msg)
        self._notify()

    async def put(self, msg: WsMessage, *, stall_timeout_s: float) -> bool:
        """Enqueue ``msg``; False means a non-droppable message overfilled the buffer."""
        if len(self._items) < self.maxsize or self._evict_oldest_droppable():
            self._append(msg)
            return True
        if is_droppable(msg):  # buffer holds only trades/private events: they win
            self.drops += 1
            return True
        try:
            async with asyncio.timeout(stall_timeout_s):
                await self.wait_not_full()
        except TimeoutError:
            self._append(msg)
            return False
        self._append(msg)
        return True

    async def get(self) -> WsMessage | None:
        """Next message, or None once closed and drained."""
        while not self._items:
            if self._closed:
                return None
            await self._changed.wait()
        msg = self._items.popleft()
        self._notify()
        return msg

    def get_nowait(self) -> WsMessage | None:
        if not self._items:
            return None
        msg = self._items.popleft()
        self._notify()
        return msg

    async def wait_not_full(self) -> None:
        while len(self._items) >= self.maxsize and not self._closed:
            await self._changed.wait()

    def close(self) -> None:
        self._closed = True
        self._notify()
