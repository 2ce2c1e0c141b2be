"""UpbitWebSocket: buffer policy, lifecycle, handshake rejection, and end-to-end with FakeUpbit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tests.fakes.upbit import FakeUpbit
from trading.events import Event, FeedConnected, FeedFailed, FeedGapped, FeedStalled
from trading.upbit.auth import Credentials, encode_query, make_token
from trading.upbit.ws_buffer import WsBuffer
from trading.upbit.ws_client import Subscription, UpbitWebSocket
from trading.upbit.ws_messages import MyAsset, MyOrder, RawMessage, Ticker, Trade, WsMessage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAST: dict[str, Any] = {
    "ping_interval_s": 0.1,
    "stale_after_s": 0.5,
    "backoff_base_s": 0.05,
    "backoff_max_s": 0.2,
    "close_timeout_s": 0.5,
}


def ticker(price: int) -> Ticker:
    return Ticker(code="KRW-BTC", trade_price=Decimal(price), timestamp=T0, stream_type="REALTIME")


def trade(seq: int) -> Trade:
    return Trade(
        code="KRW-BTC",
        trade_price=Decimal(1),
        trade_volume=Decimal(1),
        ask_bid="BID",
        trade_timestamp=T0,
        sequential_id=seq,
        timestamp=T0,
        stream_type="REALTIME",
    )


class Events(list[Event]):
    """An EventSink that records, plus a waiter for the n-th event of a kind."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.append(event)
        self._changed.set()

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self if isinstance(e, kind)]

    async def wait_for(self, kind: type[Event], count: int = 1, within: float = 3.0) -> list[Any]:
        async with asyncio.timeout(within):
            while len(self.of(kind)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.of(kind)


async def collect(
    client: UpbitWebSocket,
    done: Callable[[list[WsMessage]], bool],
    within: float = 3.0,
) -> list[WsMessage]:
    got: list[WsMessage] = []
    async with asyncio.timeout(within):
        async for msg in client.messages():
            got.append(msg)
            if done(got):
                break
    return got


# ------------------------------------------------------------------ buffer policy


async def test_buffer_drops_oldest_ticker_never_trades() -> None:
    buf = WsBuffer(3)
    for item in (ticker(1), trade(1), ticker(2)):
        assert await buf.put(item, stall_timeout_s=0.01)
    assert await buf.put(trade(2), stall_timeout_s=0.01)  # evicts ticker(1)
    assert await buf.put(ticker(3), stall_timeout_s=0.01)  # evicts ticker(2)
    assert buf.drops == 2
    got = [buf.get_nowait() for _ in range(3)]
    assert got == [trade(1), trade(2), ticker(3)]


async def test_buffer_full_of_trades_drops_new_ticker_and_overflows_on_trade() -> None:
    buf = WsBuffer(2)
    await buf.put(trade(1), stall_timeout_s=0.01)
    await buf.put(trade(2), stall_timeout_s=0.01)
    assert await buf.put(ticker(1), stall_timeout_s=0.01)
    assert buf.drops == 1
    assert not await buf.put(trade(3), stall_timeout_s=0.01)  # kept, but reported
    assert len(buf) == 3
    assert [buf.get_nowait() for _ in range(3)] == [trade(1), trade(2), trade(3)]


async def test_buffer_trade_waits_for_consumer() -> None:
    buf = WsBuffer(1)
    await buf.put(trade(1), stall_timeout_s=0.01)
    put = asyncio.create_task(buf.put(trade(2), stall_timeout_s=2))
    await asyncio.sleep(0.05)
    assert not put.done()
    assert await buf.get() == trade(1)
    assert await put is True
    buf.close()
    assert await buf.get() == trade(2)
    assert await buf.get() is None


# ------------------------------------------------------------------ lifecycle and validation


async def test_lifecycle_errors() -> None:
    client = UpbitWebSocket("ws://127.0.0.1:9/", [Subscription("trade", ["KRW-BTC"])], **FAST)
    with pytest.raises(RuntimeError, match="before start"):
        await client.stop()
    await client.start()
    with pytest.raises(RuntimeError, match="running"):
        await client.start()
    await client.stop()
    await client.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        await client.start()
    async with asyncio.timeout(1):
        assert [m async for m in client.messages()] == []


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="credentials"):
        UpbitWebSocket("wss://x/private", [Subscription("myOrder")])
    with pytest.raises(ValueError, match="websocket URL"):
        UpbitWebSocket("https://x", [Subscription("trade", ["KRW-BTC"])])
    with pytest.raises(ValueError, match="at least one"):
        UpbitWebSocket("wss://x", [])


