"""The Socket Mode side: ``ws://127.0.0.1:PORT/socket?ticket=...`` issued by apps.connections.open.

Protocol (as slack_sdk's socket-mode clients expect it): on connect the server sends
``{"type": "hello", ...}``; envelopes are ``{"envelope_id", "type", "payload",
"accepts_response_payload"}``; the client acks with ``{"envelope_id": ...[, "payload": {...}]}``
within 3 s; ``{"type": "disconnect", "reason": ...}`` asks the client to reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .faults import Faults
from .records import Ack, Envelope

ACK_TIMEOUT = 3.0


@dataclass
class Connection:
    id: int
    ws: web.WebSocketResponse
    opened_at: float
    received: list[str] = field(default_factory=list)
    dropped: bool = False


class SocketHub:
    def __init__(
        self, faults: Faults, app_id: str, on_ack: Callable[[Envelope, Ack], None]
    ) -> None:
        self.faults = faults
        self.app_id = app_id
        self.on_ack = on_ack
        self.tickets: set[str] = set()
        self.active: list[Connection] = []
        self.total_connections = 0
        self.envelopes: dict[str, Envelope] = {}
        self.acks: list[Ack] = []
        self.protocol_errors: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed: Callable[[], None] = lambda: None

    def issue_ticket(self) -> str:
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.is_down:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            self.protocol_errors.append(f"socket connect with unknown/used ticket {ticket!r}")
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self.tickets.discard(ticket)  # a URL is good for one connection
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.total_connections += 1
        conn = Connection(self.total_connections, ws, time.monotonic())
        self.active.append(conn)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.active),
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        self._changed()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    conn.received.append(msg.data)
                    self._on_client_message(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            if conn in self.active:
                self.active.remove(conn)
            self._changed()
        return ws

    def _on_client_message(self, conn: Connection, data: str) -> None:
        try:
            msg = json.loads(data)
        except ValueError:
            self.protocol_errors.append(f"conn {conn.id}: non-JSON message {data[:200]!r}")
            return
        env_id = msg.get("envelope_id") if isinstance(msg, dict) else None
        if not env_id:
            self.protocol_errors.append(f"conn {conn.id}: no envelope_id in {data[:200]}")
            return
        envelope = self.envelopes.get(env_id)
        if envelope is None:
            self.protocol_errors.append(f"conn {conn.id}: ack for unknown envelope {env_id}")
            return
        if envelope.ack is not None:
            self.protocol_errors.append(f"conn {conn.id}: duplicate ack for {env_id}")
            return
        latency = time.monotonic() - envelope.sent_at
        payload = msg.get("payload")
        ack = Ack(env_id, envelope.type, latency, latency > ACK_TIMEOUT, payload)
        envelope.ack = ack
        self.acks.append(ack)
        self.on_ack(envelope, ack)
        self._changed()

    async def wait_connected(self, limit: float) -> Connection:
        deadline = time.monotonic() + limit
        while True:
            live = [c for c in self.active if not c.dropped and not c.ws.closed]
            if live:
                return live[-1]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no Socket Mode connection within {limit} s")
            await asyncio.sleep(0.01)

    async def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        connect_timeout: float,
    ) -> str:
        conn = await self.wait_connected(connect_timeout)
        env_id = str(uuid.uuid4())
        envelope = Envelope(
            env_id, type_, payload, accepts_response_payload, time.monotonic(), conn.id
        )
        self.envelopes[env_id] = envelope
        message = {
            "envelope_id": env_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type_ == "events_api":
            message["retry_attempt"] = 0
            message["retry_reason"] = ""
        await conn.ws.send_str(json.dumps(message))
        return env_id

    async def send_disconnect(self, reason: str = "refresh_requested") -> int:
        live = [c for c in self.active if not c.dropped and not c.ws.closed]
        for c in live:
            with contextlib.suppress(ConnectionError):
                await c.ws.send_str(
                    json.dumps(
                        {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}}
                    )
                )
        return len(live)

    def drop_all(self) -> int:
        live = [c for c in self.active if not c.dropped and not c.ws.closed]
        for c in live:
            c.dropped = True
            task = asyncio.get_running_loop().create_task(
                c.ws.close(code=1001, message=b"dropped by fake")
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._changed()
        return len(live)

    async def close(self) -> None:
        self.drop_all()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
