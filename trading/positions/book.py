"""``PositionBook``: every market's position, persisted on each change and restored on start.

The book applies a trigger, writes the new position to the store, and only then keeps it and
publishes its events: a failed write leaves memory and database agreeing on the old state, and
subscribers never hear of a change that a restart would forget. A per-market lock serializes
triggers, because the await on the store would otherwise let two reports for one market
interleave and lose an update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from trading.events import EventSink, PositionClosed, ignore_event
from trading.positions import triggers as tr
from trading.positions.machine import apply, can_enter
from trading.positions.model import ExitReason, Position, PositionRules, PositionState

if TYPE_CHECKING:  # the store (SQLAlchemy) is not loaded for a backtest that never needs it
    from trading.store.records import PositionRecord

#: Bumped when the ``extra`` layout changes, so an old row is recognised, not misread.
EXTRA_VERSION = 1
_DECIMALS = (
    "entry_volume",
    "entry_cost",
    "entry_fees",
    "exit_volume",
    "exit_proceeds",
    "dust",
    "dust_cost",
)


class PositionStore(Protocol):
    """The part of ``trading.store.Store`` the book needs; ``None`` keeps a backtest in memory."""

    async def upsert_position(
        self,
        market: str,
        *,
        state: str,
        volume: Decimal,
        avg_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        opened_at: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> PositionRecord: ...

    async def positions(self) -> list[PositionRecord]: ...


def to_extra(p: Position) -> dict[str, Any]:
    """Everything the columns do not hold; Decimals as strings so they stay exact in JSON."""
    return {
        "v": EXTRA_VERSION,
        **{name: str(getattr(p, name)) for name in _DECIMALS},
        "exit_fees": str(p.exit_fees),
        "take_profit_price": None if p.take_profit_price is None else str(p.take_profit_price),
        "stop_trailing": p.stop_trailing,
        "high_water": None if p.high_water is None else str(p.high_water),
        "stop_atr_pending": p.stop_atr_pending,
        "intent_id": p.intent_id,
        "exit_reason": None if p.exit_reason is None else p.exit_reason.value,
        "exit_bar": None if p.exit_bar is None else p.exit_bar.isoformat(),
        "cooldown_bars": p.cooldown_bars,
        "cooldown_remaining": p.cooldown_remaining,
    }


def from_record(record: PositionRecord) -> Position:
    """The position a row describes, exactly as it was saved."""
    extra: Mapping[str, Any] = record.extra or {}
    if extra.get("v", EXTRA_VERSION) != EXTRA_VERSION:
        raise ValueError(f"{record.market}: unknown position layout v={extra.get('v')!r}")
    take_profit, exit_reason, exit_bar = (
        extra.get("take_profit_price"),
        extra.get("exit_reason"),
        extra.get("exit_bar"),
    )
    return Position(
        market=record.market,
        state=PositionState(record.state),
        volume=record.volume,
        **{name: Decimal(extra.get(name, "0")) for name in (*_DECIMALS, "exit_fees")},
        stop_price=record.stop_price,
        take_profit_price=None if take_profit is None else Decimal(take_profit),
        stop_trailing=bool(extra.get("stop_trailing", False)),
        high_water=None if extra.get("high_water") is None else Decimal(extra["high_water"]),
        stop_atr_pending=extra.get("stop_atr_pending"),  # absent from older rows: None
        intent_id=extra.get("intent_id"),
        opened_at=record.opened_at,
        exit_reason=None if exit_reason is None else ExitReason(exit_reason),
        exit_bar=None if exit_bar is None else datetime.fromisoformat(exit_bar),
        cooldown_bars=int(extra.get("cooldown_bars", 0)),
        cooldown_remaining=int(extra.get("cooldown_remaining", 0)),
    )


class PositionBook:
    """The engine's view of every market's position; a market never seen is flat."""

    def __init__(
        self,
        rules: PositionRules,
        store: PositionStore | None = None,
        sink: EventSink = ignore_event,
    ) -> None:
        self.rules = rules
        self._store = store
        self._sink = sink
        self._positions: dict[str, Position] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: told of each closed round trip after it is stored and published (the engine feeds
        #: the risk gate's protections with it); None: nobody listens
        self.on_closed: Callable[[PositionClosed], Awaitable[None]] | None = None

    async def load(self) -> dict[str, Position]:
        """Restore every stored market (state, order in flight, cooldown) before trading."""
        if self._store is not None:
            records = await self._store.positions()
            self._positions = {rec.market: from_record(rec) for rec in records}
        return dict(self._positions)

    def get(self, market: str) -> Position:
        return self._positions.get(market) or Position(market)

    def all(self) -> dict[str, Position]:
        return dict(self._positions)

    def can_enter(
        self, market: str, bar_start: datetime, *, intrabar: bool = False
    ) -> tuple[bool, str]:
        return can_enter(self.get(market), bar_start, self.rules, intrabar=intrabar)

    async def apply(self, market: str, trigger: tr.Trigger) -> Position:
        """Apply, persist, remember, publish; raises ``PositionError`` and changes nothing
        if the trigger is illegal."""
        async with self._locks.setdefault(market, asyncio.Lock()):
            return await self._apply_locked(market, trigger)

    async def _apply_locked(self, market: str, trigger: tr.Trigger) -> Position:
        old = self.get(market)
        new, events = apply(old, trigger, self.rules)
        if new != old:
            await self._save(new)
            self._positions[market] = new
        for event in events:
            self._sink(event)
        if self.on_closed is not None:
            for event in events:
                if isinstance(event, PositionClosed):
                    await self.on_closed(event)
        return new

    async def _save(self, p: Position) -> None:
        if self._store is None:
            return
        await self._store.upsert_position(
            p.market,
            state=p.state.value,
            volume=p.volume,
            avg_price=p.avg_entry_price,
            stop_price=p.stop_price,
            opened_at=p.opened_at,
            extra=to_extra(p),
        )

    # -- one method per trigger, for readable engine code ------------------------------------

    async def entry_submitted(
        self,
        market: str,
        intent_id: str,
        *,
        stop_price: Decimal | None = None,
        take_profit_price: Decimal | None = None,
    ) -> Position:
        return await self.apply(
            market, tr.EntrySubmitted(intent_id, stop_price, take_profit_price)
        )

    async def entry_filled(
        self,
        market: str,
        volume: Decimal,
        price: Decimal,
        fee: Decimal,
        complete: bool,
        *,
        at: datetime,
        intent_id: str | None = None,
    ) -> Position:
        return await self.apply(
            market, tr.EntryFilled(volume, price, fee, complete, at, intent_id)
        )

    async def entry_failed(
        self, market: str, reason: str, *, intent_id: str | None = None
    ) -> Position:
        return await self.apply(market, tr.EntryFailed(reason, intent_id))

    async def exit_submitted(
        self, market: str, intent_id: str, reason: ExitReason, *, dust: Decimal = Decimal(0)
    ) -> Position:
        return await self.apply(market, tr.ExitSubmitted(intent_id, reason, dust))

    async def exit_filled(
        self,
        market: str,
        volume: Decimal,
        price: Decimal,
        fee: Decimal,
        complete: bool,
        *,
        at: datetime,
        intent_id: str | None = None,
    ) -> Position:
        return await self.apply(market, tr.ExitFilled(volume, price, fee, complete, at, intent_id))

    async def exit_failed(
        self, market: str, reason: str, *, intent_id: str | None = None
    ) -> Position:
        return await self.apply(market, tr.ExitFailed(reason, intent_id))

    async def order_ended(
        self, market: str, intent_id: str, reason: str
    ) -> tuple[PositionState, Position] | None:
        """End the order ``intent_id`` the position waits on, once: the refusal of a send and
        the exchange's own "rejected" can both report one order's end, from two tasks.
        Returns (the state it ended from, the position after); None if the position no longer
        waits on it (the other report came first)."""
        async with self._locks.setdefault(market, asyncio.Lock()):
            position = self.get(market)
            if position.intent_id != intent_id:
                return None
            failed: tr.Trigger = (
                tr.EntryFailed(reason, intent_id)
                if position.state is PositionState.ENTERING
                else tr.ExitFailed(reason, intent_id)
            )
            return position.state, await self._apply_locked(market, failed)

    async def candle_closed(self, market: str, bar_start: datetime) -> Position:
        return await self.apply(market, tr.BarClosed(bar_start))

    async def stop_moved(
        self,
        market: str,
        price: Decimal,
        *,
        trailing: bool = False,
        high_water: Decimal | None = None,
        atr_pending: bool | None = None,
    ) -> Position:
        return await self.apply(market, tr.MoveStop(price, trailing, high_water, atr_pending))

    async def set_aside(self, market: str, reason: str, *, at: datetime | None = None) -> Position:
        return await self.apply(market, tr.SetAside(reason, at))

    async def adjust(
        self, market: str, holding: Decimal, reason: str, *, expect: Position | None = None
    ) -> Position | None:
        """Adopt the account's smaller ``holding``; with ``expect``, only if the position is
        still that one (the balances were read before any later change), else None."""
        async with self._locks.setdefault(market, asyncio.Lock()):
            if expect is not None and self.get(market) != expect:
                return None
            return await self._apply_locked(market, tr.Adjust(holding, reason))
