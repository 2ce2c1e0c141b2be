"""The paper exchange: real market data in, simulated fills out, no keys.

It implements ``trading.exchange.Exchange`` in the neutral order model, simulating Upbit: the
live adapter's market rules, Upbit's lock and fee arithmetic and error names, so the engine and
``OrderSubmitter`` cannot tell it from the live client. Like Upbit, ``submit`` answers with the
acknowledgement (open, nothing executed); fills are visible through ``fetch_order`` and
``on_fill``. ``place``, ``get_order`` and ``cancel_order`` show the simulated venue's own
records (locks, reserved fees), which its tests check to the digit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.domain import TradePrint
from trading.domain.balance import Balance
from trading.domain.book import BookSnapshot
from trading.domain.orders import BOOK_SIDE, OrderReport, OrderStatus, OrderType, SubmitOrder
from trading.domain.rules import MarketRules
from trading.errors import InsufficientFunds, InvalidOrder, MarketOffline, NotFound
from trading.errors import ValidationError as UpbitValidationError
from trading.paper.book import MarketData
from trading.paper.intake import need_identifier, new_order, rest_of
from trading.paper.ledger import Ledger
from trading.paper.matching import Matcher
from trading.paper.orders import PaperFill, PaperOrder
from trading.paper.persist import STATE_KEY, StateStore, dump_state, restore_state
from trading.timeframes import KST

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def kst_now() -> datetime:
    return datetime.now(KST)


class PaperExchange:
    """Upbit's order engine for one simulated account; see the package docstring for use."""

    def __init__(
        self,
        rules: MarketRules,
        *,
        start_krw: Decimal,
        fee_rate: Decimal = Decimal("0.0005"),
        slippage_bps: Decimal = Decimal(5),
        clock: Clock = kst_now,
        store: StateStore | None = None,
        on_fill: Callable[[PaperFill], None] | None = None,
        on_order: Callable[[OrderReport], None] | None = None,
        max_closed_orders: int = 1000,
    ) -> None:
        self.rules = rules
        self.fee_rate = fee_rate
        self.start_krw = start_krw
        self.on_fill = on_fill
        self.on_order = on_order
        self._clock = clock
        self._store = store
        self._max_closed = max_closed_orders
        self.ledger = Ledger()
        self.ledger.move("KRW", free=start_krw)
        self.market = MarketData(self.rules, slippage_bps)
        self._matcher = Matcher(
            self.ledger, self.market, fee_rate, self._now, self.rules.volume_step
        )
        self.orders: dict[str, PaperOrder] = {}
        self.by_identifier: dict[str, str] = {}
        self.used_identifiers: set[str] = set()
        self.closed: deque[str] = deque()
        self.seq = 0
        self._version = 0
        self._saved_version = 0
        self._save_lock = asyncio.Lock()

    @classmethod
    async def load(cls, store: StateStore, rules: MarketRules, **kwargs: Any) -> PaperExchange:
        """The account saved in ``store``; a fresh one with ``start_krw`` if none was saved."""
        exchange = cls(rules, store=store, **kwargs)
        saved = await store.get_state(STATE_KEY)
        if saved is None:
            exchange._version += 1
            await exchange._save()
        else:
            restore_state(exchange, saved)
        return exchange

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the paper exchange clock must return timezone-aware datetimes")
        return moment.astimezone(KST)

    # -- market data -----------------------------------------------------------------------

    async def on_trade(self, trade: TradePrint) -> list[PaperFill]:
        """A print on the tape: the new last price; fills resting limits it reaches."""
        self.market.last[trade.market] = trade.price
        resting = [
            o
            for o in self.orders.values()
            if o.market == trade.market
            and o.state is OrderStatus.OPEN
            and o.type is OrderType.LIMIT
        ]
        if resting:
            self._matcher.on_print(resting, trade.price, trade.volume)
        return await self._settle()

    def set_orderbook(
        self,
        market: str,
        asks: Iterable[tuple[Decimal, Decimal]],
        bids: Iterable[tuple[Decimal, Decimal]],
    ) -> None:
        """Replace the book (price/size levels, best first). It feeds takers only."""
        self.market.set_book(market, asks, bids, self._now())

    def last_price(self, market: str) -> Decimal | None:
        return self.market.last.get(market)

    # -- the Exchange protocol -------------------------------------------------------------

    def check(self, order: SubmitOrder) -> None:
        """The live adapter's checks: the market rules, at the order's reference price."""
        self.rules.check_submit(order, reference_price=order.reference_price)

    async def submit(self, order: SubmitOrder, identifier: str) -> OrderReport:
        return (await self.place(order, identifier)).to_report()

    async def fetch_order(
        self, *, order_id: str | None = None, identifier: str | None = None
    ) -> OrderReport:
        return self._find(order_id, identifier).to_report(with_fills=True)

    async def cancel(self, order_id: str) -> OrderReport:
        return (await self.cancel_order(uuid=order_id)).to_report()

    async def list_open(self, market: str | None = None) -> list[OrderReport]:
        found = [o for o in self.orders.values() if o.is_open]
        found.sort(key=lambda o: o.seq, reverse=True)
        return [o.to_report() for o in found if market is None or o.market == market]

    def check_replace(self, prev_order_id: str, order: SubmitOrder) -> None:
        self.check(order)

    async def replace_order(self, prev_order_id: str, order: SubmitOrder, identifier: str) -> None:
        """Upbit's cancel-and-new (reference §5.14): the old order is cancelled, then the new
        one (a limit for the old one's remainder) goes out. Paper cancels complete at once, so
        nothing can fill in between; a refusal changes nothing but the identifier, which is
        used up as on Upbit."""
        prev = self._find(prev_order_id, None)
        need_identifier(identifier)
        if identifier == prev.identifier:
            raise UpbitValidationError(
                "new_identifier must differ from the old order's",
                name="validation_error",
                status=400,
            )
        self._claim(identifier)
        try:
            _check_open(prev)
            new = self._validated(rest_of(order, prev), identifier, released=prev.locked)
        except Exception:
            await self._save()
            raise
        self._matcher.finish(prev, OrderStatus.CANCELLED)
        self._open(new)
        await self._settle()

    # -- the simulated venue, as its own tests read it ---------------------------------------

    async def place(self, order: SubmitOrder, identifier: str) -> PaperOrder:
        """Validate, lock and match; answers with the acknowledgement (open, nothing executed)
        like the venue. The identifier is used up even when the order is refused (Upbit's
        reference §5.5)."""
        need_identifier(identifier)
        self._claim(identifier)
        try:
            paper = self._validated(order, identifier)
        except Exception:
            await self._save()
            raise
        ack = self._open(paper)
        await self._settle()
        return ack

    async def get_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> PaperOrder:
        """A copy of the order now, with its trades and its lock and fee amounts."""
        return _snapshot(self._find(uuid, identifier))

    async def cancel_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> PaperOrder:
        """The order as it was when the cancel was accepted (open); its locks go free."""
        order = self._find(uuid, identifier)
        _check_open(order)
        snapshot = _snapshot(order)
        self._matcher.finish(order, OrderStatus.CANCELLED)
        await self._settle()
        return snapshot

    async def accounts(self) -> list[Balance]:
        return self.ledger.accounts()

    async def orderbook(self, markets: Sequence[str], *, count: int = 30) -> list[BookSnapshot]:
        """The books fed in by ``set_orderbook``; markets without one are left out."""
        books = (self.market.snapshot(m, count) for m in markets)
        return [b for b in books if b is not None]

    # -- internals -------------------------------------------------------------------------

    def _claim(self, identifier: str) -> None:
        """An identifier is used once, forever, even by a refused order (reference §5.5)."""
        if identifier in self.used_identifiers:
            raise InvalidOrder(
                f"identifier {identifier} was already used", name="duplicate_identifier"
            )
        self.used_identifiers.add(identifier)
        self._version += 1

    def _open(self, order: PaperOrder) -> PaperOrder:
        """Book a validated order: lock its funds, match it; returns the acknowledgement."""
        self.seq += 1
        self.orders[order.uuid] = order
        if order.identifier is not None:
            self.by_identifier[order.identifier] = order.uuid
        self._matcher.reserve(order)
        ack = _snapshot(order)
        self._matcher.take(order)
        return ack

    def _find(self, uuid: str | None, identifier: str | None) -> PaperOrder:
        if bool(uuid) == bool(identifier):
            raise UpbitValidationError(
                "pass exactly one of uuid or identifier", name="client_order_id"
            )
        key = uuid if uuid else self.by_identifier.get(identifier or "", "")
        order = self.orders.get(key or "")
        if order is None:
            raise NotFound("주문을 찾지 못했습니다.", name="order_not_found", status=404)
        return order

    def _validated(
        self, cmd: SubmitOrder, identifier: str | None, released: Decimal = Decimal(0)
    ) -> PaperOrder:
        """``released``: what a cancel going first frees in the currency this order locks."""
        limit = cmd.type is OrderType.LIMIT
        reference = self.market.reference_price(cmd.market, cmd.side)
        self.rules.check_submit(cmd, reference_price=None if limit else reference)
        order = new_order(cmd, identifier, seq=self.seq + 1, created_at=self._now())
        market = cmd.market
        currency, lock, order.reserved_fee = self._matcher.lock_for(order)
        order.locked = lock
        if self.ledger.free.get(currency, Decimal(0)) + released < lock:
            raise InsufficientFunds(
                f"not enough free {currency} ({lock} needed)",
                name=f"insufficient_funds_{BOOK_SIDE[cmd.side]}",
                status=400,
            )
        if not limit and reference is None:
            raise MarketOffline(
                f"paper exchange has no order book or last trade for {market}",
                name="paper_no_price",
                status=403,
            )
        return order

    async def _settle(self) -> list[PaperFill]:
        """Deliver the last operation's fills and order changes, then persist."""
        fills, touched = self._matcher.drain()
        for order in touched:
            if not order.is_open and order.uuid not in self.closed:
                self.closed.append(order.uuid)
        self._evict()
        if touched:
            self._version += 1
        for fill in fills:
            _deliver(self.on_fill, fill)
        for order in touched:
            _deliver(self.on_order, order.to_report())
        await self._save()
        return fills

    def _evict(self) -> None:
        """Keep the last ``max_closed_orders`` finished orders; identifiers stay used forever."""
        while len(self.closed) > self._max_closed:
            old = self.orders.pop(self.closed.popleft(), None)
            if old is not None and old.identifier is not None:
                self.by_identifier.pop(old.identifier, None)

    async def _save(self) -> None:
        """Write the latest state; the lock keeps an older snapshot from landing last."""
        if self._store is None:
            return
        async with self._save_lock:
            if self._saved_version == self._version:
                return
            version = self._version
            await self._store.set_state(STATE_KEY, dump_state(self))
            self._saved_version = version


def _check_open(order: PaperOrder) -> None:
    """Only an open order can be cancelled (a filled one is ``order_not_found``, as live)."""
    if not order.is_open:
        raise NotFound(f"order {order.uuid} is not open", name="order_not_found", status=404)


def _deliver(callback: Callable[[Any], None] | None, value: object) -> None:
    """A failing subscriber must not undo a fill that already happened."""
    if callback is None:
        return
    try:
        callback(value)
    except Exception:
        log.exception("paper exchange subscriber failed on %r", value)


def _snapshot(order: PaperOrder) -> PaperOrder:
    """A copy the caller may keep: the exchange goes on changing its own."""
    return replace(order, trades=list(order.trades))
