"""Exchange REST handlers (reference §5): JWT auth, decimal strings, snake_case error names."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .auth import Authenticator
from .errors import ApiError, validation
from .exchange import Exchange
from .jsonenc import dec_str, now_ms, parse_iso
from .orders import FakeOrder
from .rest import REQUEST_BODY
from .rules import parse_cancel_and_new, parse_order

Handler = Callable[[web.Request], Awaitable[Any]]
WEEK_MS = int(timedelta(days=7).total_seconds() * 1000)


def _int(query: Any, key: str, default: int, low: int, high: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise validation(f"{key} 값이 올바르지 않습니다.")
    return int(raw)


def _order_by(query: Any) -> bool:
    value = query.get("order_by", "desc")
    if value not in ("asc", "desc"):
        raise validation("order_by 값이 올바르지 않습니다.")
    return bool(value == "desc")


def _states(query: Any, allowed: tuple[str, ...], default: list[str]) -> list[str]:
    single, many = query.getall("state", []), query.getall("states[]", [])
    if single and many:
        raise validation("state와 states[]는 함께 쓸 수 없습니다.")
    states = single or many or default
    if any(s not in allowed for s in states):
        raise validation("state 값이 올바르지 않습니다.")
    return states


def _time_ms(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    try:
        moment = parse_iso(raw)
    except ValueError:
        raise validation("시간 형식이 올바르지 않습니다.") from None
    return int(moment.timestamp() * 1000)


class ExchangeApi:
    def __init__(self, exchange: Exchange, auth: Authenticator, markets: list[str]) -> None:
        self.ex = exchange
        self.auth = auth
        self.markets = markets

    def routes(self) -> list[tuple[str, str, Handler, str]]:
        return [
            ("GET", "/v1/accounts", self.accounts, "default"),
            ("GET", "/v1/orders/chance", self.chance, "default"),
            ("POST", "/v1/orders", self.create, "order"),
            ("POST", "/v1/orders/test", self.create_test, "order-test"),
            ("POST", "/v1/orders/cancel_and_new", self.cancel_and_new, "order"),
            ("GET", "/v1/order", self.get_order, "default"),
            ("GET", "/v1/orders/open", self.open_orders, "default"),
            ("GET", "/v1/orders/closed", self.closed_orders, "default"),
            ("GET", "/v1/orders/uuids", self.orders_by_ids, "default"),
            ("DELETE", "/v1/order", self.cancel_order, "default"),
            ("DELETE", "/v1/orders/uuids", self.cancel_by_ids, "default"),
            ("DELETE", "/v1/orders/open", self.cancel_open, "order-cancel-all"),
        ]

    def _auth(self, request: web.Request) -> None:
        decoded = unquote(request.rel_url.raw_query_string)
        body = REQUEST_BODY.get() if request.method == "POST" else None
        self.auth.verify_rest(request.headers.get("Authorization"), decoded, body)

    def _account(self, currency: str) -> dict[str, Any]:
        free, locked = self.ex.balances.get(currency, [Decimal(0), Decimal(0)])
        return {
            "currency": currency,
            "balance": dec_str(free),
            "locked": dec_str(locked),
            "avg_buy_price": dec_str(self.ex.avg_buy.get(currency, Decimal(0))),
            "avg_buy_price_modified": False,
            "unit_currency": "KRW",
        }

    def _market(self, query: Any, *, required: bool) -> str | None:
        market: str | None = query.get("market")
        if market is None and required:
            raise validation("market 파라미터가 필요합니다.")
        if market is not None and market not in self.markets:
            raise ApiError(400, "notfoundmarket", f"다음 마켓에 없는 종목입니다: {market}")
        return market

    async def accounts(self, request: web.Request) -> Any:
        self._auth(request)
        return [
            self._account(c)
            for c, (free, locked) in self.ex.balances.items()
            if c == "KRW" or free or locked
        ]

    async def chance(self, request: web.Request) -> Any:
        self._auth(request)
        market = self._market(request.query, required=True)
        assert market is not None
        quote, base = market.split("-", 1)
        fee = dec_str(self.ex.fee_rate)
        minimum = "5000" if quote == "KRW" else "0.00005" if quote == "BTC" else "0.5"
        return {
            "bid_fee": fee,
            "ask_fee": fee,
            "maker_bid_fee": fee,
            "maker_ask_fee": fee,
            "market": {
                "id": market,
                "name": f"{base}/{quote}",
                "order_types": ["limit"],
                "order_sides": ["ask", "bid"],
                "bid_types": ["best_fok", "best_ioc", "limit", "limit_fok", "limit_ioc", "price"],
                "ask_types": ["best_fok", "best_ioc", "limit", "limit_fok", "limit_ioc", "market"],
                "bid": {"currency": quote, "min_total": minimum},
                "ask": {"currency": base, "min_total": minimum},
                "max_total": "1000000000",
                "state": "active",
            },
            "bid_account": self._account(quote),
            "ask_account": self._account(base),
        }

    async def create(self, request: web.Request) -> Any:
        self._auth(request)
        body = REQUEST_BODY.get() or {}
        identifier = body.get("identifier")
        if isinstance(identifier, str) and identifier:
            self.ex.claim_identifier(identifier)
        _, ack = self.ex.place(parse_order(body, self.markets, self.ex.tick_size))
        return 201, ack

    async def create_test(self, request: web.Request) -> Any:
        self._auth(request)
        req = parse_order(REQUEST_BODY.get() or {}, self.markets, self.ex.tick_size)
        lock, fee = self.ex.validate(req)
        fake = FakeOrder(
            str(uuidlib.uuid4()),
            req.market,
            req.side,
            req.ord_type,
            req.price,
            req.volume,
            now_ms(),
            req.identifier,
            req.time_in_force,
            req.smp_type,
            remaining_volume=req.volume,
            reserved_fee=fee,
            locked=lock,
        )
        return 201, fake.rest()

    async def cancel_and_new(self, request: web.Request) -> Any:
        """Reference §5.14: 201 with the old order as it was plus the new order's ids."""
        self._auth(request)
        body = REQUEST_BODY.get() or {}
        prev_uuid, prev_identifier = body.get("prev_order_uuid"), body.get("prev_order_identifier")
        if not prev_uuid and not prev_identifier:
            raise validation("prev_order_uuid 또는 prev_order_identifier가 필요합니다.")
        new_identifier = body.get("new_identifier")
        if new_identifier is not None and (
            not isinstance(new_identifier, str) or not new_identifier
        ):
            raise validation("new_identifier 값이 올바르지 않습니다.")
        prev = self.ex.find(prev_uuid, None if prev_uuid else prev_identifier)  # uuid wins
        if new_identifier is not None:
            if new_identifier == prev.identifier:
                raise validation("new_identifier는 prev_order_identifier와 달라야 합니다.")
            self.ex.claim_identifier(new_identifier)  # used up even if refused below
        if not self.ex.cancellable(prev):  # done, cancelled, or its cancel already accepted
            raise ApiError(404, "order_not_found", "취소할 수 없는 주문입니다.")
        req, remain_only = parse_cancel_and_new(
            body,
            market=prev.market,
            side=prev.side,
            remaining=prev.remaining_volume,
            markets=self.markets,
            tick_of=self.ex.tick_size,
        )
        self.ex.validate(req, released=prev.locked)
        new_uuid = str(uuidlib.uuid4())
        out = self.ex.cancel_and_new(prev, req, remain_only=remain_only, new_uuid=new_uuid)
        out["new_order_uuid"] = new_uuid
        if new_identifier is not None:
            out["new_order_identifier"] = new_identifier
        return 201, out

    def _lookup(self, query: Any) -> FakeOrder:
        uuid, identifier = query.get("uuid"), query.get("identifier")
        if uuid is None and identifier is None:
            raise validation("uuid 또는 identifier가 필요합니다.")
        return self.ex.find(uuid, identifier)

    async def get_order(self, request: web.Request) -> Any:
        self._auth(request)
        return self._lookup(request.query).rest(with_trades=True)

    def _sorted(self, orders: list[FakeOrder], desc: bool) -> list[FakeOrder]:
        return sorted(orders, key=lambda o: o.sort_key, reverse=desc)

    async def open_orders(self, request: web.Request) -> Any:
        self._auth(request)
        q = request.query
        market = self._market(q, required=False)
        states = _states(q, ("wait", "watch"), ["wait"])
        page, limit = _int(q, "page", 1, 1, 10**9), _int(q, "limit", 100, 1, 100)
        found = [
            o
            for o in self.ex.orders.values()
            if o.state in states and (market is None or o.market == market)
        ]
        rows = self._sorted(found, _order_by(q))[(page - 1) * limit : page * limit]
        return [o.rest() for o in rows]

    async def closed_orders(self, request: web.Request) -> Any:
        self._auth(request)
        q = request.query
        market = self._market(q, required=False)
        states = _states(q, ("done", "cancel"), ["done", "cancel"])
        limit = _int(q, "limit", 100, 1, 1000)
        start = _time_ms(q["start_time"]) if "start_time" in q else None
        end = _time_ms(q["end_time"]) if "end_time" in q else None
        if start is None and end is None:
            end = now_ms()
        if start is None:
            assert end is not None
            start = end - WEEK_MS
        if end is None:
            end = start + WEEK_MS
        if end < start or end - start > WEEK_MS:
            raise validation("조회 기간은 7일 이내여야 합니다.")
        found = [
            o
            for o in self.ex.orders.values()
            if o.state in states
            and (market is None or o.market == market)
            and start <= o.created_ms <= end
        ]
        return [o.rest() for o in self._sorted(found, _order_by(q))[:limit]]

    def _ids(self, query: Any, most: int) -> list[FakeOrder | tuple[str, str]]:
        uuids, idents = query.getall("uuids[]", []), query.getall("identifiers[]", [])
        if bool(uuids) == bool(idents):
            raise validation("uuids[] 또는 identifiers[] 중 하나가 필요합니다.")
        if len(uuids or idents) > most:
            raise validation(f"최대 {most}개까지 조회할 수 있습니다.")
        out: list[FakeOrder | tuple[str, str]] = []
        for value in uuids or idents:
            try:
                out.append(self.ex.find(value, None) if uuids else self.ex.find(None, value))
            except ApiError:
                out.append(("uuid" if uuids else "identifier", value))
        return out

    async def orders_by_ids(self, request: web.Request) -> Any:
        self._auth(request)
        market = self._market(request.query, required=False)
        found = [
            o
            for o in self._ids(request.query, 100)
            if isinstance(o, FakeOrder) and (market is None or o.market == market)
        ]
        return [o.rest() for o in self._sorted(found, _order_by(request.query))]

    async def cancel_order(self, request: web.Request) -> Any:
        self._auth(request)
        return self.ex.cancel(self._lookup(request.query))

    def _batch(self, targets: list[FakeOrder | tuple[str, str]]) -> dict[str, Any]:
        ok: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for item in targets:
            if isinstance(item, tuple):
                failed.append(
                    {
                        item[0]: item[1],
                        "error": {"name": "order_not_found", "message": "주문을 찾지 못했습니다."},
                    }
                )
                continue
            entry = {"uuid": item.uuid, "market": item.market}
            if item.identifier is not None:
                entry["identifier"] = item.identifier
            if item.state != "wait" or not self.ex.cancellable(item):
                failed.append(
                    {
                        **entry,
                        "error": {
                            "name": "order_not_found",
                            "message": "취소할 수 없는 주문입니다.",
                        },
                    }
                )
                continue
            self.ex.cancel(item)
            ok.append(entry)
        return {
            "success": {"count": len(ok), "orders": ok},
            "failed": {"count": len(failed), "orders": failed},
        }

    async def cancel_by_ids(self, request: web.Request) -> Any:
        self._auth(request)
        return self._batch(self._ids(request.query, 20))

    async def cancel_open(self, request: web.Request) -> Any:
        self._auth(request)
        q = request.query
        side = q.get("cancel_side", "all")
        if side not in ("all", "bid", "ask"):
            raise validation("cancel_side 값이 올바르지 않습니다.")
        pairs = q["pairs"].split(",") if q.get("pairs") else None
        quotes = q["quote_currencies"].split(",") if q.get("quote_currencies") else None
        excluded = q["excluded_pairs"].split(",") if q.get("excluded_pairs") else []
        if pairs and quotes:
            raise validation("pairs와 quote_currencies는 함께 쓸 수 없습니다.")
        if len(pairs or []) > 20 or len(excluded) > 20:
            raise validation("pairs는 최대 20개입니다.")
        count = _int(q, "count", 20, 1, 300)
        found = [
            o
            for o in self.ex.orders.values()
            if o.state == "wait"
            and (side == "all" or o.side == side)
            and (pairs is None or o.market in pairs)
            and (quotes is None or o.quote in quotes)
            and o.market not in excluded
        ]
        targets: list[FakeOrder | tuple[str, str]] = list(
            self._sorted(found, _order_by(q))[:count]
        )
        return self._batch(targets)
