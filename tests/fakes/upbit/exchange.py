"""The matching engine: balances, orders, fills and fees (reference §5.1, §9.4).

* Bids lock quote ``price*volume + reserved_fee`` (``price`` orders: the KRW amount + fee);
  asks lock the base volume.  ``reserved_fee`` = notional * fee rate (0 for market/best sells).
* Taker matching walks the order book's opposite side (levels are consumed); when that side
  is empty, the last tape price is used with unlimited size; with neither, nothing fills.
  Fills at the level price; the fee is charged on each fill's funds.
* ``POST /v1/orders`` answers with the order as accepted (``state: wait``, nothing executed,
  as Upbit's acknowledgement); matching happens right after, so the next ``GET /v1/order``
  shows the fills.
* ``price`` (market buy) orders spend the KRW budget level by level with volumes floored to
  8 decimals and end ``done`` only if the budget was spent exactly, else ``cancel`` (dust).
  ``market`` sells end ``done`` when fully filled, else ``cancel``.  ``best`` orders take only
  the best opposite price (ioc: the rest is cancelled; fok: all or nothing).
* Limit orders that cross fill as taker; the rest rests in ``wait`` (``ioc``: cancel rest;
  ``fok``: cancel unless fully fillable; ``post_only``: cancel when it would cross).
* ``tape_trade`` (the server's ``trade()``) fills resting limit orders on both sides that
  cross the print, at their own limit price, as maker, each side up to the print's volume.
* A finished order releases what it still locks; a ``cancel``-ed order keeps showing that
  released amount in ``locked`` (as in the docs' market-buy example), a ``done`` one shows 0.
* Own orders never match each other.  One account is shared by every API key.
* Cancels are asynchronous on Upbit (``DELETE`` answers with the order still ``wait``). With
  ``cancel_lag`` = n > 0 an accepted cancel completes only when the n-th later REST request
  arrives (``progress``) or on ``settle_cancels()``; until then the order stays ``wait`` and
  can still fill. With 0 (the default) it completes before the answer.
* ``cancel_and_new`` (reference §5.14) cancels, then creates the new order once the cancel
  completes, with ``remain_only`` resolved to what was left at that moment; an order that
  filled before its cancel completed gets no new order (the call still succeeded).
"""

from __future__ import annotations

import contextlib
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from .errors import ApiError, order_not_found
from .jsonenc import now_ms
from .market import Level, MarketData
from .orders import ZERO, FakeOrder, Fill
from .rules import SATOSHI, OrderRequest, check_totals, tick_size

Emit = Callable[[str, Any], None]


@dataclass
class PendingCancel:
    """A cancel Upbit accepted but has not done yet; ``new`` is cancel_and_new's new order."""

    left: int  # requests to arrive before it completes
    new: OrderRequest | None = None
    remain_only: bool = False
    new_uuid: str | None = None


def floor8(value: Decimal) -> Decimal:
    return value.quantize(SATOSHI, rounding=ROUND_DOWN)