# ------------------------------------------------------------------ minimal local server


@pytest.fixture
async def rejecting_server() -> AsyncIterator[tuple[str, list[Request]]]:
    """Rejects the first handshakes with 401 then 429, then serves one ticker and echoes PING."""
    seen: list[Request] = []
    statuses = [401, 429]

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        seen.append(request)
        if statuses:
            return conn.respond(statuses.pop(0), "no\n")
        return None

    async def handler(conn: ServerConnection) -> None:
        async for text in conn:
            if text == "PING":
                await conn.send(b'{"status":"UP"}')
            else:
                sub = json.loads(text)
                assert sub[0]["ticket"]
                await conn.send(
                    json.dumps(
                        {
                            "ty": "ticker",
                            "cd": "KRW-BTC",
                            "tp": 1.5,
                            "tms": 1,
                            "st": "SNAPSHOT",
                        }
                    ).encode()
                )

    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/websocket/v1/private", seen


async def test_handshake_rejection_backs_off_and_retries_with_fresh_token(
    rejecting_server: tuple[str, list[Request]], caplog: pytest.LogCaptureFixture
) -> None:
    url, seen = rejecting_server
    events = Events()
    client = UpbitWebSocket(
        url,
        [Subscription("myOrder"), Subscription("ticker", ["KRW-BTC"])],
        credentials=Credentials("test-access", "test-secret"),
        fmt="SIMPLE",
        on_event=events,
        **FAST,
    )
    async with client:
        (msg,) = await collect(client, lambda got: len(got) == 1)
    assert isinstance(msg, Ticker)
    assert msg.trade_price == Decimal("1.5")
    assert [e.name for e in events.of(FeedFailed)] == ["HTTP 401", "HTTP 429"]
    assert len(events.of(FeedConnected)) == 1
    assert events.of(FeedGapped) == []  # failed handshakes before the first connect are no gap
    tokens = [r.headers["Authorization"] for r in seen]
    assert len(tokens) == 3
    assert all(t.startswith("Bearer ") for t in tokens)
    assert len(set(tokens)) == 3  # a fresh nonce per handshake
    assert "HTTP 401" in caplog.text
    assert client.stats.errors == 2


async def test_malformed_frame_is_counted_and_skipped() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.recv()  # the subscription
        await conn.send(b"{not json")
        await conn.send('{"type":"trade","code":"KRW-BTC"}')  # missing fields
        await conn.send('{"type":"announcement","title":"hi"}')
        await conn.send('{"status":"UP"}')
        async for _ in conn:
            pass

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        ws = UpbitWebSocket(f"ws://127.0.0.1:{port}", [Subscription("trade", ["KRW-BTC"])], **FAST)
        async with ws:
            (raw,) = await collect(ws, lambda got: len(got) == 1)
            await asyncio.wait_for(ws.wait_connected(), 3)
    assert isinstance(raw, RawMessage)
    assert raw.type == "announcement"
    assert ws.stats.parse_errors == 2
    assert ws.stats.messages == 1


# ------------------------------------------------------------------ end-to-end against FakeUpbit

BTC = "KRW-BTC"
ETH = "KRW-ETH"


