"""Upbit's public ``trade`` stream as a ``trading.marketdata.feeds.Feed`` of ``TradePrint``s."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from trading.domain import TradePrint
from trading.events import Event, EventSink, FeedGapped, ignore_event
from trading.upbit.ws_client import Subscription, UpbitWebSocket
from trading.upbit.ws_messages import Trade

#: sequential ids remembered per market to drop the snapshot trade re-sent on reconnect
_SEEN_IDS = 512


def to_print(trade: Trade) -> TradePrint:
    return TradePrint(
        market=trade.code,
        price=trade.trade_price,
        volume=trade.trade_volume,
        at=trade.trade_timestamp,
        ask_bid=trade.ask_bid,
        sequential_id=trade.sequential_id,
    )


class UpbitTradeFeed:
    """The public ``trade`` stream of ``markets`` as ``TradePrint``s.

    The socket reconnects on its own; each reconnect is a ``FeedGapped`` that is forwarded to
    ``on_event`` and kept for ``take_gaps()``. Upbit re-sends the latest trade as a snapshot on
    every (re)subscription; trades already seen (by ``sequential_id``) are dropped.
    """

    def __init__(
        self,
        url: str,
        markets: Sequence[str],
        *,
        on_event: EventSink = ignore_event,
        name: str = "trades",
        **ws_options: Any,
    ) -> None:
        if not markets:
            raise ValueError("at least one market is required")
        self.markets = tuple(m.upper() for m in markets)
        self._on_event = on_event
        self._gaps: list[FeedGapped] = []
        self._seen: dict[str, tuple[deque[int], set[int]]] = {}
        self.duplicates = 0
        self.ws = UpbitWebSocket(
            url,
            [Subscription("trade", self.markets)],
            on_event=self._event,
            name=name,
            **ws_options,
        )

    async def start(self) -> None:
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def resubscribe(self, markets: Sequence[str]) -> None:
        """Trade prints of ``markets`` from now on (the universe changed)."""
        self.markets = tuple(m.upper() for m in markets)
        await self.ws.resubscribe([Subscription("trade", self.markets)])

    async def wait_connected(self) -> None:
        await self.ws.wait_connected()

    def take_gaps(self) -> list[FeedGapped]:
        gaps, self._gaps = self._gaps, []
        return gaps

    async def prints(self) -> AsyncIterator[TradePrint]:
        async for msg in self.ws.messages():
            if isinstance(msg, Trade) and not self._duplicate(msg):
                yield to_print(msg)

    def _event(self, event: Event) -> None:
        if isinstance(event, FeedGapped):
            self._gaps.append(event)
        self._on_event(event)

    def _duplicate(self, trade: Trade) -> bool:
        order, ids = self._seen.setdefault(trade.code, (deque(), set()))
        if trade.sequential_id in ids:
            self.duplicates += 1
            return True
        order.append(trade.sequential_id)
        ids.add(trade.sequential_id)
        if len(order) > _SEEN_IDS:
            ids.discard(order.popleft())
        return False
