"""``FakeTern``: the fictitious Tern exchange in-process, speaking JSON text.

Enough of a venue for the recipe: balances with holds, market orders that fill at the last
trade, limit orders that rest until a trade crosses them, cancels, lookups by id or client
tag (a tag is never accepted twice), klines, a public trade tape and a private order stream.
Refusals answer ``{"error": {"code": ..., "msg": ...}}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tests.adapter_recipe.venue.wire import decode

STEP = Decimal("0.000001")
MIN_TOTAL = Decimal(10_000)


@dataclass
class _Order:
    id: str
    client_tag: str
    symbol: str
    side: int
    kind: str
    price: Decimal | None
    qty: Decimal | None
    quote_amount: Decimal | None
    ts: int
    status: str = "NEW"
    fills: list[dict[str, Any]] = field(default_factory=list)
    hold: Decimal = Decimal(0)

    def filled(self, key: str) -> Decimal:
        return sum((Decimal(f[key]) for f in self.fills), Decimal(0))

    def wire(self) -> dict[str, Any]:
        qty = self.filled("qty")
        quote = sum((Decimal(f["price"]) * Decimal(f["qty"]) for f in self.fills), Decimal(0))
        return {
            "id": self.id,
            "client_tag": self.client_tag,
            "symbol": self.symbol,
            "side": self.side,
            "kind": self.kind,
            "status": self.status,
            "price": _text(self.price),
            "qty": _text(self.qty),
            "quote_amount": _text(self.quote_amount),
            "filled_qty": f"{qty:f}",
            "filled_quote": f"{quote:f}",
            "fee": f"{self.filled('fee'):f}",
            "ts": self.ts,
            "fills": list(self.fills),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


class Refused(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


class FakeTern:
    def __init__(self, *, fee_rate: Decimal = Decimal("0.001")) -> None:
        self.fee_rate = fee_rate
        self.assets: dict[str, list[Decimal]] = {}  # asset -> [available, on_hold]
        self.orders: dict[str, _Order] = {}
        self.last: dict[str, Decimal] = {}
        self.klines: list[dict[str, Any]] = []
        self.symbols: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.tape: asyncio.Queue[str] = asyncio.Queue()
        self.private: asyncio.Queue[str] = asyncio.Queue()
        self.now_ms = 0
        self._ids = itertools.count(1)

    # -- the operator's side -----------------------------------------------------------------

    def fund(self, asset: str, amount: Decimal) -> None:
        self.assets[asset] = [amount, Decimal(0)]

    def held(self, asset: str) -> Decimal:
        free, hold = self.assets.get(asset, [Decimal(0), Decimal(0)])
        return free + hold

    def trade(self, symbol: str, price: Decimal, qty: Decimal, at: datetime) -> None:
        """A trade by someone else: on the tape, and through every resting order it crosses."""
        self.now_ms = int(at.timestamp() * 1000)
        self.last[symbol] = price
        self.tape.put_nowait(
            _json(
                {
                    "symbol": symbol,
                    "price": f"{price:f}",
                    "qty": f"{qty:f}",
                    "ts": self.now_ms,
                    "taker": 1,
                }
            )
        )
        for order in list(self.orders.values()):
            if order.status != "NEW" or order.kind != "LMT" or order.symbol != symbol:
                continue
            assert order.price is not None
            assert order.qty is not None
            if (order.side == 1 and price <= order.price) or (
                order.side == 2 and price >= order.price
            ):
                self._fill(order, order.price, order.qty, maker=True)

    # -- the wire ----------------------------------------------------------------------------

    async def call(self, text: str) -> str:
        body = decode(text)
        self.requests.append(body)
        try:
            answer = getattr(self, "_" + body["op"])(body)
        except Refused as exc:
            return _json({"error": {"code": exc.code, "msg": str(exc)}})
        return _json({"ok": answer})

    def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        tag = body["client_tag"]
        if any(o.client_tag == tag for o in self.orders.values()):
            raise Refused(2020, f"client tag {tag} already used")
        symbol, side, kind = body["symbol"], int(body["side"]), body["kind"]
        base, quote = symbol.split("/")
        price = _amount(body.get("price"))
        qty = _amount(body.get("qty"))
        funds = _amount(body.get("quote_amount"))
        last = self.last[symbol]
        total = funds if funds is not None else (price or last) * (qty or Decimal(0))
        if total < MIN_TOTAL:
            raise Refused(2011, f"order total {total} under {MIN_TOTAL}")
        if price is not None and price % (Decimal(1000) if price >= 1_000_000 else Decimal(1)):
            raise Refused(2012, f"price {price} off the grid")
        hold_asset, hold = (
            (quote, total * (1 + self.fee_rate)) if side == 1 else (base, qty or Decimal(0))
        )
        free = self.assets.get(hold_asset, [Decimal(0), Decimal(0)])
        if free[0] < hold:
            raise Refused(2010, f"insufficient {hold_asset}: {free[0]} available, {hold} needed")
        free[0] -= hold
        free[1] += hold
        self.assets[hold_asset] = free
        order = _Order(
            f"T-{next(self._ids)}",
            tag,
            symbol,
            side,
            kind,
            price,
            qty,
            funds,
            self.now_ms,
            hold=hold,
        )
        self.orders[order.id] = order
        ack = order.wire()
        if kind == "MKT":  # fills at once, reported on the private stream after the answer
            volume = qty if qty is not None else (total / last).quantize(STEP, ROUND_DOWN)
            self._fill(order, last, volume, maker=False)
        return ack

    def _fill(self, order: _Order, price: Decimal, qty: Decimal, *, maker: bool) -> None:
        base, quote = order.symbol.split("/")
        funds = price * qty
        fee = (funds * self.fee_rate).quantize(Decimal("0.0001"))
        fill = {
            "fill_id": f"F-{next(self._ids)}",
            "price": f"{price:f}",
            "qty": f"{qty:f}",
            "fee": f"{fee:f}",
            "ts": self.now_ms,
            "maker": maker,
        }
        order.fills.append(fill)
        if order.side == 1:
            self.assets[quote][1] -= order.hold
            self.assets[quote][0] += order.hold - funds - fee
            self.assets.setdefault(base, [Decimal(0), Decimal(0)])[0] += qty
        else:
            self.assets[base][1] -= qty
            self.assets.setdefault(quote, [Decimal(0), Decimal(0)])[0] += funds - fee
        order.hold = Decimal(0)
        order.status = "DONE"
        self.private.put_nowait(
            _json(
                {
                    "type": "fill",
                    "order_id": order.id,
                    "client_tag": order.client_tag,
                    "symbol": order.symbol,
                    "side": order.side,
                    "fill": fill,
                }
            )
        )
        self.private.put_nowait(_json({"type": "order", "order": order.wire()}))

    def _find(self, body: dict[str, Any]) -> _Order:
        if "id" in body:
            order = self.orders.get(body["id"])
        else:
            order = next(
                (o for o in self.orders.values() if o.client_tag == body["client_tag"]), None
            )
        if order is None:
            raise Refused(4040, "no such order")
        return order

    def _get(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._find(body).wire()

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._find(body)
        if order.status != "NEW":
            raise Refused(4040, f"order {order.id} is not open")
        base, quote = order.symbol.split("/")
        asset = self.assets[quote if order.side == 1 else base]
        asset[1] -= order.hold
        asset[0] += order.hold
        order.hold = Decimal(0)
        order.status = "KILLED"
        self.private.put_nowait(_json({"type": "order", "order": order.wire()}))
        return order.wire()

    def _open(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        symbol = body.get("symbol")
        return [
            o.wire()
            for o in self.orders.values()
            if o.status == "NEW" and (symbol is None or o.symbol == symbol)
        ]

    def _balances(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"asset": a, "available": f"{free:f}", "on_hold": f"{hold:f}", "cost_basis": "0"}
            for a, (free, hold) in self.assets.items()
        ]

    def _symbols(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return self.symbols

    def _klines(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        end = body.get("end_ms", self.now_ms)
        rows = [k for k in self.klines if k["symbol"] == body["symbol"] and k["open_ms"] < end]
        return rows[-int(body["limit"]) :]


def _amount(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body)
