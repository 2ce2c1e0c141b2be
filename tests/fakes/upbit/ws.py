"""WebSocket endpoints ``/websocket/v1`` and ``/websocket/v1/private`` (reference §8).

* Private: the handshake needs ``Authorization: Bearer <jwt>`` (no query_hash).  A missing or
  bad token is answered by accepting the upgrade, sending an ``INVALID_AUTH`` error frame and
  closing with code 4001.
* Each subscription message replaces the previous one; snapshots (``stream_type`` SNAPSHOT) are
  sent for ticker/trade/orderbook when data exists, then REALTIME updates.
* Everything (data, ``{"status":"UP"}``, error frames) is sent as binary UTF-8 JSON frames.
* Text ``PING`` -> ``{"status":"UP"}`` at once and every ``status_interval`` s afterwards.
* ``silent`` drops every outgoing message (the sockets stay open); ``drop_all`` aborts every
  TCP connection without a close frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .auth import Authenticator
from .errors import ApiError
from .jsonenc import dumps
from .market import MarketData, TapeTrade
from .ws_format import encode
from .ws_subscribe import PRIVATE_TYPES, Sub, Subscription, WsError, parse


@dataclass
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    private: bool
    sub: Subscription | None = None
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    status_task: asyncio.Task[None] | None = None


class WsHub:
    def __init__(self, md: MarketData, auth: Authenticator, status_interval: float = 10.0) -> None:
        self.md = md
        self.auth = auth
        self.status_interval = status_interval
        self.connections: list[Connection] = []
        self.silent = False
        self.received: list[tuple[bool, str]] = []  # (private, raw text) of client messages

    # ----- outgoing -----
    def _send(self, conn: Connection, message: dict[str, Any]) -> None:
        fmt = conn.sub.fmt if conn.sub else "DEFAULT"
        conn.queue.put_nowait(encode(message, fmt))

    def _send_raw(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.queue.put_nowait(dumps(message).encode("utf-8"))

    def _matching(self, kind: str, market: str | None) -> list[tuple[Connection, Sub]]:
        out = []
        for conn in self.connections:
            for sub in conn.sub.subs if conn.sub else []:
                if sub.type == kind and not sub.only_snapshot and sub.wants(market):
                    out.append((conn, sub))
        return out

    def emit(self, kind: str, obj: Any) -> None:
        """Called synchronously by the exchange for every event."""
        if kind == "trade":
            assert isinstance(obj, TapeTrade)
            for conn, _ in self._matching("trade", obj.market):
                self._send(conn, self.md.trade_ws(obj, "REALTIME"))
        elif kind == "ticker":
            for conn, _ in self._matching("ticker", obj):
                self._send(conn, self.md.ticker_ws(obj, "REALTIME"))
        elif kind == "orderbook":
            for conn, sub in self._matching("orderbook", obj):
                self._send(conn, self.md.orderbook_ws(obj, sub.depths.get(obj, 30), "REALTIME"))
        elif kind in PRIVATE_TYPES:
            for conn, _ in self._matching(kind, obj.get("code")):
                if conn.private:
                    self._send(conn, obj)

    def _snapshot(self, conn: Connection, sub: Sub) -> None:
        for market in sub.codes:
            if market not in self.md.tape:
                continue
            tape = self.md.tape[market]
            if sub.type == "ticker" and tape:
                self._send(conn, self.md.ticker_ws(market, "SNAPSHOT"))
            elif sub.type == "trade" and tape:
                self._send(conn, self.md.trade_ws(tape[0], "SNAPSHOT"))
            elif sub.type == "orderbook" and self.md.has_book(market):
                depth = sub.depths.get(market, 30)
                self._send(conn, self.md.orderbook_ws(market, depth, "SNAPSHOT"))

    async def _sender(self, conn: Connection) -> None:
        while True:
            data = await conn.queue.get()
            if self.silent or conn.ws.closed:
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_bytes(data)

    async def _status(self, conn: Connection) -> None:
        while True:
            await asyncio.sleep(self.status_interval)
            self._send_raw(conn, {"status": "UP"})

    # ----- incoming -----
    def _on_text(self, conn: Connection, text: str) -> None:
        self.received.append((conn.private, text))
        if text == "PING":
            if self.silent:
                return
            self._send_raw(conn, {"status": "UP"})
            if conn.status_task is None:
                conn.status_task = asyncio.create_task(self._status(conn))
            return
        try:
            sub = parse(text, private=conn.private)
        except WsError as err:
            self._send_raw(conn, err.frame())
            return
        if sub.list_request:
            result = (
                [{"type": s.type, "codes": s.codes} for s in conn.sub.subs] if conn.sub else []
            )
            self._send_raw(
                conn, {"method": "LIST_SUBSCRIPTIONS", "result": result, "ticket": sub.ticket}
            )
            return
        conn.sub = sub
        for item in sub.subs:
            if not item.only_realtime and item.type not in PRIVATE_TYPES:
                self._snapshot(conn, item)

    async def handle(self, request: web.Request, *, private: bool) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, request, private)
        if private:
            try:
                self.auth.decode(request.headers.get("Authorization"))
            except ApiError:
                error = {
                    "error": {"name": "INVALID_AUTH", "message": "인증 정보가 올바르지 않습니다."}
                }
                await ws.send_bytes(dumps(error).encode("utf-8"))
                await ws.close(code=4001, message=b"INVALID_AUTH")
                return ws
        self.connections.append(conn)
        sender = asyncio.create_task(self._sender(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._on_text(conn, msg.data.decode("utf-8", "replace"))
        finally:
            self.connections.remove(conn)
            for task in (sender, conn.status_task):
                if task is not None:
                    task.cancel()
        return ws

    def drop_all(self) -> None:
        for conn in list(self.connections):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
