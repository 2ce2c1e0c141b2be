"""Tests of the fake Upbit server itself, with raw httpx / pyjwt / websockets clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlencode

import httpx
import jwt
import pytest
import websockets

from tests.fakes.upbit import FakeUpbit
from tests.fakes.upbit.auth import body_hash_string, query_hash_of
from tests.tick_table import BOUNDARIES, Boundary

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

D = Decimal
ACCESS, SECRET = "test-access", "test-secret"


# ---------------------------------------------------------------- helpers
def token(
    query: str | None = None,
    *,
    alg: str = "HS512",
    secret: str = SECRET,
    access: str = ACCESS,
    nonce: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    payload: dict[str, Any] = {"access_key": access, "nonce": nonce or str(uuid.uuid4())}
    if query:
        payload["query_hash"] = hashlib.sha512(query.encode()).hexdigest()
        payload["query_hash_alg"] = "SHA512"
    payload.update(extra or {})
    return "Bearer " + jwt.encode(payload, secret, algorithm=alg)


async def aget(
    c: httpx.AsyncClient,
    path: str,
    params: list[tuple[str, str]] | None = None,
    method: str = "GET",
) -> httpx.Response:
    encoded = urlencode(params or [])
    headers = {"Authorization": token(unquote(encoded))}
    url = f"{path}?{encoded}" if encoded else path
    return await c.request(method, url, headers=headers)


async def adelete(
    c: httpx.AsyncClient, path: str, params: list[tuple[str, str]] | None = None
) -> httpx.Response:
    return await aget(c, path, params, method="DELETE")


async def apost(
    c: httpx.AsyncClient, body: dict[str, str], path: str = "/v1/orders", **kw: Any
) -> httpx.Response:
    headers = {
        "Authorization": token(unquote(urlencode(body))),
        "Content-Type": "application/json; charset=utf-8",
    }
    return await c.post(path, content=json.dumps(body), headers=headers, **kw)


def err(r: httpx.Response) -> Any:
    return r.json()["error"]["name"]


def dec(r: httpx.Response) -> Any:
    return json.loads(r.text, parse_float=Decimal)


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit(ban_seconds=0.5) as server:
        yield server


@pytest.fixture
async def client(fake: FakeUpbit) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.rest_url, timeout=5) as c:
        yield c


def buy(price: str, volume: str, **extra: str) -> dict[str, str]:
    return {
        "market": "KRW-BTC",
        "side": "bid",
        "volume": volume,
        "price": price,
        "ord_type": "limit",
        **extra,
    }


def sell(price: str, volume: str, **extra: str) -> dict[str, str]:
    return {
        "market": "KRW-BTC",
        "side": "ask",
        "volume": volume,
        "price": price,
        "ord_type": "limit",
        **extra,
    }


# ---------------------------------------------------------------- auth
VECTORS = [
    (
        "market=KRW-BTC",
        "b749dfc2e17f75e5b46c8161f97fe7c9298ed4167ea21c5c94d16573efd8a801351470c0"
        "ff1a9a3f1e763f8249968218c04c571c8b45aa80cd4588e6c4be0738",
    ),
    (
        "market=KRW-BTC&states[]=wait&states[]=watch&limit=10",
        "e3cfc649139c595e1c26a8aa2b3c8504"
        "f4b15011fc2b819081451e5e845172bd5dbbb5110ec5d7a3d1d32ff71f46a78323a040e8bedf8672021fd22061"
        "90a3a8",
    ),
    (
        "uuids[]=9ca023a5-851b-4fec-9f0a-48cd83c2eaae&uuids[]=cdd92199-2897-4e14-9448-f923320408ad",
        "eb5595726e892c7e0287707a0f47f62652fe36de40ed1146b7457f295218de46bf0d19c4a10f8f59be343172a1"
        "c9a6dca430fa3b24d687478208136aedb74dfd",
    ),
    (
        "market=KRW-BTC&side=bid&volume=0.001&price=50000000&ord_type=limit",
        "7a1eb1d7da6191e65ee8"
        "ae0fcb65c83f16b88bf05a9d252cd075a6c0abfcf3045e3c377378a034a11da9abf9cb00ad1435525991ddf1106"
        "14b81814773499233",
    ),
    (
        "cancel_side=all&excluded_pairs=KRW-ETH,BTC-XRP&quote_currencies=KRW,BTC",
        "7dc6fba30e2f4d"
        "bfe30ba49a8cfee0477ad74c21a3848a14b940f55ca3924c3de22d5d14c230b9bdfa0bf54058b58285d3e07430"
        "1f3186bba7eaabe4710f4b21",
    ),
    (
        "market=KRW-BTC&start_time=2025-06-24T13:56:53+09:00",
        "8dd42a0dae179c46b4fb6740a12b097979"
        "d92d5a7d002b3dcfe797762ec782919a1d9851c2290082e6ad62196f8abd4883fc8458ec9ddea0d49234e440cf"
        "9687",
    ),
]


@pytest.mark.parametrize(("decoded", "expected"), VECTORS)
def test_query_hash_vectors(decoded: str, expected: str) -> None:
    assert query_hash_of(decoded) == expected


def test_body_hash_string_keeps_body_order() -> None:
    body = {
        "market": "KRW-BTC",
        "side": "bid",
        "volume": "0.001",
        "price": "50000000",
        "ord_type": "limit",
    }
    assert query_hash_of(body_hash_string(body)) == VECTORS[3][1]


async def test_vectors_accepted_on_the_wire(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    # GET with [] sent percent-encoded, hashed decoded (as the official SDK does)
    params = [("market", "KRW-BTC"), ("states[]", "wait"), ("states[]", "watch"), ("limit", "10")]
    r = await aget(client, "/v1/orders/open", params)
    assert r.status_code == 200, r.text
    assert "states%5B%5D" in str(r.request.url)
    params = [("market", "KRW-BTC"), ("start_time", "2025-06-24T13:56:53+09:00")]
    r = await aget(client, "/v1/orders/closed", params)
    assert r.status_code == 200, r.text
    assert "%2B09%3A00" in str(r.request.url)
    r = await adelete(
        client,
        "/v1/orders/open",
        [
            ("cancel_side", "all"),
            ("excluded_pairs", "KRW-ETH,BTC-XRP"),
            ("quote_currencies", "KRW,BTC"),
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "success": {"count": 0, "orders": []},
        "failed": {"count": 0, "orders": []},
    }


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
async def test_auth_ok(client: httpx.AsyncClient, alg: str) -> None:
    r = await client.get("/v1/accounts", headers={"Authorization": token(alg=alg)})
    assert r.status_code == 200
    assert r.json() == [
        {
            "currency": "KRW",
            "balance": "0",
            "locked": "0",
            "avg_buy_price": "0",
            "avg_buy_price_modified": False,
            "unit_currency": "KRW",
        }
    ]


async def test_auth_errors(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    async def status(headers: dict[str, str], url: str = "/v1/accounts") -> tuple[int, Any]:
        r = await client.get(url, headers=headers)
        return r.status_code, r.json()["error"]["name"]

    assert await status({}) == (401, "no_authorization_token")
    assert await status({"Authorization": token(secret="wrong")}) == (401, "jwt_verification")
    assert await status({"Authorization": "Bearer abc.def"}) == (401, "jwt_verification")
    assert await status({"Authorization": token(access="nope")}) == (401, "invalid_access_key")
    bad = jwt.encode({"access_key": ACCESS, "nonce": "x"}, "k", algorithm="HS384")
    assert await status({"Authorization": "Bearer " + bad}) == (401, "jwt_verification")
    r = await client.get("/v1/accounts", headers={"Authorization": token(nonce="n-1")})
    assert r.status_code == 200
    assert await status({"Authorization": token(nonce="n-1")}) == (401, "nonce_used")
    # query hash missing / over a re-sorted string / over the encoded string
    url = "/v1/order?uuid=abc&identifier=x"
    assert await status({"Authorization": token()}, url) == (401, "invalid_query_payload")
    assert await status({"Authorization": token("identifier=x&uuid=abc")}, url) == (
        401,
        "invalid_query_payload",
    )
    url = "/v1/orders/uuids?uuids%5B%5D=a"
    assert await status({"Authorization": token("uuids%5B%5D=a")}, url) == (
        401,
        "invalid_query_payload",
    )
    r = await client.get(url, headers={"Authorization": token("uuids[]=a")})
    assert r.status_code == 200
    # POST body hash must follow body key order
    body = buy("100000000", "0.001")
    wrong = "&".join(f"{k}={v}" for k, v in sorted(body.items()))
    r = await client.post(
        "/v1/orders",
        content=json.dumps(body),
        headers={"Authorization": token(wrong), "Content-Type": "application/json"},
    )
    assert (r.status_code, err(r)) == (401, "invalid_query_payload")
    assert fake.orders == {}


async def test_private_ws_auth_error(fake: FakeUpbit) -> None:
    async with websockets.connect(fake.ws_private_url) as ws:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert frame["error"]["name"] == "INVALID_AUTH"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)


# ---------------------------------------------------------------- orders: validation
ORDER_ERRORS = [
    ({"side": "bid", "ord_type": "limit", "price": "1000", "volume": "10"}, "validation_error"),
    (
        {
            "market": "KRW-BTCs",
            "side": "bid",
            "ord_type": "limit",
            "price": "100000000",
            "volume": "0.001",
        },
        "notfoundmarket",
    ),
    (buy("100000000", "0.001", side="buy"), "validation_error"),
    (buy("100000000", "0.001", ord_type="stop"), "validation_error"),
    (
        {"market": "KRW-BTC", "side": "bid", "ord_type": "limit", "price": "100000000"},
        "validation_error",
    ),
    (buy("100000000", "1e-3"), "validation_error"),
    (buy("100000000", "0.000000001"), "validation_error"),
    (
        {
            "market": "KRW-BTC",
            "side": "bid",
            "ord_type": "price",
            "price": "10000",
            "volume": "0.1",
        },
        "create_bid_error",
    ),
    (
        {"market": "KRW-BTC", "side": "ask", "ord_type": "price", "price": "10000"},
        "create_ask_error",
    ),
    (
        {
            "market": "KRW-BTC",
            "side": "ask",
            "ord_type": "market",
            "volume": "0.1",
            "price": "100000000",
        },
        "create_ask_error",
    ),
    (
        {"market": "KRW-BTC", "side": "bid", "ord_type": "market", "volume": "0.1"},
        "create_bid_error",
    ),
    (
        {"market": "KRW-BTC", "side": "bid", "ord_type": "best", "price": "10000"},
        "invalid_time_in_force",
    ),
    (
        {
            "market": "KRW-BTC",
            "side": "bid",
            "ord_type": "best",
            "price": "10000",
            "volume": "1",
            "time_in_force": "ioc",
        },
        "create_bid_error",
    ),
    (
        {
            "market": "KRW-BTC",
            "side": "ask",
            "ord_type": "best",
            "price": "10000",
            "volume": "1",
            "time_in_force": "fok",
        },
        "create_ask_error",
    ),
    (
        {
            "market": "KRW-BTC",
            "side": "bid",
            "ord_type": "price",
            "price": "10000",
            "time_in_force": "ioc",
        },
        "invalid_time_in_force",
    ),
    (buy("100000000", "0.001", time_in_force="gtc"), "invalid_time_in_force"),
    (
        buy("100000000", "0.001", time_in_force="post_only", smp_type="reduce"),
        "invalid_time_in_force",
    ),
    (buy("100000500", "0.001"), "invalid_price_bid"),
    (sell("1234.5", "10"), "invalid_price_ask"),
    (buy("100000000", "0.00004"), "under_min_total_bid"),
    (sell("100000000", "0.00004"), "under_min_total_ask"),
    (
        {"market": "KRW-BTC", "side": "bid", "ord_type": "price", "price": "4999"},
        "under_min_total_bid",
    ),
    (buy("100000000", "10.1"), "over_krw_funds_bid"),
    (sell("100000000", "10.1"), "over_krw_funds_ask"),
    (buy("100000000", "0.01"), "insufficient_funds_bid"),
    (sell("100000000", "0.1"), "insufficient_funds_ask"),
]


@pytest.mark.parametrize(("body", "name"), ORDER_ERRORS)
async def test_order_errors(
    fake: FakeUpbit, client: httpx.AsyncClient, body: dict[str, str], name: str
) -> None:
    fake.set_balance("KRW", D("100000"))
    fake.set_balance("BTC", D("0.01"))
    r = await apost(client, body)
    assert r.status_code == 400, r.text
    assert err(r) == name
    assert fake.orders == {}
    assert fake.balance("KRW") == (D("100000"), 0)


async def test_tick_table_accepts_on_grid_prices(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("10000000"))
    for price, volume in [
        ("1999000", "0.01"),
        ("650500", "0.01"),
        ("120100", "0.1"),
        ("7005", "1"),
        ("1234", "5"),
        ("99.9", "100"),
        ("5.55", "1000"),
    ]:
        body = {
            "market": "KRW-XRP",
            "side": "bid",
            "ord_type": "limit",
            "price": price,
            "volume": volume,
        }
        r = await apost(client, body)
        assert r.status_code == 201, (price, r.text)


@pytest.mark.parametrize("b", BOUNDARIES, ids=str)
async def test_tick_grid_follows_the_band_of_the_price_at_every_boundary(
    fake: FakeUpbit, client: httpx.AsyncClient, b: Boundary
) -> None:
    fake.set_balance("KRW", D("10000000"))

    async def limit_buy(price: D) -> httpx.Response:
        volume = (D(6000) / price).quantize(D("0.00000001"), rounding="ROUND_UP")
        body = {"market": "KRW-XRP", "side": "bid", "ord_type": "limit"}
        return await apost(client, {**body, "price": f"{price:f}", "volume": f"{volume:f}"})

    for price in (b.price - b.below, b.price, b.price + b.above):
        r = await limit_buy(price)
        assert r.status_code == 201, (price, r.text)
    if b.below < b.above:  # the lower band's step is off the upper band's grid, and back
        for price in (b.price + b.below, b.price - b.below - b.below / 2):
            r = await limit_buy(price)
            assert (r.status_code, err(r)) == (400, "invalid_price_bid"), price
            assert f"호가 단위: {b.above if price > b.price else b.below}" in r.text


async def test_a_per_pair_tick_exception_holds_in_its_band_and_in_instruments(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("10000000"))
    fake.set_tick_exception("KRW-XRP", D(1000), D(5000), D("0.5"))
    fake.set_orderbook("KRW-XRP", asks=[(D("1400.5"), D(100))], bids=[(D(1400), D(100))])
    r = await client.get("/v1/orderbook/instruments", params={"markets": "KRW-XRP"})
    assert r.json()[0]["tick_size"] == "0.5"

    def body(price: str) -> dict[str, str]:
        return {"market": "KRW-XRP", "side": "bid", "ord_type": "limit", "price": price}

    assert (await apost(client, {**body("1399.5"), "volume": "10"})).status_code == 201
    r = await apost(client, {**body("999.5"), "volume": "10"})  # under the band: the table
    assert err(r) == "invalid_price_bid"


async def test_market_not_json_rejected(client: httpx.AsyncClient) -> None:
    body = "market=KRW-BTC&side=bid&volume=1&price=1&ord_type=limit"
    r = await client.post(
        "/v1/orders",
        content=body,
        headers={
            "Authorization": token(body),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert (r.status_code, err(r)) == (400, "validation_error")


async def test_identifier_unique_forever(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000"))
    r = await apost(client, buy("100000000", "0.1", identifier="id-1"))  # rejected: funds
    assert err(r) == "insufficient_funds_bid"
    r = await apost(client, buy("100000000", "0.001", identifier="id-1"))
    assert (r.status_code, err(r)) == (400, "duplicate_identifier")
    r = await apost(client, buy("100000000", "0.001", identifier="id-2"))
    assert r.status_code == 201
    assert r.json()["identifier"] == "id-2"
    r = await apost(client, buy("100000000", "0.001", identifier="id-2"))
    assert err(r) == "duplicate_identifier"
    order = fake.order_by_identifier("id-2")
    assert order is not None
    assert fake.order_by_identifier("id-1") is None
    r = await aget(client, "/v1/order", [("identifier", "id-2")])
    assert r.json()["uuid"] == order.uuid
    # uuid wins over identifier
    r = await aget(client, "/v1/order", [("uuid", "nope"), ("identifier", "id-2")])
    assert (r.status_code, err(r)) == (404, "order_not_found")


# ---------------------------------------------------------------- orders: fills and fees
async def test_limit_bid_lock_arithmetic(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("200000000"))
    r = await apost(client, buy("155772000", "0.0001"))
    assert r.status_code == 201
    o = r.json()
    assert (o["state"], o["reserved_fee"], o["remaining_fee"], o["locked"]) == (
        "wait",
        "7.7886",
        "7.7886",
        "15584.9886",
    )
    assert o["volume"] == o["remaining_volume"] == "0.0001"
    assert o["executed_volume"] == "0"
    assert o["trades_count"] == 0
    r = await apost(client, buy("140000000", "1"))
    assert (r.json()["reserved_fee"], r.json()["locked"]) == ("70000", "140070000")
    assert fake.balance("KRW") == (
        D("200000000") - D("15584.9886") - D("140070000"),
        D("15584.9886") + D("140070000"),
    )


async def test_market_buy_doc_example(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("10000"))
    fake.set_orderbook("KRW-BTC", asks=[(D("160594000"), D("1"))], bids=[(D("160000000"), D("1"))])
    r = await apost(
        client, {"market": "KRW-BTC", "side": "bid", "ord_type": "price", "price": "6000"}
    )
    assert r.status_code == 201
    ack = r.json()
    assert (ack["state"], ack["reserved_fee"], ack["locked"]) == ("wait", "3", "6003")
    assert "volume" not in ack
    r = await aget(client, "/v1/order", [("uuid", ack["uuid"])])
    o = r.json()
    assert o["state"] == "cancel"
    assert (o["executed_volume"], o["paid_fee"], o["remaining_fee"], o["locked"]) == (
        "0.00003736",
        "2.99989592",
        "0.00010408",
        "0.20826408",
    )
    assert o["trades_count"] == 1
    assert o["trades"][0]["price"] == "160594000"
    assert o["trades"][0]["trend"] == "up"
    assert fake.balance("KRW") == (D("10000") - D("5999.79184") - D("2.99989592"), 0)
    assert fake.balance("BTC") == (D("0.00003736"), 0)
    assert fake.md.books["KRW-BTC"].asks[0][1] == D("1") - D("0.00003736")


async def test_market_sell_walks_bids(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("BTC", D("1"))
    fake.set_orderbook(
        "KRW-BTC", asks=[], bids=[(D("100000000"), D("0.001")), (D("99000000"), D("1"))]
    )
    r = await apost(
        client, {"market": "KRW-BTC", "side": "ask", "ord_type": "market", "volume": "0.003"}
    )
    assert r.status_code == 201
    o = (await aget(client, "/v1/order", [("uuid", r.json()["uuid"])])).json()
    funds = D("100000") + D("198000")
    assert o["state"] == "done"
    assert (o["reserved_fee"], o["locked"], o["remaining_volume"]) == ("0", "0", "0")
    assert D(o["paid_fee"]) == funds * D("0.0005")
    assert D(o["executed_funds"]) == funds
    assert [t["trend"] for t in o["trades"]] == ["down", "down"]
    assert fake.balance("KRW") == (funds * D("0.9995"), 0)
    assert fake.balance("BTC") == (D("0.997"), 0)


async def test_market_buy_without_book_uses_last_price(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("100000"))
    await fake.trade("KRW-BTC", D("50000000"), D("1"))
    r = await apost(
        client, {"market": "KRW-BTC", "side": "bid", "ord_type": "price", "price": "10000"}
    )
    o = fake.orders[r.json()["uuid"]]
    assert (o.state, o.executed_volume, o.executed_funds) == ("done", D("0.0002"), D("10000"))
    assert o.locked == 0
    assert fake.balance("KRW") == (D("100000") - D("10005"), 0)


async def test_limit_rests_then_fills_from_tape(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.set_balance("BTC", D("1"))
    bid = (await apost(client, buy("100000000", "0.004"))).json()
    ask = (await apost(client, sell("120000000", "0.5"))).json()
    assert fake.balance("BTC") == (D("0.5"), D("0.5"))
    await fake.trade("KRW-BTC", D("101000000"), D("1"))  # crosses neither
    assert fake.orders[bid["uuid"]].executed_volume == 0
    await fake.trade("KRW-BTC", D("99000000"), D("0.001"), "ASK")  # partial, at own price
    o = fake.orders[bid["uuid"]]
    assert (o.state, o.executed_volume, o.remaining_volume) == ("wait", D("0.001"), D("0.003"))
    assert o.trades[0].is_maker
    assert o.trades[0].price == D("100000000")
    assert o.paid_fee == D("50")
    assert o.locked == D("400200") - D("100050")
    assert fake.balance("KRW") == (D("1000000") - D("400200"), D("300150"))
    await fake.trade("KRW-BTC", D("100000000"), D("1"))
    assert fake.orders[bid["uuid"]].state == "done"
    assert fake.balance("KRW") == (D("1000000") - D("400200"), 0)
    assert fake.balance("BTC") == (D("0.504"), D("0.5"))
    await fake.trade("KRW-BTC", D("125000000"), D("0.2"))
    a = fake.orders[ask["uuid"]]
    assert (a.state, a.executed_volume, a.reserved_fee) == ("wait", D("0.2"), D("30000"))
    assert fake.balance("KRW")[0] == D("599800") + D("24000000") * D("0.9995")
    r = await aget(client, "/v1/orders/open", [("market", "KRW-BTC")])
    assert [x["uuid"] for x in r.json()] == [ask["uuid"]]
    r = await aget(client, "/v1/orders/closed", [("market", "KRW-BTC"), ("state", "done")])
    assert [x["uuid"] for x in r.json()] == [bid["uuid"]]
    assert r.json()[0]["executed_funds"] == "400000"


async def test_limit_taker_and_time_in_force(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("10000000"))
    fake.set_orderbook(
        "KRW-BTC",
        asks=[(D("100000000"), D("0.01")), (D("101000000"), D("1"))],
        bids=[(D("99000000"), D("1"))],
    )
    post = (await apost(client, buy("100000000", "0.001", time_in_force="post_only"))).json()
    assert fake.orders[post["uuid"]].state == "cancel"
    fok = (await apost(client, buy("100000000", "0.02", time_in_force="fok"))).json()
    assert (fake.orders[fok["uuid"]].state, fake.orders[fok["uuid"]].executed_volume) == (
        "cancel",
        0,
    )
    ioc = (await apost(client, buy("100000000", "0.02", time_in_force="ioc"))).json()
    o = fake.orders[ioc["uuid"]]
    assert (o.state, o.executed_volume) == ("cancel", D("0.01"))
    assert not o.trades[0].is_maker
    assert fake.md.books["KRW-BTC"].asks == [[D("101000000"), D("1")]]
    # plain limit crossing the book: taker part then rests
    rest = (await apost(client, buy("101000000", "0.03"))).json()
    o = fake.orders[rest["uuid"]]
    assert (o.state, o.executed_volume) == ("done", D("0.03"))
    best = (
        await apost(
            client,
            {
                "market": "KRW-BTC",
                "side": "bid",
                "ord_type": "best",
                "price": "1010000",
                "time_in_force": "ioc",
            },
        )
    ).json()
    o = fake.orders[best["uuid"]]
    assert (o.executed_volume, o.trades[0].price) == (D("0.01"), D("101000000"))
    assert o.state == "done"
    assert fake.balance("KRW")[1] == 0


# ---------------------------------------------------------------- cancel
async def test_cancel_flow(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000"))
    ids = [
        (await apost(client, buy("100000000", "0.001", identifier=f"c{i}"))).json()["uuid"]
        for i in range(4)
    ]
    r = await adelete(client, "/v1/order", [("uuid", ids[0])])
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["locked"]) == ("wait", "100050")
    assert fake.orders[ids[0]].state == "cancel"
    r = await adelete(client, "/v1/order", [("uuid", ids[0])])
    assert (r.status_code, err(r)) == (404, "order_not_found")
    r = await adelete(client, "/v1/order", [("identifier", "c1")])
    assert r.json()["uuid"] == ids[1]
    r = await adelete(client, "/v1/orders/uuids", [("uuids[]", ids[2]), ("uuids[]", "nope")])
    assert r.json()["success"] == {
        "count": 1,
        "orders": [{"uuid": ids[2], "market": "KRW-BTC", "identifier": "c2"}],
    }
    assert r.json()["failed"]["count"] == 1
    r = await aget(client, "/v1/orders/uuids", [("identifiers[]", "c3"), ("identifiers[]", "c0")])
    assert [(x["identifier"], x["state"]) for x in r.json()] == [("c3", "wait"), ("c0", "cancel")]
    r = await adelete(client, "/v1/orders/open", [("cancel_side", "bid"), ("pairs", "KRW-BTC")])
    assert r.json()["success"]["count"] == 1
    assert fake.balance("KRW") == (D("1000000"), 0)
    r = await adelete(client, "/v1/orders/open")
    assert r.status_code == 429  # order-cancel-all: 1 per 2 s


async def test_cancel_is_asynchronous_with_a_cancel_lag(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.cancel_lag = 2
    uuid_ = (await apost(client, buy("100000000", "0.003", identifier="a1"))).json()["uuid"]
    r = await adelete(client, "/v1/order", [("uuid", uuid_)])
    assert (r.status_code, r.json()["state"]) == (200, "wait")  # accepted, not done
    r = await aget(client, "/v1/order", [("uuid", uuid_)])  # 1st request after: still wait
    assert r.json()["state"] == "wait"
    r = await adelete(client, "/v1/order", [("uuid", uuid_)])  # 2nd: the cancel completes
    assert (r.status_code, err(r)) == (404, "order_not_found")
    assert fake.orders[uuid_].state == "cancel"
    assert fake.balance("KRW") == (D("1000000"), 0)


async def test_an_order_fills_while_its_cancel_is_pending(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.cancel_lag = 5
    uuid_ = (await apost(client, buy("100000000", "0.003"))).json()["uuid"]
    assert (await adelete(client, "/v1/order", [("uuid", uuid_)])).json()["state"] == "wait"
    await fake.trade("KRW-BTC", D("100000000"), D("0.003"), ask_bid="ASK")
    fake.settle_cancels()
    assert (fake.orders[uuid_].state, fake.orders[uuid_].executed_volume) == ("done", D("0.003"))


def cancel_and_new(prev: str, **fields: str) -> dict[str, str]:
    return {"prev_order_uuid": prev, "new_ord_type": "limit", **fields}


async def test_cancel_and_new_wire_format(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.set_orderbook("KRW-BTC", asks=[(D("97000000"), D(1))], bids=[])
    old = (await apost(client, buy("95000000", "0.005", identifier="old-1"))).json()
    await fake.trade("KRW-BTC", D("95000000"), D("0.002"), ask_bid="ASK")

    r = await apost(
        client,
        cancel_and_new(
            old["uuid"], new_volume="remain_only", new_price="96000000", new_identifier="new-1"
        ),
        path="/v1/orders/cancel_and_new",
    )

    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["uuid"], body["state"], body["identifier"]) == (old["uuid"], "wait", "old-1")
    assert body["new_order_identifier"] == "new-1"
    new = fake.orders[body["new_order_uuid"]]
    assert (new.identifier, new.price, new.volume) == ("new-1", D("96000000"), D("0.003"))
    assert (fake.orders[old["uuid"]].state, new.state) == ("cancel", "wait")
    assert fake.requests[-1].group == "order"
    assert r.headers["Remaining-Req"].startswith("group=order;")


@pytest.mark.parametrize(
    ("fields", "status", "name"),
    [
        ({"new_volume": "remain_only", "new_price": "96000000"}, 400, "validation_error"),
        (
            {"prev_order_uuid": "nope", "new_volume": "0.001", "new_price": "1"},
            404,
            "order_not_found",
        ),
        ({"new_volume": "0.001", "new_price": "96000500"}, 400, "invalid_price_bid"),
        ({"new_volume": "0.00001", "new_price": "96000000"}, 400, "under_min_total_bid"),
        ({"new_volume": "1", "new_price": "96000000"}, 400, "insufficient_funds_bid"),
        (
            {"new_volume": "remain_only", "new_price": "96000000", "new_identifier": "old-2"},
            400,
            "validation_error",
        ),
        (
            {"new_ord_type": "price", "new_volume": "remain_only", "new_price": "10000"},
            400,
            "validation_error",
        ),
    ],
)
async def test_cancel_and_new_refusals_change_nothing(
    fake: FakeUpbit, client: httpx.AsyncClient, fields: dict[str, str], status: int, name: str
) -> None:
    fake.set_balance("KRW", D("1000000"))
    old = (await apost(client, buy("95000000", "0.005", identifier="old-2"))).json()
    body = cancel_and_new(old["uuid"], **fields)
    if fields == {"new_volume": "remain_only", "new_price": "96000000"}:
        body.pop("new_ord_type")  # new_ord_type is required
    r = await apost(client, body, path="/v1/orders/cancel_and_new")
    assert (r.status_code, err(r)) == (status, name), r.text
    assert fake.orders[old["uuid"]].state == "wait"
    assert len(fake.orders) == 1


async def test_cancel_and_new_of_an_order_that_filled_first_creates_nothing(
    fake: FakeUpbit, client: httpx.AsyncClient
) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.cancel_lag = 2
    old = (await apost(client, buy("95000000", "0.005"))).json()
    r = await apost(
        client,
        cancel_and_new(
            old["uuid"], new_volume="remain_only", new_price="96000000", new_identifier="n-1"
        ),
        path="/v1/orders/cancel_and_new",
    )
    assert r.status_code == 201  # accepted; the cancel has not completed
    await fake.trade("KRW-BTC", D("95000000"), D("0.005"), ask_bid="ASK")  # fills it first
    fake.settle_cancels()
    r = await aget(client, "/v1/order", [("identifier", "n-1")])
    assert (r.status_code, err(r)) == (404, "order_not_found")
    assert fake.orders[old["uuid"]].state == "done"
    r = await apost(  # once done, it cannot be cancelled any more
        client,
        cancel_and_new(old["uuid"], new_volume="0.001", new_price="96000000"),
        path="/v1/orders/cancel_and_new",
    )
    assert (r.status_code, err(r)) == (404, "order_not_found")


async def test_chance_and_accounts(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000.5"))
    fake.set_balance("BTC", D("2"), D("0.5"))
    r = await aget(client, "/v1/orders/chance", [("market", "KRW-BTC")])
    c = r.json()
    assert (c["bid_fee"], c["market"]["bid"]["min_total"], c["ask_account"]["locked"]) == (
        "0.0005",
        "5000",
        "0.5",
    )
    r = await aget(client, "/v1/orders/chance", [("market", "KRW-NOPE")])
    assert err(r) == "notfoundmarket"
    r = await aget(client, "/v1/accounts")
    assert [(a["currency"], a["balance"]) for a in r.json()] == [
        ("KRW", "1000000.5"),
        ("BTC", "2"),
    ]
    r = await aget(client, "/v1/orders/open", [("state", "wait"), ("states[]", "wait")])
    assert err(r) == "validation_error"
    r = await aget(
        client,
        "/v1/orders/closed",
        [("start_time", "2025-06-01T00:00:00+09:00"), ("end_time", "2025-06-09T00:00:00+09:00")],
    )
    assert err(r) == "validation_error"
    r = await aget(client, "/v1/order")
    assert err(r) == "validation_error"


# ---------------------------------------------------------------- quotation
def candle(minute: int) -> dict[str, Any]:
    utc = f"2025-07-01T12:{minute:02d}:00"
    return {
        "market": "KRW-BTC",
        "candle_date_time_utc": utc,
        "candle_date_time_kst": f"2025-07-01T21:{minute:02d}:00",
        "opening_price": 145831000,
        "high_price": 145831000,
        "low_price": 145752000,
        "trade_price": 145759000 + minute,
        "timestamp": 1751327999833,
        "candle_acc_trade_price": D("4022470467.03403"),
        "candle_acc_trade_volume": D("27.58904602"),
        "unit": 1,
    }


async def test_candles_paging(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_candles("KRW-BTC", "minutes/1", [candle(m) for m in range(10)])
    r = await client.get("/v1/candles/minutes/1", params={"market": "KRW-BTC", "count": "3"})
    assert r.headers["Remaining-Req"] == "group=candles; min=600; sec=9"
    rows = dec(r)
    assert [x["candle_date_time_utc"][-5:] for x in rows] == ["09:00", "08:00", "07:00"]
    assert rows[0]["candle_acc_trade_price"] == D("4022470467.03403")
    assert '"candle_acc_trade_price":4022470467.03403' in r.text
    r = await client.get("/v1/candles/minutes/1", params={"market": "KRW-BTC"})
    assert len(r.json()) == 1  # count defaults to 1
    for to in [
        "2025-07-01T12:07:00Z",
        "2025-07-01 12:07:00",
        "2025-07-01T21:07:00+09:00",
        "2025-07-01T12:07:00",
    ]:
        r = await client.get(
            "/v1/candles/minutes/1", params={"market": "KRW-BTC", "count": "500", "to": to}
        )
        assert [x["candle_date_time_utc"][-5:] for x in r.json()] == [
            f"{m:02d}:00" for m in range(6, -1, -1)
        ], to
    r = await client.get("/v1/candles/minutes/1?market=KRW-BTC&to=2025-07-01T21:07:00+09:00")
    assert r.status_code == 400  # unencoded + became a space
    assert r.json() == {
        "error": {"name": 400, "message": "Invalid parameter. Check the given value!"}
    }
    fake.reset_rate_limits()  # candles allow 10 requests per second
    r = await client.get("/v1/candles/minutes/2", params={"market": "KRW-BTC"})
    assert (r.status_code, r.json()["error"]["name"]) == (400, 400)
    r = await client.get("/v1/candles/minutes/1", params={"count": "2"})
    assert r.status_code == 400
    r = await client.get("/v1/candles/days", params={"market": "KRW-BTC"})
    assert r.json() == []
    fake.set_candles("KRW-BTC", "days", [candle(0) for _ in range(250)])
    r = await client.get("/v1/candles/days", params={"market": "KRW-BTC", "count": "250"})
    assert len(r.json()) == 200


async def test_market_lifecycle_switches(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    """Warning, caution flags, market_state, delisting_date and the listing itself, as a test
    scripts them, on market/all, the REST ticker and the WebSocket ticker message."""
    fake.set_market_warning("KRW-ETH")
    fake.set_market_caution("KRW-XRP", "PRICE_FLUCTUATIONS")
    fake.set_market_state("KRW-BTC", "ACTIVE", delisting_date=date(2026, 9, 1))
    r = await client.get("/v1/market/all", params={"is_details": "true"})
    events = {m["market"]: m["market_event"] for m in r.json()}
    assert events["KRW-ETH"]["warning"] is True
    assert events["KRW-XRP"]["caution"]["PRICE_FLUCTUATIONS"] is True
    assert not any(events["KRW-XRP"]["caution"][c] for c in ("TRADING_VOLUME_SOARING",))
    r = await client.get("/v1/ticker", params={"markets": "KRW-BTC,KRW-ETH"})
    states = {t["market"]: (t["market_state"], t["delisting_date"]) for t in r.json()}
    assert states == {"KRW-BTC": ("ACTIVE", "2026-09-01"), "KRW-ETH": ("ACTIVE", None)}
    ws = fake.md.ticker_ws("KRW-BTC", "SNAPSHOT")
    assert ws["delisting_date"] == {"year": 2026, "month": 9, "day": 1}
    fake.set_listed("KRW-XRP", False)
    fake.set_market_state("KRW-BTC")
    r = await client.get("/v1/market/all", params={"is_details": "true"})
    assert [m["market"] for m in r.json()] == ["KRW-BTC", "KRW-ETH"]
    r = await client.get("/v1/ticker", params={"markets": "KRW-BTC"})
    assert r.json()[0]["delisting_date"] is None
    with pytest.raises(ValueError, match="caution flag"):
        fake.set_market_caution("KRW-BTC", "MOON")
    with pytest.raises(ValueError, match="market_state"):
        fake.set_market_state("KRW-BTC", "GONE")


async def test_quotation_endpoints(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/market/all", params={"is_details": "true"})
    assert [m["market"] for m in r.json()] == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    assert r.json()[0]["market_event"]["warning"] is False
    assert r.headers["Remaining-Req"].startswith("group=market;")
    r = await client.get("/v1/market/all")
    assert "market_event" not in r.json()[0]
    r = await client.get("/v1/ticker", params={"markets": "KRW-BTC,KRW-NOPE"})
    assert r.status_code == 404
    assert r.json() == {"error": {"name": 404, "message": "Code not found"}}
    await fake.trade("KRW-BTC", D("148601000"), D("0.00016823"), "ASK")
    r = await client.get("/v1/ticker", params={"markets": "KRW-BTC"})
    t = dec(r)[0]
    assert (t["trade_price"], t["trade_volume"], t["change"]) == (
        D("148601000"),
        D("0.00016823"),
        "EVEN",
    )
    assert r.headers["Remaining-Req"].startswith("group=ticker;")
    r = await client.get("/v1/trades/ticks", params={"market": "KRW-BTC", "count": "5"})
    assert dec(r)[0]["ask_bid"] == "ASK"
    assert r.headers["Remaining-Req"].startswith("group=trade;")
    fake.set_orderbook(
        "KRW-BTC",
        asks=[(D("148520000"), D("0.0134662")), (D("148590000"), D("0.00075646"))],
        bids=[(D("148490000"), D("0.04296774"))],
    )
    r = await client.get("/v1/orderbook", params={"markets": "KRW-BTC", "count": "1"})
    ob = dec(r)[0]
    assert ob["orderbook_units"] == [
        {
            "ask_price": 148520000,
            "bid_price": 148490000,
            "ask_size": D("0.0134662"),
            "bid_size": D("0.04296774"),
        }
    ]
    assert r.headers["Remaining-Req"].startswith("group=orderbook;")
    r = await client.get("/v1/orderbook/instruments", params={"markets": "KRW-BTC"})
    assert r.json()[0]["tick_size"] == "1000"


# ---------------------------------------------------------------- rate limits
async def test_remaining_req_sliding_window() -> None:
    async with (
        FakeUpbit(rate_limits={"market": 3}) as fake,
        httpx.AsyncClient(base_url=fake.rest_url) as c,
    ):
        secs = []
        for _ in range(3):
            r = await c.get("/v1/market/all")
            secs.append(r.headers["Remaining-Req"])
        assert secs == [f"group=market; min=180; sec={n}" for n in (2, 1, 0)]
        await asyncio.sleep(0.6)
        r = await c.get("/v1/market/all")
        assert r.status_code == 429
        assert r.text == "Too many API requests."
        assert r.headers["Remaining-Req"] == "group=market; min=180; sec=0"
        await asyncio.sleep(0.45)  # the first three fell out of the sliding window
        r = await c.get("/v1/market/all")
        assert r.status_code == 200
        assert r.headers["Remaining-Req"] == "group=market; min=180; sec=2"
        r = await c.get("/v1/ticker", params={"markets": "KRW-BTC"})  # other group unaffected
        assert r.status_code == 200


async def test_429_then_418_ban() -> None:
    async with (
        FakeUpbit(rate_limits={"ticker": 1}, ban_seconds=0.4, plain_text_429=False) as fake,
        httpx.AsyncClient(base_url=fake.rest_url) as c,
    ):
        url = "/v1/ticker?markets=KRW-BTC"
        assert (await c.get(url)).status_code == 200
        statuses = [(await c.get(url)).status_code for _ in range(6)]
        assert statuses == [429] * 5 + [418]
        r = await c.get(url)
        assert r.status_code == 418
        assert r.json()["error"]["name"] == "too_many_requests_blocked"
        assert "1초" in r.json()["error"]["message"]
        r = await c.get("/v1/market/all")
        assert r.status_code == 200
        await asyncio.sleep(1.05)
        assert (await c.get(url)).status_code == 200
        assert [q.status for q in fake.requests].count(429) == 5
        fake2 = fake
        fake2.faults.ban("market", 0.3)
        r = await c.get("/v1/market/all")
        assert r.status_code == 418
        assert r.headers["Remaining-Req"] == "group=market; min=600; sec=0"


# ---------------------------------------------------------------- faults
async def test_fail_and_delay_faults(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.faults.fail_next(500, path="/v1/ticker", count=2)
    fake.faults.fail_next(
        503, method="GET", path="/v1/market", body={"error": {"name": "x", "message": "y"}}
    )
    fake.faults.fail_next(429, path="/v1/orderbook")
    r = await client.get("/v1/ticker", params={"markets": "KRW-BTC"})
    assert (r.status_code, err(r)) == (500, "internal_server_error")
    assert "Remaining-Req" in r.headers
    assert (await client.get("/v1/ticker", params={"markets": "KRW-BTC"})).status_code == 500
    assert (await client.get("/v1/ticker", params={"markets": "KRW-BTC"})).status_code == 200
    r = await client.get("/v1/market/all")
    assert (r.status_code, r.json()) == (503, {"error": {"name": "x", "message": "y"}})
    r = await client.get("/v1/orderbook", params={"markets": "KRW-BTC"})
    assert (r.status_code, r.text) == (429, "Too many API requests.")
    fake.faults.delay_next(0.5, path="/v1/market/all")
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/market/all", timeout=0.15)
    fake.faults.fail_next(500)
    fake.faults.clear()
    assert (await client.get("/v1/market/all")).status_code == 200


async def test_lose_response_applies_order(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000"))
    fake.faults.lose_response_next()
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await apost(client, buy("100000000", "0.001", identifier="lost-1"), timeout=0.3)
    assert time.monotonic() - started < 2
    order = fake.order_by_identifier("lost-1")
    assert order is not None
    assert order.state == "wait"
    assert fake.requests[-1].status is None
    assert fake.requests[-1].body == buy("100000000", "0.001", identifier="lost-1")
    r = await aget(client, "/v1/order", [("identifier", "lost-1")])
    assert r.json()["uuid"] == order.uuid
    fake.faults.lose_response_next(close=True)
    with pytest.raises(httpx.TransportError):
        await apost(client, buy("100000000", "0.001", identifier="lost-2"))
    assert fake.order_by_identifier("lost-2") is not None


# ---------------------------------------------------------------- websocket
async def recv(ws: Any, wait: float = 2.0) -> Any:
    raw = await asyncio.wait_for(ws.recv(), wait)
    assert isinstance(raw, bytes), raw  # data arrives as binary frames
    return json.loads(raw, parse_float=Decimal)


async def nothing(ws: Any, wait: float = 0.25) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), wait)


async def drain(ws: Any) -> BaseException:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 2)
    except websockets.ConnectionClosed as exc:
        return exc


def sub(*types: dict[str, Any], fmt: str | None = None) -> str:
    msg: list[dict[str, Any]] = [{"ticket": "t-1"}, *types]
    if fmt:
        msg.append({"format": fmt})
    return json.dumps(msg)


async def test_ws_public_snapshot_realtime_and_replace(fake: FakeUpbit) -> None:
    await fake.trade("KRW-BTC", D("100000000"), D("0.5"))
    fake.set_orderbook("KRW-BTC", asks=[(D("100001000"), D("1"))], bids=[(D("99999000"), D("2"))])
    async with websockets.connect(fake.ws_url) as ws:
        await ws.send(
            sub(
                {"type": "ticker", "codes": ["KRW-BTC", "KRW-ETH"]},
                {"type": "orderbook", "codes": ["KRW-BTC.1"]},
            )
        )
        first, second = await recv(ws), await recv(ws)
        assert (first["type"], first["stream_type"], first["trade_price"]) == (
            "ticker",
            "SNAPSHOT",
            D("100000000"),
        )
        assert (second["type"], len(second["orderbook_units"])) == ("orderbook", 1)
        await nothing(ws)  # no ETH data yet -> no snapshot
        await fake.trade("KRW-BTC", D("100001000"), D("0.1"))
        got = [await recv(ws), await recv(ws)]
        assert [(m["type"], m["stream_type"]) for m in got] == [
            ("ticker", "REALTIME"),
            ("orderbook", "REALTIME"),
        ]
        assert got[0]["trade_price"] == D("100001000")
        # a new subscription replaces the old one
        await ws.send(sub({"type": "trade", "codes": ["KRW-BTC"], "isOnlyRealtime": True}))
        await nothing(ws)
        await fake.trade("KRW-BTC", D("100002000"), D("0.2"), "ASK")
        m = await recv(ws)
        assert (m["type"], m["trade_price"], m["ask_bid"], m["best_bid_size"]) == (
            "trade",
            D("100002000"),
            "ASK",
            D("2"),
        )
        await nothing(ws)
        await ws.send(json.dumps([{"ticket": "t-2"}, {"method": "LIST_SUBSCRIPTIONS"}]))
        listing = await recv(ws)
        assert listing["result"] == [{"type": "trade", "codes": ["KRW-BTC"]}]
        await ws.send("PING")
        assert await recv(ws) == {"status": "UP"}


async def test_ws_simple_and_list_formats(fake: FakeUpbit) -> None:
    await fake.trade("KRW-BTC", D("100000000"), D("0.5"))
    fake.set_orderbook("KRW-BTC", asks=[(D("100001000"), D("1"))], bids=[])
    async with websockets.connect(fake.ws_url) as ws:
        await ws.send(
            sub(
                {"type": "ticker", "codes": ["KRW-BTC"]},
                {"type": "trade", "codes": ["KRW-BTC"]},
                {"type": "orderbook", "codes": ["KRW-BTC"], "is_only_snapshot": True},
                fmt="SIMPLE",
            )
        )
        ticker, trade, book = await recv(ws), await recv(ws), await recv(ws)
        assert {
            "ty",
            "cd",
            "op",
            "hp",
            "lp",
            "tp",
            "pcp",
            "c",
            "cp",
            "scp",
            "cr",
            "scr",
            "tv",
            "atv",
            "atv24h",
            "atp",
            "atp24h",
            "tdt",
            "ttm",
            "ttms",
            "ab",
            "aav",
            "abv",
            "h52wp",
            "h52wdt",
            "l52wp",
            "l52wdt",
            "ms",
            "dd",
            "tms",
            "st",
        } == set(ticker)
        assert {
            "ty",
            "cd",
            "tp",
            "tv",
            "ab",
            "pcp",
            "c",
            "cp",
            "td",
            "ttm",
            "ttms",
            "tms",
            "sid",
            "bap",
            "bas",
            "bbp",
            "bbs",
            "st",
        } == set(trade)
        assert set(book) == {"ty", "cd", "tms", "tas", "tbs", "obu", "st", "lv"}
        assert set(book["obu"][0]) == {"ap", "bp", "as", "bs"}
        assert (ticker["ty"], ticker["st"], trade["ty"]) == ("ticker", "SNAPSHOT", "trade")
        await ws.send(sub({"type": "trade", "codes": ["KRW-BTC"]}, fmt="JSON_LIST"))
        listed = await recv(ws)
        assert isinstance(listed, list)
        assert listed[0]["type"] == "trade"
        await ws.send(sub({"type": "trade", "codes": ["KRW-BTC"]}, fmt="SIMPLE_LIST"))
        assert (await recv(ws))[0]["ty"] == "trade"


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("not json", "WRONG_FORMAT"),
        ('{"ticket": "x"}', "WRONG_FORMAT"),
        ('[{"type": "ticker", "codes": ["KRW-BTC"]}]', "NO_TICKET"),
        ('[{"ticket": "x"}]', "NO_TYPE"),
        ('[{"ticket": "x"}, {"type": "ticker"}]', "NO_CODES"),
        ('[{"ticket": "x"}, {"type": "ticker", "codes": []}]', "NO_CODES"),
        ('[{"ticket": "x"}, {"type": "nope", "codes": ["KRW-BTC"]}]', "INVALID_PARAM"),
        (
            '[{"ticket": "x"}, {"type": "ticker", "codes": ["KRW-BTC"]}, {"format": "XML"}]',
            "INVALID_PARAM",
        ),
        ('[{"ticket": "x"}, {"type": "myOrder"}]', "INVALID_AUTH"),
    ],
)
async def test_ws_error_frames(fake: FakeUpbit, message: str, name: str) -> None:
    async with websockets.connect(fake.ws_url) as ws:
        await ws.send(message)
        assert (await recv(ws))["error"]["name"] == name


async def test_ws_private_streams(fake: FakeUpbit, client: httpx.AsyncClient) -> None:
    fake.set_balance("KRW", D("1000000"))
    headers = {"Authorization": token()}
    async with websockets.connect(fake.ws_private_url, additional_headers=headers) as ws:
        await ws.send(sub({"type": "myAsset", "codes": ["KRW-BTC"]}))
        assert (await recv(ws))["error"]["name"] == "WRONG_FORMAT"
        await ws.send(sub({"type": "myOrder"}, {"type": "myAsset"}))
        await nothing(ws)  # realtime only: no snapshot
        r = await apost(client, buy("100000000", "0.001", identifier="ws-1"))
        uid = r.json()["uuid"]
        wait, asset = await recv(ws), await recv(ws)
        assert (wait["type"], wait["state"], wait["uuid"], wait["identifier"]) == (
            "myOrder",
            "wait",
            uid,
            "ws-1",
        )
        assert wait["locked"] == D("100050")
        assert asset["type"] == "myAsset"
        assert asset["assets"] == [
            {"currency": "KRW", "balance": D("899950"), "locked": D("100050")}
        ]
        await fake.trade("KRW-BTC", D("100000000"), D("0.0004"))
        fill, assets = await recv(ws), await recv(ws)
        assert (fill["state"], fill["volume"], fill["price"], fill["is_maker"]) == (
            "trade",
            D("0.0004"),
            100000000,
            True,
        )
        assert fill["trade_fee"] == D("20")
        assert fill["trade_uuid"]
        assert {a["currency"] for a in assets["assets"]} == {"KRW", "BTC"}
        await adelete(client, "/v1/order", [("uuid", uid)])
        cancel = await recv(ws)
        assert (cancel["state"], cancel["remaining_volume"]) == ("cancel", D("0.0006"))
        await recv(ws)  # myAsset for the released funds
        # SIMPLE myOrder / myAsset keys
        await ws.send(
            sub({"type": "myOrder", "codes": ["KRW-BTC"]}, {"type": "myAsset"}, fmt="SIMPLE")
        )
        await apost(
            client, {"market": "KRW-BTC", "side": "ask", "ord_type": "market", "volume": "0.0004"}
        )
        msgs = [await recv(ws)]
        while msgs[-1]["ty"] != "myAsset":
            msgs.append(await recv(ws))
        simple, simple_asset = msgs[0], msgs[-1]
        assert [m["s"] for m in msgs[:-1]] == ["wait", "trade", "done"]  # fills at last price
        assert (msgs[1]["im"], msgs[1]["v"], msgs[2]["ev"]) == (False, D("0.0004"), D("0.0004"))
        assert {
            "ty",
            "cd",
            "uid",
            "ab",
            "ot",
            "s",
            "tuid",
            "p",
            "ap",
            "v",
            "rv",
            "ev",
            "tc",
            "rsf",
            "rmf",
            "pf",
            "l",
            "ef",
            "tif",
            "tf",
            "im",
            "id",
            "smpt",
            "pv",
            "pl",
            "ttms",
            "otms",
            "tms",
            "st",
        } == set(simple)
        assert set(simple_asset) == {"ty", "astuid", "ast", "asttms", "tms", "st"}
        assert set(simple_asset["ast"][0]) == {"cu", "b", "l"}
        # myOrder codes filter other markets out
        fake.set_balance("KRW", D("1000000"))
        await recv(ws)
        await apost(
            client,
            {
                "market": "KRW-ETH",
                "side": "bid",
                "ord_type": "limit",
                "price": "5000000",
                "volume": "0.01",
            },
        )
        assert (await recv(ws))["ty"] == "myAsset"
        await nothing(ws)


async def test_ws_ping_drop_and_silence(fake: FakeUpbit) -> None:
    fake.ws_hub.status_interval = 0.1
    async with websockets.connect(fake.ws_url) as ws:
        await ws.send("PING")
        assert await recv(ws) == {"status": "UP"}
        assert await recv(ws, 0.5) == {"status": "UP"}  # periodic while healthy
        await ws.send(sub({"type": "trade", "codes": ["KRW-BTC"]}))
        fake.faults.ws_silence(True)
        await asyncio.sleep(0.15)
        await fake.trade("KRW-BTC", D("100000000"), D("1"))
        await ws.send("PING")
        await nothing(ws, 0.3)
        await ws.ping()  # protocol-level ping still answered
        fake.faults.ws_silence(False)
        await fake.trade("KRW-BTC", D("100000000"), D("1"))
        while (m := await recv(ws)) == {"status": "UP"}:
            pass
        assert m["type"] == "trade"
        fake.faults.ws_drop()
        assert isinstance(await drain(ws), websockets.ConnectionClosedError)  # no close frame
    for _ in range(50):
        if fake.ws_connections == 0:
            break
        await asyncio.sleep(0.02)
    assert fake.ws_connections == 0


# ---------------------------------------------------------------- refusal log, owner by hand
async def test_rejections_log_the_refused_bodies_and_reasons(fake, client):
    fake.set_balance("KRW", D("1000000"))
    fake.set_balance("BTC", D("0.001"))
    await fake.trade("KRW-BTC", D("100000000"), D("0.01"))
    fake.faults.fail_next(500, method="POST", path="/v1/orders")  # a fault is no refusal
    assert (await apost(client, buy("100000000", "0.001", identifier="f-1"))).status_code == 500
    ok = await apost(client, buy("99000000", "0.001", identifier="ok-1"))  # rests
    off_grid = await apost(client, buy("100000500", "0.001", identifier="grid-1"))
    too_much = await apost(client, sell("100000000", "0.002", identifier="funds-1"))
    tiny = await apost(client, buy("100000000", "0.00001", identifier="tiny-1"))

    assert ok.status_code == 201
    assert [err(r) for r in (off_grid, too_much, tiny)] == [
        "invalid_price_bid",
        "insufficient_funds_ask",
        "under_min_total_bid",
    ]
    assert [(r.body or {}).get("identifier") for r in fake.order_requests] == [
        None,  # the fault answered before the body was read
        "ok-1",
        "grid-1",
        "funds-1",
        "tiny-1",
    ]
    refused = fake.rejections
    assert [(r.error, (r.body or {})["identifier"]) for r in refused] == [
        ("invalid_price_bid", "grid-1"),
        ("insufficient_funds_ask", "funds-1"),
        ("under_min_total_bid", "tiny-1"),
    ]
    assert refused[1].body == sell("100000000", "0.002", identifier="funds-1")
    assert refused[1].error_message == "매도가능 잔고(BTC)이 부족합니다."
    assert all(r.status == 400 for r in refused)


async def test_withdraw_and_deposit_move_the_free_balance_only(fake, client):
    fake.set_balance("BTC", D("0.5"), D("0.1"))
    fake.withdraw("BTC", D("0.2"))
    assert fake.balance("BTC") == (D("0.3"), D("0.1"))
    fake.deposit("BTC", D("0.05"))
    assert fake.balance("BTC") == (D("0.35"), D("0.1"))
    with pytest.raises(ValueError, match=r"0\.35 free"):
        fake.withdraw("BTC", D("0.4"))  # what an order locks cannot be taken
    with pytest.raises(ValueError, match="cannot deposit"):
        fake.deposit("BTC", D(0))
    accounts = dec(await aget(client, "/v1/accounts"))
    btc = next(a for a in accounts if a["currency"] == "BTC")
    assert (D(btc["balance"]), D(btc["locked"])) == (D("0.35"), D("0.1"))
