"""Acting on Upbit's warnings and delistings: the gate's sets.

``MarketWatch.poll`` reads every configured market's status (``read_statuses``) and hands it
to ``apply``, which updates the gate's ``MarketLifecycle``: from then on the gate refuses
entries into a warned or closing market, every signal and ``/buy`` alike.

The bot calls ``poll`` once before the feed starts and then every ``upbit.market_status_poll_s``
(``run``), only where it talks to Upbit's quotation API at all (live mode, or ``bot.feed =
"upbit"``): a replay has no such news, and its gate stays as open as a backtest's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from trading.engine.core import Engine
from trading.errors import UpbitError
from trading.events import EventSink
from trading.marketdata.lifecycle import StatusSource, read_statuses
from trading.risk.lifecycle import MarketStatus, StatusChange

log = logging.getLogger(__name__)
#: what a failed read raises: the client's errors, pydantic's for an answer of another shape
READ_ERRORS = (UpbitError, ValueError)


class MarketWatch:
    """Keeps the engine's view of Upbit's designations current; one per engine."""

    def __init__(self, engine: Engine, source: StatusSource, *, sink: EventSink) -> None:
        self.engine = engine
        self.source = source
        self._sink = sink

    async def poll(self) -> None:
        """Read and apply every configured market's status (an ``UpbitError`` propagates and
        the last statuses stay in force)."""
        await self.apply(await read_statuses(self.source, self.engine.config.markets))

    async def run(self, interval_s: float) -> None:
        """``poll`` every ``interval_s`` until cancelled; a failed read (the exchange down, an
        answer that does not parse) is logged and retried next time, never the bot's end."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.poll()
            except READ_ERRORS as exc:
                log.warning("Upbit market status not read (the last one stays): %s", exc)

    async def apply(self, statuses: Iterable[MarketStatus]) -> None:
        """Take ``statuses``: the gate refuses entries into what they flag."""
        for change in self.engine.gate.lifecycle.update(statuses):
            _log(change)


def _log(change: StatusChange) -> None:
    new = change.new
    if new.closing:
        log.warning("%s: Upbit %s: no new entries", new.market, new.state_text)
    elif new.warned:
        flags = "유의종목" if new.warning else ", ".join(new.cautions)
        log.warning("%s: Upbit investment warning (%s): no new entries", new.market, flags)
    else:
        log.info("%s: Upbit lifted its warning or delisting: entries allowed", new.market)