class Exchange:
    def __init__(self, market: MarketData, fee_rate: Decimal, emit: Emit) -> None:
        self.md = market
        self.fee_rate = fee_rate
        self.emit = emit
        self.balances: dict[str, list[Decimal]] = {"KRW": [ZERO, ZERO]}
        self.avg_buy: dict[str, Decimal] = {}
        self.orders: dict[str, FakeOrder] = {}
        self.by_identifier: dict[str, str] = {}
        self.used_identifiers: set[str] = set()
        self.cancel_lag = 0
        self.pending: dict[str, PendingCancel] = {}
        #: per-pair tick exceptions: market -> [(low, high or None, tick)]
        self.tick_exceptions: dict[str, list[tuple[Decimal, Decimal | None, Decimal]]] = {}
        self._touched: set[str] = set()

    # ----- balances -----
    def _acct(self, currency: str) -> list[Decimal]:
        return self.balances.setdefault(currency, [ZERO, ZERO])

    def set_balance(self, currency: str, balance: Decimal, locked: Decimal = ZERO) -> None:
        self.balances[currency] = [Decimal(balance), Decimal(locked)]
        self._touched.add(currency)
        self.flush_assets()

    def _move(self, currency: str, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        acct = self._acct(currency)
        acct[0] += free
        acct[1] += locked
        self._touched.add(currency)

    def flush_assets(self) -> None:
        if not self._touched:
            return
        ts = now_ms()
        assets = [
            {"currency": c, "balance": self.balances[c][0], "locked": self.balances[c][1]}
            for c in sorted(self._touched)
        ]
        self._touched.clear()
        self.emit(
            "myAsset",
            {
                "type": "myAsset",
                "asset_uuid": str(uuidlib.uuid4()),
                "assets": assets,
                "asset_timestamp": ts,
                "timestamp": ts,
                "stream_type": "REALTIME",
            },
        )

    def tick_size(self, market: str, price: Decimal) -> Decimal:
        """The tick Upbit applies at ``price``: a per-pair exception, else the band table."""
        for low, high, tick in self.tick_exceptions.get(market, []):
            if price >= low and (high is None or price < high):
                return tick
        return tick_size(market, price)

    # ----- identifiers / lookup -----
    def claim_identifier(self, identifier: str | None) -> None:
        if identifier is None:
            return
        if identifier in self.used_identifiers:
            raise ApiError(
                400, "duplicate_identifier", f"이미 사용된 identifier입니다: {identifier}"
            )
        self.used_identifiers.add(identifier)

    def find(self, uuid: str | None, identifier: str | None) -> FakeOrder:
        if uuid is not None:
            order = self.orders.get(uuid)
        else:
            order = self.orders.get(self.by_identifier.get(identifier or "", ""))
        if order is None:
            raise order_not_found()
        return order

    def reference_price(self, market: str, side: str) -> Decimal | None:
        book = self.md.books.get(market)
        levels = (book.bids if side == "ask" else book.asks) if book else []
        return levels[0][0] if levels else self.md.last_price(market)

    # ----- placing -----
    def validate(self, req: OrderRequest, released: Decimal = ZERO) -> tuple[Decimal, Decimal]:
        """Totals and funds; returns (amount to lock, reserved_fee). ``released``: what a
        cancel that goes first frees in the currency this order locks."""
        check_totals(req, self.reference_price(req.market, req.side))
        if req.side == "bid":
            assert req.price is not None
            notional = (
                req.price * req.volume if req.ord_type == "limit" and req.volume else req.price
            )
            fee = notional * self.fee_rate
            lock, currency = notional + fee, req.quote
        else:
            assert req.volume is not None
            fee = req.price * req.volume * self.fee_rate if req.price is not None else ZERO
            lock, currency = req.volume, req.base
        if self._acct(currency)[0] + released < lock:
            what = "주문가능한 금액" if req.side == "bid" else "매도가능 잔고"
            raise ApiError(
                400, f"insufficient_funds_{req.side}", f"{what}({currency})이 부족합니다."
            )
        return lock, fee

    def place(
        self, req: OrderRequest, uuid: str | None = None
    ) -> tuple[FakeOrder, dict[str, Any]]:
        """Create, lock and match an order; returns it and its acknowledgement (``wait``)."""
        lock, fee = self.validate(req)
        ts = now_ms()
        volume = None if req.side == "bid" and req.ord_type in ("price", "best") else req.volume
        order = FakeOrder(
            uuid=uuid or str(uuidlib.uuid4()),
            market=req.market,
            side=req.side,
            ord_type=req.ord_type,
            price=req.price,
            volume=volume,
            created_ms=ts,
            identifier=req.identifier,
            time_in_force=req.time_in_force,
            smp_type=req.smp_type,
            remaining_volume=volume,
            reserved_fee=fee,
            locked=lock,
        )
        order.seq = len(self.orders)
        self.orders[order.uuid] = order
        if order.identifier is not None:
            self.by_identifier[order.identifier] = order.uuid
        self._move(order.quote if order.side == "bid" else order.base, -lock, lock)
        self.emit("myOrder", order.my_order("wait", ts))
        ack = order.rest()
        self._take(order)
        self.flush_assets()
        return order, ack

    def _liquidity(self, order: FakeOrder) -> Iterator[Level]:
        """Opposite levels the order may take, best first (book levels are live lists)."""
        book = self.md.books.get(order.market)
        levels = (book.asks if order.side == "bid" else book.bids) if book else []
        if not levels:
            last = self.md.last_price(order.market)
            levels = [[last, Decimal("Infinity")]] if last is not None else []
        limit = order.price if order.ord_type == "limit" else None
        if order.ord_type == "best":
            levels = levels[:1]
        for level in levels:
            if limit is not None and (
                level[0] > limit if order.side == "bid" else level[0] < limit
            ):
                return
            if level[1] > 0:
                yield level

    def _want(self, order: FakeOrder, price: Decimal) -> Decimal:
        """Volume the order still wants at ``price``."""
        if order.remaining_volume is not None:
            return order.remaining_volume
        assert order.price is not None
        return floor8((order.price - order.executed_funds) / price)

    def _take(self, order: FakeOrder) -> None:
        tif = order.time_in_force
        crossing = list(self._liquidity(order))
        if tif == "post_only" and crossing:
            self._finish(order, "cancel")
            return
        if tif == "fok":
            want = self._want(order, crossing[0][0]) if crossing else ZERO
            if want <= 0 or sum((lvl[1] for lvl in crossing), ZERO) < want:
                self._finish(order, "cancel")
                return
        book_changed = False
        for level in crossing:
            volume = min(level[1], self._want(order, level[0]))
            if volume <= 0:
                break
            level[1] -= volume
            book_changed = book_changed or level[1].is_finite()
            self._fill(order, level[0], volume, is_maker=False)
            tape = self.md.record_trade(order.market, level[0], volume, order.side.upper())
            self.emit("trade", tape)
            self.emit("ticker", order.market)
        if book_changed:
            book = self.md.books[order.market]
            book.asks[:] = [lvl for lvl in book.asks if lvl[1] > 0]
            book.bids[:] = [lvl for lvl in book.bids if lvl[1] > 0]
            book.ts_ms = now_ms()
            self.emit("orderbook", order.market)
        if order.remaining_volume == 0 or (
            order.remaining_volume is None and order.executed_funds == order.price
        ):
            self._finish(order, "done")
        elif order.ord_type != "limit" or tif in ("ioc", "fok"):
            self._finish(order, "cancel")

    def _fill(self, order: FakeOrder, price: Decimal, volume: Decimal, *, is_maker: bool) -> Fill:
        funds = price * volume
        fee = funds * self.fee_rate
        ts = now_ms()
        taker_side = order.side if not is_maker else ("ask" if order.side == "bid" else "bid")
        fill = Fill(
            str(uuidlib.uuid4()),
            price,
            volume,
            funds,
            fee,
            is_maker,
            order.side,
            "up" if taker_side == "bid" else "down",
            ts,
        )
        if order.side == "bid":
            self._move(order.quote, locked=-(funds + fee))
            self._move(order.base, free=volume)
            order.locked -= funds + fee
            held = self._acct(order.base)[0] + self._acct(order.base)[1] - volume
            old = self.avg_buy.get(order.base, ZERO)
            self.avg_buy[order.base] = (old * held + funds) / (held + volume)
        else:
            self._move(order.base, locked=-volume)
            self._move(order.quote, free=funds - fee)
            order.locked -= volume
        order.executed_volume += volume
        order.executed_funds += funds
        order.paid_fee += fee
        if order.remaining_volume is not None:
            order.remaining_volume -= volume
        order.trades.append(fill)
        self.emit("myOrder", order.my_order("trade", ts, fill))
        return fill

    def _finish(self, order: FakeOrder, state: str) -> None:
        leftover = order.locked
        currency = order.quote if order.side == "bid" else order.base
        self._move(currency, free=leftover, locked=-leftover)
        order.state = state
        if state == "done":
            order.locked = ZERO
        self.emit("myOrder", order.my_order(state, now_ms()))

    # ----- cancelling -----
    def cancellable(self, order: FakeOrder) -> bool:
        """Open, and no cancel of it accepted yet."""
        return order.is_open and order.uuid not in self.pending

    def cancel(self, order: FakeOrder) -> dict[str, Any]:
        """Accept a cancel: return the order as it was, then cancel it (now, or after
        ``cancel_lag`` more requests)."""
        if not self.cancellable(order):
            raise order_not_found()
        snapshot = order.rest()
        self.pending[order.uuid] = PendingCancel(self.cancel_lag)
        if not self.cancel_lag:
            self._complete(order.uuid)
        return snapshot

    def cancel_and_new(
        self, prev: FakeOrder, req: OrderRequest, *, remain_only: bool, new_uuid: str
    ) -> dict[str, Any]:
        """Accept a cancel-and-new: ``prev`` as it was; the new order follows the cancel."""
        if not self.cancellable(prev):
            raise order_not_found()
        snapshot = prev.rest()
        self.pending[prev.uuid] = PendingCancel(self.cancel_lag, req, remain_only, new_uuid)
        if not self.cancel_lag:
            self._complete(prev.uuid)
        return snapshot

    def progress(self) -> None:
        """A request arrived: accepted cancels move on, those due complete."""
        for uuid in list(self.pending):
            pending = self.pending.get(uuid)
            if pending is not None:
                pending.left -= 1
                if pending.left <= 0:
                    self._complete(uuid)

    def settle_cancels(self) -> None:
        for uuid in list(self.pending):
            self._complete(uuid)

    def _complete(self, uuid: str) -> None:
        pending = self.pending.pop(uuid)
        order = self.orders[uuid]
        if not order.is_open:
            return  # it filled before the cancel was done: nothing to cancel, no new order
        remaining = order.remaining_volume
        self._finish(order, "cancel")
        if pending.new is not None:
            req = replace(pending.new, volume=remaining) if pending.remain_only else pending.new
            with contextlib.suppress(ApiError):  # refused after all: no new order
                self.place(req, uuid=pending.new_uuid)
        self.flush_assets()

    # ----- the tape -----
    def tape_trade(self, market: str, price: Decimal, volume: Decimal, ask_bid: str) -> None:
        trade = self.md.record_trade(market, price, volume, ask_bid)
        budgets = {"bid": volume, "ask": volume}
        for order in sorted(self.orders.values(), key=lambda o: o.sort_key):
            if order.market != market or order.state != "wait" or order.ord_type != "limit":
                continue
            assert order.price is not None
            assert order.remaining_volume is not None
            crosses = order.price >= price if order.side == "bid" else order.price <= price
            fill_volume = min(order.remaining_volume, budgets[order.side])
            if not crosses or fill_volume <= 0:
                continue
            budgets[order.side] -= fill_volume
            self._fill(order, order.price, fill_volume, is_maker=True)
            if order.remaining_volume == 0:
                self._finish(order, "done")
        self.emit("trade", trade)
        self.emit("ticker", market)
        if market in self.md.books:
            self.emit("orderbook", market)
        self.flush_assets()
