"""Simulated execution with Upbit's lock and fee arithmetic (reference §5.1, §9.4).

* Bids lock quote ``notional + notional*fee`` (limit: price*volume; ``price``/``best``: the
  budget); asks lock the base volume. ``reserved_fee`` is notional*fee (0 for market/best sells).
* Each fill charges ``funds*fee``: bids pay it on top (out of the lock), asks out of proceeds.
  A limit bid filled below its price releases the difference at once, so an open limit bid
  always locks exactly ``remaining_volume*price*(1+fee)``.
* A finished order releases what it still locks. A cancelled order keeps showing that
  released amount in ``locked`` (the docs' market-buy example: ``locked`` 0.20826408); a
  filled one shows 0.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from trading.domain.orders import OrderStatus, OrderType, Side
from trading.paper.book import Level, MarketData
from trading.paper.fill_model import budget_volume, fill_amounts, floor_volume
from trading.paper.ledger import Ledger
from trading.paper.orders import ZERO, PaperFill, PaperOrder, PaperTrade


class Matcher:
    def __init__(
        self,
        ledger: Ledger,
        md: MarketData,
        fee_rate: Decimal,
        clock: Callable[[], datetime],
        step: Decimal,
    ) -> None:
        self.ledger = ledger
        self.step = step  # the venue's volume step
        self.md = md
        self.fee_rate = fee_rate
        self.clock = clock
        self._pending: list[tuple[PaperOrder, PaperFill]] = []
        self.touched: dict[str, PaperOrder] = {}

    # -- placing ---------------------------------------------------------------------------

    def lock_for(self, order: PaperOrder) -> tuple[str, Decimal, Decimal]:
        """(currency, amount to lock, reserved_fee) for a new order."""
        assert order.price is not None or order.volume is not None
        if order.side is Side.BUY:
            assert order.price is not None
            notional = order.price * order.volume if order.volume is not None else order.price
            fee = notional * self.fee_rate
            return order.quote, notional + fee, fee
        assert order.volume is not None
        fee = order.price * order.volume * self.fee_rate if order.price is not None else ZERO
        return order.base, order.volume, fee

    def reserve(self, order: PaperOrder) -> None:
        """Lock the order's funds; the caller checked they are free."""
        currency, lock, order.reserved_fee = self.lock_for(order)
        order.locked = lock
        self.ledger.move(currency, free=-lock, locked=lock)
        self.touched[order.uuid] = order

    def _crossing(self, order: PaperOrder) -> list[Level]:
        levels = self.md.opposite(order.market, order.side)
        if order.type is OrderType.BEST:
            return levels[:1]
        if order.type is not OrderType.LIMIT:
            return levels
        assert order.price is not None
        limit = order.price
        out = []
        for level in levels:
            if level[0] > limit if order.side is Side.BUY else level[0] < limit:
                break
            out.append(level)
        return out

    def _want(self, order: PaperOrder, price: Decimal) -> Decimal:
        """Volume the order still wants at ``price``: a budget buys whole 1e-8 units only."""
        if order.remaining_volume is not None:
            return order.remaining_volume
        assert order.price is not None
        return budget_volume(order.price - order.executed_funds, price, self.step)

    def _fillable(self, order: PaperOrder, levels: list[Level]) -> bool:
        """Would the order complete against ``levels`` (fill-or-kill)?"""
        if order.remaining_volume is not None:
            return sum((lvl[1] for lvl in levels), ZERO) >= order.remaining_volume
        assert order.price is not None
        budget = order.price
        for price, size in levels:
            want = budget_volume(budget, price, self.step)
            if want == 0:  # what is left is dust: complete if anything was bought
                return budget < order.price
            if size >= want:
                return True
            budget -= size * price
        return False

    def take(self, order: PaperOrder) -> None:
        """Trade what crosses on arrival, as taker; then rest, finish or cancel the rest."""
        tif = order.time_in_force
        crossing = self._crossing(order)
        if (tif == "post_only" and crossing) or (
            tif == "fok" and not self._fillable(order, crossing)
        ):
            self.finish(order, OrderStatus.CANCELLED)
            return
        for level in crossing:
            volume = floor_volume(min(level[1], self._want(order, level[0])), self.step)
            if volume <= 0:
                break
            level[1] -= volume
            self.fill(order, level[0], volume, is_maker=False)
        self.md.prune(order.market)
        if order.remaining_volume == 0 or (
            order.is_budget and order.executed_funds == order.price
        ):
            self.finish(order, OrderStatus.FILLED)
        elif order.type is not OrderType.LIMIT or tif in ("ioc", "fok"):
            self.finish(order, OrderStatus.CANCELLED)  # a market buy's dust remainder lands here

    # -- the tape --------------------------------------------------------------------------

    def on_print(self, resting: Iterable[PaperOrder], price: Decimal, volume: Decimal) -> None:
        """Fill resting limit orders the print reaches, at their own price, as maker.

        Price priority then time; each side shares the print's volume.
        """
        budgets = dict.fromkeys(Side, floor_volume(volume, self.step))
        bids = sorted(
            (o for o in resting if o.side is Side.BUY), key=lambda o: (-(o.price or ZERO), o.seq)
        )
        asks = sorted((o for o in resting if o.side is Side.SELL), key=lambda o: (o.price, o.seq))
        for order in bids + asks:
            assert order.price is not None
            assert order.remaining_volume is not None
            reached = order.price >= price if order.side is Side.BUY else order.price <= price
            amount = min(order.remaining_volume, budgets[order.side])
            if not reached or amount <= 0:
                continue
            budgets[order.side] -= amount
            self.fill(order, order.price, amount, is_maker=True)
            if order.remaining_volume == 0:
                self.finish(order, OrderStatus.FILLED)

    # -- settlement ------------------------------------------------------------------------

    def fill(self, order: PaperOrder, price: Decimal, volume: Decimal, *, is_maker: bool) -> None:
        funds, fee = fill_amounts(price, volume, self.fee_rate)
        if order.side is Side.BUY:
            if order.type is OrderType.LIMIT:
                assert order.price is not None
                release = order.price * volume * (1 + self.fee_rate)
            else:
                release = funds + fee
            order.locked -= release
            self.ledger.move(order.quote, free=release - funds - fee, locked=-release)
            self.ledger.bought(order.base, volume, funds)
        else:
            order.locked -= volume
            self.ledger.move(order.base, locked=-volume)
            self.ledger.move(order.quote, free=funds - fee)
            self.ledger.sold(order.base)
        self.ledger.charge_fee(order.quote, fee)
        order.executed_volume += volume
        order.executed_funds += funds
        order.paid_fee += fee
        if order.remaining_volume is not None:
            order.remaining_volume -= volume
        at = self.clock()
        taker_side = order.side if not is_maker else order.side.opposite
        trade = PaperTrade(
            uuid=str(uuidlib.uuid4()),
            price=price,
            volume=volume,
            funds=funds,
            fee=fee,
            is_maker=is_maker,
            trend="up" if taker_side is Side.BUY else "down",
            at=at,
        )
        order.trades.append(trade)
        self.touched[order.uuid] = order
        self._pending.append(
            (
                order,
                PaperFill(
                    order_uuid=order.uuid,
                    identifier=order.identifier,
                    market=order.market,
                    side=order.side,
                    price=price,
                    volume=volume,
                    funds=funds,
                    fee=fee,
                    is_maker=is_maker,
                    trade_uuid=trade.uuid,
                    at=at,
                    order_state_after=OrderStatus.OPEN,
                ),
            )
        )

    def finish(self, order: PaperOrder, state: OrderStatus) -> None:
        leftover = order.locked
        currency = order.quote if order.side is Side.BUY else order.base
        self.ledger.move(currency, free=leftover, locked=-leftover)
        order.state = state
        if state is OrderStatus.FILLED:
            order.locked = ZERO
        self.touched[order.uuid] = order

    def drain(self) -> tuple[list[PaperFill], list[PaperOrder]]:
        """Fills and changed orders of the last operation; an order's last fill carries the
        state the order ended in (filled, or cancelled for a market buy's dust)."""
        fills: list[PaperFill] = []
        for i, (order, fill) in enumerate(self._pending):
            last = all(o is not order for o, _ in self._pending[i + 1 :])
            fills.append(replace(fill, order_state_after=order.state) if last else fill)
        touched = list(self.touched.values())
        self._pending.clear()
        self.touched.clear()
        return fills, touched
