"""The paper exchange: real market data in, simulated fills out, no keys.

It implements ``trading.exchange.Exchange`` with the live client's validation, Upbit's order
states, lock and fee arithmetic and error names, so the engine and ``OrderSubmitter`` cannot
tell it from ``UpbitRestClient``. Like Upbit, ``create_order`` answers with the acknowledgement
(``state: wait``, nothing executed); fills are visible through ``get_order`` and ``on_fill``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.domain import TradePrint
from trading.errors import InsufficientFunds, InvalidOrder, MarketOffline, NotFound
from trading.errors import ValidationError as UpbitValidationError
from trading.exchange import OrdType, Side
from trading.paper.body import new_order_body, parse_body
from trading.paper.book import MarketData
from trading.paper.ledger import Ledger
from trading.paper.matching import Matcher
from trading.paper.orders import PaperFill, PaperOrder
from trading.paper.persist import STATE_KEY, StateStore, dump_state, restore_state
from trading.upbit.market_rules import MarketRules
from trading.upbit.models import KST, Account, CancelAndNewResult, Order, Orderbook
from trading.upbit.order_body import build_body, build_cancel_and_new_body

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def kst_now() -> datetime:
    return datetime.now(KST)


class PaperExchange:
    """Upbit's order engine for one simulated account; see the package docstring for use."""

    def __init__(
        self,
        rules: MarketRules | None = None,
        *,
        start_krw: Decimal,
        fee_rate: Decimal = Decimal("0.0005"),
        slippage_bps: Decimal = Decimal(5),
        clock: Clock = kst_now,
        store: StateStore | None = None,
        on_fill: Callable[[PaperFill], None] | None = None,
        on_order: Callable[[Order], None] | None = None,
        max_closed_orders: int = 1000,
    ) -> None:
        self.rules = rules or MarketRules()
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
        self._matcher = Matcher(self.ledger, self.market, fee_rate, self._now)
        self.orders: dict[str, PaperOrder] = {}
        self.by_identifier: dict[str, str] = {}
        self.used_identifiers: set[str] = set()
        self.closed: deque[str] = deque()
        self.seq = 0
        self._version = 0
        self._saved_version = 0
        self._save_lock = asyncio.Lock()

    @classmethod
    async def load(
        cls, store: StateStore, rules: MarketRules | None = None, **kwargs: Any
    ) -> PaperExchange:
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
            if o.market == trade.market and o.state == "wait" and o.ord_type == "limit"
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

    def apply_orderbook(self, book: Orderbook) -> None:
        units = book.orderbook_units
        self.set_orderbook(
            book.market,
            [(u.ask_price, u.ask_size) for u in units],
            [(u.bid_price, u.bid_size) for u in units],
        )

    def last_price(self, market: str) -> Decimal | None:
        return self.market.last.get(market)

    # -- the Exchange protocol -------------------------------------------------------------

    def order_body(
        self,
        *,
        market: str,
        side: Side,
        ord_type: OrdType,
        identifier: str,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        time_in_force: str | None = None,
        smp_type: str | None = None,
        reference_price: Decimal | None = None,
    ) -> dict[str, str]:
        """Exactly ``UpbitRestClient.order_body``: same checks, same body."""
        return build_body(
            self.rules,
            market=market,
            side=side,
            ord_type=ord_type,
            identifier=identifier,
            price=price,
            volume=volume,
            time_in_force=time_in_force,
            smp_type=smp_type,
            reference_price=reference_price,
        )

    async def create_order(self, body: dict[str, str], *, test: bool = False) -> Order:
        """Validate, lock and match; answers with the acknowledgement like Upbit.

        A real order consumes its identifier even when refused (reference §5.5); ``test``
        validates without creating anything or consuming the identifier.
        """
        identifier = body.get("identifier") or None
        if identifier is not None and not test:
            self._claim(identifier)
        try:
            order = self._validated(body, identifier)
        except Exception:
            await self._save()
            raise
        if test:
            return order.to_order()
        ack = self._open(order)
        await self._settle()
        return ack

    def cancel_and_new_body(
        self,
        *,
        prev_uuid: str,
        market: str,
        side: Side,
        new_identifier: str,
        price: Decimal,
        volume: Decimal,
        time_in_force: str | None = None,
        smp_type: str | None = None,
    ) -> dict[str, str]:
        """Exactly ``UpbitRestClient.cancel_and_new_body``."""
        return build_cancel_and_new_body(
            self.rules,
            prev_uuid=prev_uuid,
            market=market,
            side=side,
            new_identifier=new_identifier,
            price=price,
            volume=volume,
            time_in_force=time_in_force,
            smp_type=smp_type,
        )

    async def cancel_and_new(self, body: dict[str, str]) -> CancelAndNewResult:
        """Upbit's cancel-and-new (reference §5.14): the old order is cancelled, then the new
        one (``remain_only``: the old one's remainder) goes out. Paper cancels complete at
        once, so nothing can fill in between; a refusal changes nothing but the identifier,
        which is used up as on Upbit."""
        prev_uuid = body.get("prev_order_uuid") or None
        prev = self._find(prev_uuid, None if prev_uuid else body.get("prev_order_identifier"))
        identifier = body.get("new_identifier") or None
        if identifier is not None:
            if identifier == prev.identifier:
                raise UpbitValidationError(
                    "new_identifier must differ from the old order's",
                    name="validation_error",
                    status=400,
                )
            self._claim(identifier)
        try:
            _check_open(prev)
            order = self._validated(new_order_body(body, prev), identifier, released=prev.locked)
        except Exception:
            await self._save()
            raise
        snapshot = prev.to_order()
        self._matcher.finish(prev, "cancel")
        self._open(order)
        await self._settle()
        return CancelAndNewResult(
            **snapshot.model_dump(), new_order_uuid=order.uuid, new_order_identifier=identifier
        )

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        return self._find(uuid, identifier).to_order(with_trades=True)

    async def cancel_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> Order:
        """The order as it was when the cancel was accepted (``wait``); its locks go free."""
        order = self._find(uuid, identifier)
        if not order.is_open:
            raise NotFound(f"order {order.uuid} is not open", name="order_not_found", status=404)
        snapshot = order.to_order()
        self._matcher.finish(order, "cancel")
        await self._settle()
        return snapshot

    async def open_orders(
        self,
        *,
        market: str | None = None,
        states: Sequence[str] = ("wait",),
        page: int = 1,
        limit: int = 100,
        order_by: str = "desc",
    ) -> list[Order]:
        found = [
            o
            for o in self.orders.values()
            if o.state in states and o.is_open and (market is None or o.market == market)
        ]
        found.sort(key=lambda o: o.seq, reverse=order_by != "asc")
        start = (max(page, 1) - 1) * limit
        return [o.to_order() for o in found[start : start + limit]]

    async def accounts(self) -> list[Account]:
        return self.ledger.accounts()

    async def orderbook(self, markets: Sequence[str], *, count: int = 30) -> list[Orderbook]:
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

    def _open(self, order: PaperOrder) -> Order:
        """Book a validated order: lock its funds, match it; returns the acknowledgement."""
        self.seq += 1
        self.orders[order.uuid] = order
        if order.identifier is not None:
            self.by_identifier[order.identifier] = order.uuid
        self._matcher.reserve(order)
        ack = order.to_order()
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
        self, body: dict[str, str], identifier: str | None, released: Decimal = Decimal(0)
    ) -> PaperOrder:
        """``released``: what a cancel going first frees in the currency this order locks."""
        parsed = parse_body(body)
        reference = self.market.reference_price(parsed.market, parsed.side)
        self.rules.check_order(
            market=parsed.market,
            side=parsed.side,
            ord_type=parsed.ord_type,
            price=parsed.price,
            volume=parsed.volume,
            time_in_force=parsed.time_in_force,
            reference_price=reference if parsed.ord_type != "limit" else None,
        )
        order = parsed.new_order(identifier, seq=self.seq + 1, created_at=self._now())
        side, market = parsed.side, parsed.market
        currency, lock, order.reserved_fee = self._matcher.lock_for(order)
        order.locked = lock
        if self.ledger.free.get(currency, Decimal(0)) + released < lock:
            raise InsufficientFunds(
                f"not enough free {currency} ({lock} needed)",
                name=f"insufficient_funds_{side}",
                status=400,
            )
        if parsed.ord_type != "limit" and reference is None:
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
            _deliver(self.on_order, order.to_order())
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
