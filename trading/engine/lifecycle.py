"""Acting on Upbit's warnings and delistings: the gate's sets, the chat's alerts, the exit rule.

``MarketWatch.poll`` reads every configured market's status (``read_statuses``) and hands it
to ``apply``, which

1. updates the gate's ``MarketLifecycle`` (from then on the gate refuses entries into a warned
   or closing market, every signal and ``/buy`` alike);
2. sends ``MarketStatusChanged`` for a held market whose warning or delisting was set, moved
   or lifted (a market the bot does not hold only stops being entered: ``/risk`` says so);
3. sells, through the engine's normal exit path, a held market whose delisting is no more than
   ``risk.exit_before_delisting_days`` away (0 = never: the user decides).

The bot calls ``poll`` once before the feed starts and then every ``upbit.market_status_poll_s``
(``run``), only where it talks to Upbit's quotation API at all (live mode, or ``bot.feed =
"upbit"``): a replay has no such news, and its gate stays as open as a backtest's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import date, timedelta

from trading.engine.account import HOLDING
from trading.engine.core import Engine
from trading.errors import UpbitError
from trading.events import EventSink, MarketStatusChanged
from trading.marketdata.lifecycle import StatusSource, read_statuses
from trading.positions import ExitReason, PositionState
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

    async def poll(self) -> list[MarketStatusChanged]:
        """Read and apply every configured market's status (an ``UpbitError`` propagates and
        the last statuses stay in force)."""
        return await self.apply(await read_statuses(self.source, self.engine.traded))

    async def run(self, interval_s: float) -> None:
        """``poll`` every ``interval_s`` until cancelled; a failed read (the exchange down, an
        answer that does not parse) is logged and retried next time, never the bot's end."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.poll()
            except READ_ERRORS as exc:
                log.warning("Upbit market status not read (the last one stays): %s", exc)

    async def apply(self, statuses: Iterable[MarketStatus]) -> list[MarketStatusChanged]:
        """Take ``statuses``; the alerts sent. Then sell what the exit rule says is due."""
        engine = self.engine
        sent = []
        for change in engine.gate.lifecycle.update(statuses):
            _log(change)
            if engine.positions.get(change.market).state not in HOLDING or not _news(change):
                continue
            event = self._alert(change)
            self._sink(event)
            sent.append(event)
        await self.exit_due()
        return sent

    def exit_day(self, status: MarketStatus) -> date | None:
        """The day the exit rule sells ``status.market``; None when it never does."""
        days = self.engine.limits.exit_before_delisting_days
        if not days or status.delisting_date is None:
            return None
        return status.delisting_date - timedelta(days=days)

    async def exit_due(self) -> list[str]:
        """Sell every held market whose exit day has come (in the bot's zone); the markets
        sold. One that fails to sell is tried again at the next poll."""
        engine = self.engine
        lifecycle = engine.gate.lifecycle
        today = engine.market_time().astimezone(engine.limits.zone).date()
        sold = []
        for market in sorted(lifecycle.closing):
            status = lifecycle.statuses[market]
            day = self.exit_day(status)
            if day is None or today < day:
                continue
            if engine.positions.get(market).state is not PositionState.LONG:
                continue
            days = engine.limits.exit_before_delisting_days
            reason = (
                f"Upbit delists {market} on {status.delisting_date}: sold {days} day(s) before"
                " (risk.exit_before_delisting_days)"
            )
            if await engine.exit(market, ExitReason.RISK, reason):
                sold.append(market)
        return sold

    def _alert(self, change: StatusChange) -> MarketStatusChanged:
        old, new = change.old, change.new
        return MarketStatusChanged(
            market=new.market,
            warned=new.warned,
            was_warned=old is not None and old.warned,
            closing=new.closing,
            was_closing=old is not None and old.closing,
            warning=new.warning,
            cautions=new.cautions,
            delisting_date=new.delisting_date,
            state=new.state,
            listed=new.listed,
            exit_on=self.exit_day(new),
        )


def _news(change: StatusChange) -> bool:
    """A warning or a delisting set, lifted or re-dated (a caution flag swapped for another
    while the market stays warned is not worth a push)."""
    old, new = change.old, change.new
    if old is None:
        return new.warned or new.closing
    return (old.warned, old.closing, old.delisting_date) != (
        new.warned,
        new.closing,
        new.delisting_date,
    )


def _log(change: StatusChange) -> None:
    new = change.new
    if new.closing:
        log.warning("%s: Upbit %s: no new entries", new.market, new.state_text)
    elif new.warned:
        flags = "유의종목" if new.warning else ", ".join(new.cautions)
        log.warning("%s: Upbit investment warning (%s): no new entries", new.market, flags)
    else:
        log.info("%s: Upbit lifted its warning or delisting: entries allowed", new.market)