async def until(cond: Callable[[], bool], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 -- polling a counter, nothing to wait on
            await asyncio.sleep(0.01)


def public(fake: FakeUpbit, events: Events, **kwargs: Any) -> UpbitWebSocket:
    subs = [Subscription("trade", [BTC, ETH]), Subscription("ticker", [BTC, ETH])]
    return UpbitWebSocket(fake.ws_url, subs, on_event=events, name="public", **(FAST | kwargs))


async def place_order(fake: FakeUpbit, market: str, side: str, volume: str, price: str) -> None:
    """A signed POST /v1/orders, the way Upbit wants it (query_hash over the body in order)."""
    pairs = [
        ("market", market),
        ("side", side),
        ("volume", volume),
        ("price", price),
        ("ord_type", "limit"),
    ]
    _, hashed = encode_query(pairs)
    token = make_token(Credentials("test-access", "test-secret"), hashed)
    async with httpx.AsyncClient(base_url=fake.rest_url) as http:
        resp = await http.post(
            "/v1/orders", json=dict(pairs), headers={"Authorization": f"Bearer {token}"}
        )
    assert resp.status_code == 201, resp.text


def realtime(msgs: list[WsMessage], kind: type) -> list[Any]:
    return [m for m in msgs if isinstance(m, kind) and getattr(m, "stream_type", "") == "REALTIME"]


@pytest.mark.parametrize("fmt", ["DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST"])
async def test_trades_and_tickers_for_two_markets(fake: FakeUpbit, fmt: Any) -> None:
    events = Events()
    ws = public(fake, events, fmt=fmt)
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        await fake.trade(BTC, Decimal("100005000"), Decimal("0.0123"), ask_bid="BID")
        await fake.trade(ETH, Decimal("5001000"), Decimal("1.5"), ask_bid="ASK")
        got = await collect(
            ws, lambda g: len(realtime(g, Trade)) == 2 and len(realtime(g, Ticker)) >= 2
        )
    trades = {t.code: t for t in realtime(got, Trade)}
    assert trades[BTC].trade_price == Decimal("100005000")
    assert trades[BTC].trade_volume == Decimal("0.0123")
    assert trades[BTC].ask_bid == "BID"
    assert trades[ETH].trade_price == Decimal("5001000")
    assert trades[ETH].ask_bid == "ASK"
    assert trades[ETH].timestamp.tzinfo is UTC
    tickers = {t.code: t for t in realtime(got, Ticker)}
    assert tickers[BTC].trade_price == Decimal("100005000")
    assert tickers[ETH].trade_price == Decimal("5001000")
    assert [type(e) for e in events] == [FeedConnected]
    sent = [text for private, text in fake.ws_received if not private]
    assert "PING" in sent
    assert json.loads(sent[0])[-1] == {"format": fmt}
    stats = ws.stats
    assert stats.messages >= 4
    assert stats.reconnects == 0
    assert stats.last_message_at is not None
    assert stats.connected is False  # stopped


async def test_private_my_order_and_my_asset(fake: FakeUpbit) -> None:
    events = Events()
    ws = UpbitWebSocket(
        fake.ws_private_url,
        [Subscription("myOrder", [BTC]), Subscription("myAsset")],
        credentials=Credentials("test-access", "test-secret"),
        fmt="SIMPLE",
        on_event=events,
        name="private",
        **FAST,
    )
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        await place_order(fake, BTC, "bid", volume="0.001", price="100010000")
        got = await collect(
            ws,
            lambda g: (
                any(isinstance(m, MyOrder) and m.state == "done" for m in g)
                and any(isinstance(m, MyAsset) for m in g)
            ),
        )
    orders = [m for m in got if isinstance(m, MyOrder)]
    assert orders[0].state == "wait"
    fill = next(o for o in orders if o.state == "trade")
    assert fill.price == Decimal("100010000")
    assert fill.volume == Decimal("0.001")
    assert fill.ask_bid == "BID"
    assert fill.is_maker is False
    assets = {a.currency: a for m in got if isinstance(m, MyAsset) for a in m.assets}
    assert "BTC" in assets
    assert assets["BTC"].balance == Decimal("0.501")
    assert not events.of(FeedFailed)


async def test_invalid_auth_is_surfaced_and_retried(fake: FakeUpbit) -> None:
    events = Events()
    ws = UpbitWebSocket(
        fake.ws_private_url,
        [Subscription("myAsset")],
        credentials=Credentials("test-access", "wrong-secret"),
        on_event=events,
        name="private",
        **FAST,
    )
    async with ws:
        errors = await events.wait_for(FeedFailed, count=2)
    assert {e.name for e in errors} == {"INVALID_AUTH"}
    assert ws.last_error is not None
    assert ws.last_error.name == "INVALID_AUTH"
    assert not events.of(FeedConnected)  # an auth failure never counts as connected
    assert not events.of(FeedGapped)


async def test_reconnect_after_drop_resubscribes_and_reports_gap(fake: FakeUpbit) -> None:
    events = Events()
    ws = public(fake, events)
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        await fake.trade(BTC, Decimal("100005000"), Decimal("0.1"))
        await collect(ws, lambda g: len(realtime(g, Trade)) == 1)
        dropped_at = datetime.now(UTC)
        fake.faults.ws_drop()
        (gap,) = await events.wait_for(FeedGapped)
        await asyncio.wait_for(ws.wait_connected(), 3)
        await fake.trade(ETH, Decimal("5002000"), Decimal("0.2"))
        got = await collect(ws, lambda g: len(realtime(g, Trade)) == 1)
    assert realtime(got, Trade)[0].code == ETH  # re-subscribed on the new connection
    subs = [t for _, t in fake.ws_received if t != "PING"]
    assert len(subs) == 2
    assert subs[0] == subs[1]  # the same complete set, same ticket
    assert gap.stream == "public"
    assert gap.disconnected_at <= dropped_at < gap.reconnected_at
    assert len(events.of(FeedConnected)) == 2
    assert ws.stats.reconnects == 1
    assert ws.stats.connects == 2


async def test_silence_goes_stale_then_reconnects(fake: FakeUpbit) -> None:
    events = Events()
    ws = public(fake, events)
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        fake.faults.ws_silence(True)
        (stale, *_) = await events.wait_for(FeedStalled)
        assert stale.silent_for_s >= FAST["stale_after_s"]
        fake.faults.ws_silence(False)
        await events.wait_for(FeedGapped)
        await fake.trade(BTC, Decimal("100005000"), Decimal("0.3"))
        got = await collect(ws, lambda g: len(realtime(g, Trade)) == 1)
    assert realtime(got, Trade)[0].trade_volume == Decimal("0.3")
    assert ws.stats.stale >= 1
    assert ws.stats.reconnects == 1


async def test_resubscribe_replaces_the_set(fake: FakeUpbit) -> None:
    events = Events()
    ws = public(fake, events)
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        await ws.resubscribe([Subscription("trade", [ETH])])
        await asyncio.sleep(0.2)  # let the fake apply it (answered PINGs prove ordering)
        await fake.trade(BTC, Decimal("100005000"), Decimal("0.1"))
        await fake.trade(ETH, Decimal("5002000"), Decimal("0.2"))
        got = await collect(ws, lambda g: len(realtime(g, Trade)) == 1)
        fake.faults.ws_drop()
        await events.wait_for(FeedGapped)
        await asyncio.wait_for(ws.wait_connected(), 3)
        await fake.trade(BTC, Decimal("100006000"), Decimal("0.1"))
        await fake.trade(ETH, Decimal("5003000"), Decimal("0.4"))
        again = await collect(ws, lambda g: len(realtime(g, Trade)) == 1)
    assert [t.code for t in realtime(got, Trade)] == [ETH]
    assert [(t.code, t.trade_volume) for t in realtime(again, Trade)] == [(ETH, Decimal("0.4"))]
    assert not [m for m in got + again if isinstance(m, Ticker) and m.stream_type == "REALTIME"]


async def test_slow_consumer_overflow_becomes_a_gap(fake: FakeUpbit) -> None:
    events = Events()
    ws = public(fake, events, queue_size=2, stall_timeout_s=0.05)
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        for i in range(4):
            await fake.trade(BTC, Decimal("100005000"), Decimal(i + 1))
        await until(lambda: ws.stats.overflows == 1)
        got = await collect(ws, lambda g: len(realtime(g, Trade)) == 3)
        await events.wait_for(FeedGapped)
    assert [t.trade_volume for t in realtime(got, Trade)] == [1, 2, 3]  # none dropped
    assert ws.stats.drops >= 1  # tickers made room first


async def test_stop_is_clean_and_idempotent(fake: FakeUpbit) -> None:
    ws = public(fake, Events())
    await ws.start()
    with pytest.raises(RuntimeError):
        await ws.start()
    await asyncio.wait_for(ws.wait_connected(), 3)
    consumer = asyncio.create_task(collect(ws, lambda g: False))
    await asyncio.wait_for(ws.stop(), 2)
    await asyncio.wait_for(ws.stop(), 2)
    assert await asyncio.wait_for(consumer, 2) == []  # messages() ended
    assert not ws.connected
    await asyncio.sleep(0.2)
    assert fake.ws_connections == 0
