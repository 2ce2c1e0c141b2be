"""``FakeSlack``: Web API + Socket Mode + response_url + file uploads on 127.0.0.1 (aiohttp)."""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from ..flood import FloodWaits
from . import payloads
from .faults import Faults
from .ratelimit import RateLimiter
from .records import (
    Ack,
    ApiRequest,
    Edit,
    Envelope,
    HttpReply,
    Message,
    ResponsePost,
    Upload,
)
from .socket_mode import SocketHub

T = TypeVar("T")

CHANNEL_ID_RE = re.compile(r"^[CDG][A-Z0-9]+$")
USER_ID_RE = re.compile(r"^[UW][A-Z0-9]+$")
MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
# methods that post into a channel: a 429 wait for that channel holds them back
CHANNEL_SENDS = ("chat.postMessage", "chat.postEphemeral", "chat.update")


class ApiError(Exception):
    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}


class _ResponseTarget:
    def __init__(
        self, channel_id: str, user_id: str, message_ts: str | None, envelope_id: str | None
    ) -> None:
        self.channel_id = channel_id
        self.user_id = user_id
        self.message_ts = message_ts
        self.envelope_id = envelope_id
        self.uses = 0


class FakeSlack:
    def __init__(
        self,
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-test",
        signing_secret: str = "shhh",
        team_id: str = "T1",
        bot_user_id: str = "UBOT",
        *,
        bot_id: str = "B1",
        app_id: str = "A1",
        team_domain: str = "fake-team",
        channels: dict[str, str] | None = None,
        rate_limits: bool = True,
        per_channel_rate: float = 1.0,
        per_channel_burst: int = 4,
        response_url_uses: int = 5,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.revoked: set[str] = set()  # ``revoke``: tokens refused with ``token_revoked``
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_domain = team_domain
        # None: any well-formed C/D/G id (or a U id -> its DM) exists; else only these id -> name
        self.channels: dict[str, str] | None = dict(channels) if channels is not None else None
        self.users: dict[str, dict[str, Any]] = {}
        self.response_url_uses = response_url_uses
        self.limits = RateLimiter(
            enabled=rate_limits,
            per_channel_rate=per_channel_rate,
            per_channel_burst=per_channel_burst,
        )
        self.faults = Faults(on_drop=self._drop_sockets)
        self.flood = FloodWaits()  # 429 waits per channel; posts inside one are refused and kept
        self.socket = SocketHub(self.faults, app_id, self._on_ack)

        self.requests: list[ApiRequest] = []
        self.uploads: list[Upload] = []
        self.responses: list[ResponsePost] = []
        self._messages: list[Message] = []
        self._uploads_by_id: dict[str, Upload] = {}
        self._targets: dict[str, _ResponseTarget] = {}
        self._env_targets: dict[str, str] = {}  # envelope id -> response_url token
        self._ts_counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application(middlewares=[self._down_middleware], client_max_size=50 * 2**20)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/socket", self.socket.handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ urls & state
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """Pass as ``AsyncWebClient(base_url=...)`` (has the trailing slash)."""
        return f"{self.base_url}api/"

    def messages(self, channel_id: str, *, include_deleted: bool = False) -> list[Message]:
        return [
            m
            for m in self._messages
            if m.channel == channel_id and (include_deleted or not m.deleted)
        ]

    def all_messages(self) -> list[Message]:
        return list(self._messages)

    def message(self, channel_id: str, ts: str) -> Message | None:
        for m in self._messages:
            if m.channel == channel_id and m.ts == ts:
                return m
        return None

    @property
    def acks(self) -> list[Ack]:
        return self.socket.acks

    @property
    def envelopes(self) -> dict[str, Envelope]:
        return self.socket.envelopes

    @property
    def protocol_errors(self) -> list[str]:
        """Socket Mode misbehaviour by the client (bad JSON, unknown/duplicate acks, ...)."""
        return self.socket.protocol_errors

    @property
    def connections(self) -> int:
        """How many Socket Mode connections are open right now."""
        return len([c for c in self.socket.active if not c.dropped and not c.ws.closed])

    @property
    def total_connections(self) -> int:
        """How many Socket Mode connections were ever accepted."""
        return self.socket.total_connections

    def calls(self, method: str) -> list[ApiRequest]:
        return [r for r in self.requests if r.method == method]

    def revoke(self, token: str) -> None:
        """As an admin revoking the bot or app token: every later Web API call with it gets
        ``{"ok": false, "error": "token_revoked"}`` (open sockets stay up, as on Slack)."""
        self.revoked.add(token)

    def add_user(self, user_id: str, name: str, *, tz: str = "Asia/Seoul") -> None:
        self.users[user_id] = {"id": user_id, "name": name, "tz": tz}

    def add_channel(self, channel_id: str, name: str) -> None:
        if self.channels is None:
            self.channels = {}
        self.channels[channel_id] = name

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented test-side API
        *,
        message: str = "condition",
    ) -> T:
        """Poll ``predicate`` until truthy (IndexError/KeyError count as "not yet")."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except (IndexError, KeyError):
                value = None  # type: ignore[assignment]
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{message} not met within {timeout} s")
            await asyncio.sleep(0.01)

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:  # noqa: ASYNC109
        env = self.socket.envelopes[envelope_id]
        await self.wait_for(lambda: env.ack, timeout, message=f"ack of {envelope_id}")
        assert env.ack is not None
        return env.ack

    async def wait_connected(self, timeout: float = 5.0, *, total: int = 1) -> None:  # noqa: ASYNC109
        """Wait until a socket is open and at least ``total`` connections were ever accepted."""
        await self.wait_for(
            lambda: self.connections > 0 and self.total_connections >= total,
            timeout,
            message=f"Socket Mode connection #{total}",
        )

    # ------------------------------------------------------------------ Slack -> app
    def _user_name(self, user_id: str) -> str:
        return str(self.users.get(user_id, {}).get("name") or user_id.lower())

    def _channel_name(self, channel_id: str) -> str:
        if self.channels and channel_id in self.channels:
            return self.channels[channel_id]
        return "directmessage" if channel_id.startswith("D") else channel_id.lower()

    def _new_response_url(
        self, channel_id: str, user_id: str, message_ts: str | None = None
    ) -> tuple[str, str]:
        token = uuid.uuid4().hex
        self._targets[token] = _ResponseTarget(channel_id, user_id, message_ts, None)
        return token, f"{self.base_url}response/{token}"

    def slash_payload(
        self, user_id: str, channel_id: str, text: str, *, command: str = "/upbit"
    ) -> dict[str, Any]:
        """The form fields Slack sends for a slash command (``response_url`` points here)."""
        _, url = self._new_response_url(channel_id, user_id)
        return payloads.slash_payload(
            command=command,
            text=text,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            team_id=self.team_id,
            team_domain=self.team_domain,
            api_app_id=self.app_id,
            response_url=url,
        )

    def block_actions_payload(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None,
        *,
        block_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload for a button on a message this fake has seen."""
        msg = self.message(channel_id, message_ts)
        if msg is None or msg.deleted:
            raise LookupError(f"no message ts={message_ts} in {channel_id}: nothing to click")
        found = payloads.find_block_id(msg.blocks, action_id)
        if found is None and block_id is None:
            raise LookupError(f"message {message_ts} has no element with action_id={action_id!r}")
        if msg.ephemeral_user is not None and msg.ephemeral_user != user_id:
            raise LookupError(f"ephemeral message {message_ts} is not visible to {user_id}")
        _, url = self._new_response_url(channel_id, user_id, message_ts)
        return payloads.block_actions_payload(
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            team_id=self.team_id,
            team_domain=self.team_domain,
            api_app_id=self.app_id,
            message_ts=message_ts,
            message=None if msg.ephemeral else self._message_json(msg),
            is_ephemeral=msg.ephemeral,
            action_id=action_id,
            value=value,
            block_id=block_id or found or "",
            response_url=url,
        )

    async def slash_command(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        command: str = "/upbit",
        connect_timeout: float = 5.0,
    ) -> str:
        """Send a slash command over Socket Mode; returns the envelope id (see ``wait_ack``)."""
        payload = self.slash_payload(user_id, channel_id, text, command=command)
        return await self._send(payload, "slash_commands", True, connect_timeout)

    async def press_button(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None,
        *,
        block_id: str | None = None,
        connect_timeout: float = 5.0,
    ) -> str:
        """Click ``action_id`` on a posted message (Socket Mode ``interactive`` envelope)."""
        payload = self.block_actions_payload(
            user_id, channel_id, message_ts, action_id, value, block_id=block_id
        )
        return await self._send(payload, "interactive", False, connect_timeout)

    async def send_event(self, event: dict[str, Any], *, connect_timeout: float = 5.0) -> str:
        """Send an Events API ``event_callback`` (e.g. ``{"type": "app_mention", ...}``)."""
        payload = {
            "token": payloads.VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self._send(payload, "events_api", False, connect_timeout)

    async def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send ``{"type": "disconnect"}`` (the client should open a new connection)."""
        return await self.socket.send_disconnect(reason)

    async def _send(
        self, payload: dict[str, Any], type_: str, accepts: bool, connect_timeout: float
    ) -> str:
        env_id = await self.socket.send_envelope(
            type_, payload, accepts_response_payload=accepts, connect_timeout=connect_timeout
        )
        token = str(payload.get("response_url", "")).rsplit("/", 1)[-1]
        if token in self._targets:
            self._targets[token].envelope_id = env_id
            self._env_targets[env_id] = token
        return env_id

    async def post_signed(
        self,
        url: str,
        kind: str,
        payload: dict[str, Any],
        *,
        signing_secret: str | None = None,
        bad_signature: bool = False,
        timestamp: int | str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> HttpReply:
        """POST to the bot's HTTP endpoint exactly like Slack: form-encoded (interactive as
        ``payload=<json>``; ``kind="event"`` as JSON), X-Slack-Signature/-Request-Timestamp.

        The same ``payload`` and ``timestamp`` give the same bytes: a replay. ``retry_num``
        makes it one of Slack's own retries: the same body, signed anew (give it a new
        ``timestamp``), with X-Slack-Retry-Num and X-Slack-Retry-Reason."""
        secret = self.signing_secret if signing_secret is None else signing_secret
        body, headers = payloads.signed_request(
            kind, payload, secret, bad_signature=bad_signature, timestamp=timestamp
        )
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        started = time.monotonic()
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=body, headers=headers) as resp,
        ):
            text = await resp.text()
            reply = HttpReply(resp.status, text, dict(resp.headers), time.monotonic() - started)
        if kind == "slash" and reply.status == 200 and text.strip():
            try:
                body_json = json.loads(text)
            except ValueError:
                body_json = {"text": text}
            self._record_response(
                self._targets.get(str(payload.get("response_url", "")).rsplit("/", 1)[-1]),
                body_json if isinstance(body_json, dict) else {"text": text},
                "http",
            )
        return reply

    # ------------------------------------------------------------------ app -> Slack responses
    def _on_ack(self, envelope: Envelope, ack: Ack) -> None:
        if envelope.type != "slash_commands" or not ack.payload:
            return
        if not (ack.payload.get("text") or ack.payload.get("blocks")):
            return
        token = self._env_targets.get(envelope.envelope_id)
        self._record_response(self._targets.get(token or ""), ack.payload, "ack")

    def _record_response(
        self, target: _ResponseTarget | None, body: dict[str, Any], source: str, status: int = 200
    ) -> ResponsePost:
        post = ResponsePost(
            target.envelope_id if target else None,
            target.channel_id if target else None,
            target.user_id if target else None,
            body,
            source,
            status,
        )
        self.responses.append(post)
        if target is None or status != 200:
            return post
        blocks = body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        original = (
            self.message(target.channel_id, target.message_ts) if target.message_ts else None
        )
        if _truthy(body.get("delete_original")) and original is not None:
            original.deleted = True
        elif _truthy(body.get("replace_original")) and original is not None:
            original.edits.append(Edit(original.text, original.blocks, original.source))
            original.text = body.get("text")
            original.blocks = blocks
        else:
            in_channel = body.get("response_type") == "in_channel"
            self._messages.append(
                Message(
                    channel=target.channel_id,
                    ts=self._new_ts(),
                    text=body.get("text"),
                    blocks=blocks,
                    attachments=body.get("attachments"),
                    thread_ts=body.get("thread_ts"),
                    ephemeral_user=None if in_channel else target.user_id,
                    source="response_url" if source == "response_url" else "ack",
                )
            )
        return post

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        target = self._targets.get(request.match_info["token"])
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                return web.Response(status=400, text="invalid_payload")
        else:
            form = await request.post()
            raw = form.get("payload")
            body = json.loads(str(raw)) if raw else {k: str(v) for k, v in form.items()}
        if target is None:
            self._record_response(None, body, "response_url", 404)
            return web.Response(status=404, text="no_such_url")
        wait = self.flood.check(target.channel_id, "response_url")
        if not wait:
            planned = self.faults.take("response_url")
            wait = (planned.retry_after or 1) if planned is not None else 0
            if wait:
                self.flood.announce(target.channel_id, float(wait))
        if wait:
            self._record_response(target, body, "response_url", 429)
            headers = {"Retry-After": str(wait)}
            return web.Response(status=429, text="rate_limited", headers=headers)
        target.uses += 1
        if target.uses > self.response_url_uses:
            self._record_response(target, body, "response_url", 404)
            return web.Response(status=404, text="used_url")
        if not isinstance(body, dict) or not (
            body.get("text") or body.get("blocks") or _truthy(body.get("delete_original"))
        ):
            bad = body if isinstance(body, dict) else {}
            self._record_response(target, bad, "response_url", 400)
            return web.Response(status=400, text="no_text")
        self._record_response(target, body, "response_url")
        return web.Response(text="ok")

    # ------------------------------------------------------------------ web api plumbing
    @web.middleware
    async def _down_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if self.faults.is_down:
            if self.faults.refuse and request.transport is not None:
                request.transport.abort()
                raise asyncio.CancelledError  # nothing is sent: the client sees a dropped line
            return web.Response(
                status=503,
                text="<html><body>Service Unavailable</body></html>",
                content_type="text/html",
            )
        return await handler(request)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], str]:
        params: dict[str, Any] = dict(request.query)
        kind = "query" if params else "empty"
        if request.method != "POST" or not request.can_read_body:
            return params, kind
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError as e:
                raise ApiError("invalid_json") from e
            if not isinstance(body, dict):
                raise ApiError("invalid_json")
            params.update(body)
            return params, "json"
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                params[k] = v.file.read() if isinstance(v, web.FileField) else v
            return params, "multipart" if ctype.startswith("multipart") else "form"
        await request.read()
        return params, kind

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        record = ApiRequest(method, {}, None, "empty", at=time.time())
        self.requests.append(record)
        try:
            params, record.body_kind = await self._read_params(request)
            token = _bearer(request.headers.get("Authorization"))
            body_token = params.pop("token", None)
            token = token or (str(body_token) if body_token else None)
            record.params, record.token = params, token
            self._check_auth(method, token)
            channel = params.get("channel") if method in CHANNEL_SENDS else None
            left = self.flood.check(channel, method) if channel else 0
            if left:
                raise ApiError("ratelimited", 429, {"Retry-After": str(left)})
            planned = self.faults.take(method)
            if planned is not None:
                headers = {}
                if planned.retry_after is not None:
                    headers["Retry-After"] = str(planned.retry_after)
                status = planned.status or 200
                error = planned.error or ("ratelimited" if status == 429 else "fatal_error")
                raise ApiError(error, status, headers)
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError("unknown_method")
            channel = params.get("channel") if method == "chat.postMessage" else None
            retry_after = self.limits.check(method, token or "", str(channel or ""))
            if retry_after is not None:
                raise ApiError("ratelimited", 429, {"Retry-After": str(retry_after)})
            result = {"ok": True, **handler(params)}
        except ApiError as e:
            record.status, record.ok, record.error = e.status, False, e.error
            channel = record.params.get("channel")
            if e.status == 429 and channel and method in CHANNEL_SENDS:
                self.flood.announce(channel, float(e.headers.get("Retry-After", 1)))
            return web.json_response(
                {"ok": False, "error": e.error}, status=e.status, headers=e.headers
            )
        return web.json_response(result)

    def _check_auth(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        wants_app_token = method == "apps.connections.open"
        if token in self.revoked:
            raise ApiError("token_revoked")
        if token in (self.bot_token, self.app_token):
            if (token == self.app_token) != wants_app_token:
                raise ApiError("not_allowed_token_type")
            return
        raise ApiError("invalid_auth")

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    def _resolve_channel(self, raw: Any) -> str:
        channel = str(raw or "")
        if not channel:
            raise ApiError("channel_not_found")
        if self.channels is not None:
            if channel in self.channels:
                return channel
            for cid, name in self.channels.items():
                if channel.lstrip("#") == name:
                    return cid
            raise ApiError("channel_not_found")
        if CHANNEL_ID_RE.match(channel):
            return channel
        if USER_ID_RE.match(channel):
            return "D" + channel[1:]
        raise ApiError("channel_not_found")

    def _message_json(self, m: Message) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": m.ts,
            "text": m.text or "",
        }
        if m.blocks is not None:
            out["blocks"] = m.blocks
        if m.attachments is not None:
            out["attachments"] = m.attachments
        if m.thread_ts:
            out["thread_ts"] = m.thread_ts
        return out

    def _content(
        self, params: dict[str, Any], *, require: bool = True
    ) -> tuple[str | None, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
        text = params.get("text")
        text = None if text is None else str(text)
        blocks = _json_list(params.get("blocks"), "invalid_blocks")
        attachments = _json_list(params.get("attachments"), "invalid_attachments")
        if blocks is not None:
            _validate_blocks(blocks)
        if text is not None and len(text) > MAX_TEXT:
            raise ApiError("msg_too_long")
        if require and not (text or blocks or attachments):
            raise ApiError("no_text")
        return text, blocks, attachments

    # ------------------------------------------------------------------ web api methods
    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Team",
            "user": "upbit-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ticket = self.socket.issue_ticket()
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        text, blocks, attachments = self._content(params)
        thread_ts = params.get("thread_ts") or None
        msg = Message(channel, self._new_ts(), text, blocks, attachments, thread_ts=thread_ts)
        self._messages.append(msg)
        return {"channel": channel, "ts": msg.ts, "message": self._message_json(msg)}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        user = str(params.get("user") or "")
        if not USER_ID_RE.match(user):
            raise ApiError("user_not_found")
        text, blocks, attachments = self._content(params)
        msg = Message(
            channel,
            self._new_ts(),
            text,
            blocks,
            attachments,
            thread_ts=params.get("thread_ts") or None,
            ephemeral_user=user,
            source="chat.postEphemeral",
        )
        self._messages.append(msg)
        return {"message_ts": msg.ts}

    def _find_own(self, params: dict[str, Any]) -> Message:
        channel = self._resolve_channel(params.get("channel"))
        ts = str(params.get("ts") or "")
        msg = self.message(channel, ts)
        if msg is None or msg.deleted or msg.ephemeral:
            raise ApiError("message_not_found")
        return msg

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find_own(params)
        text, blocks, attachments = self._content(params, require=False)
        if text is None and blocks is None and attachments is None:
            raise ApiError("no_text")
        msg.edits.append(Edit(msg.text, msg.blocks, msg.source))
        if text is not None:
            msg.text = text
        if blocks is not None:  # omitted blocks are kept, [] removes them (like Slack)
            msg.blocks = blocks or None
        if attachments is not None:
            msg.attachments = attachments or None
        return {
            "channel": msg.channel,
            "ts": msg.ts,
            "text": msg.text or "",
            "message": self._message_json(msg),
        }

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find_own(params)
        msg.deleted = True
        return {"channel": msg.channel, "ts": msg.ts}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length", ""))
        except (TypeError, ValueError) as e:
            raise ApiError("invalid_arguments") from e
        if not filename or length <= 0:
            raise ApiError("invalid_arguments")
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        up = Upload(file_id, filename, length)
        self._uploads_by_id[file_id] = up
        return {"upload_url": f"{self.base_url}upload/v1/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        up = self._uploads_by_id.get(request.match_info["file_id"])
        planned = self.faults.take("upload")
        if planned is not None:
            return web.Response(status=planned.status or 500, text=planned.error or "error")
        if up is None:
            return web.Response(status=404, text="not_found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field = form.get("file") or next(iter(form.values()), None)
            data = field.file.read() if isinstance(field, web.FileField) else str(field).encode()
        else:
            data = await request.read()
        up.data = data
        return web.Response(text=f"OK - {len(data)}")

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("files")
        try:
            files = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as e:
            raise ApiError("invalid_arguments") from e
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        channels: list[str] = []
        if params.get("channel_id"):
            channels.append(self._resolve_channel(params["channel_id"]))
        for ch in str(params.get("channels") or "").split(","):
            if ch.strip():
                channels.append(self._resolve_channel(ch.strip()))
        ups: list[tuple[Upload, dict[str, Any]]] = []
        for f in files:
            up = self._uploads_by_id.get(str(f.get("id"))) if isinstance(f, dict) else None
            if up is None or up.data is None or up.completed:
                raise ApiError("file_not_found")
            ups.append((up, f))
        out = []
        for up, f in ups:
            up.title = f.get("title") or up.filename
            up.channels = channels
            up.initial_comment = params.get("initial_comment")
            up.thread_ts = params.get("thread_ts")
            up.completed = True
            self.uploads.append(up)
            mimetype = mimetypes.guess_type(up.filename)[0] or "application/octet-stream"
            out.append(
                {
                    "id": up.file_id,
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": up.filename,
                    "title": up.title,
                    "mimetype": mimetype,
                    "filetype": up.filename.rsplit(".", 1)[-1] if "." in up.filename else "",
                    "user": self.bot_user_id,
                    "size": len(up.data or b""),
                    "url_private": f"{self.base_url}files/{up.file_id}/{up.filename}",
                    "channels": [c for c in channels if c.startswith("C")],
                    "groups": [c for c in channels if c.startswith("G")],
                    "ims": [c for c in channels if c.startswith("D")],
                }
            )
        return {"files": out}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user") or "")
        if not USER_ID_RE.match(user):
            raise ApiError("user_not_found")
        known = self.users.get(user, {})
        name = known.get("name") or user.lower()
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": name,
                "real_name": name,
                "tz": known.get("tz", "Asia/Seoul"),
                "is_bot": user == self.bot_user_id,
                "deleted": False,
                "profile": {"display_name": name, "real_name": name},
            }
        }

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1 or not USER_ID_RE.match(users[0]):
            raise ApiError("user_not_found")
        return {"channel": {"id": "D" + users[0][1:]}}

    def _drop_sockets(self) -> int:
        return self.socket.drop_all()


def _bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _json_list(raw: Any, error: str) -> list[dict[str, Any]] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as e:
            raise ApiError(error) from e
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise ApiError(error)
    return raw


def _validate_blocks(blocks: list[dict[str, Any]]) -> None:
    if len(blocks) > MAX_BLOCKS:
        raise ApiError("invalid_blocks")
    for b in blocks:
        kind = b.get("type")
        if not isinstance(kind, str):
            raise ApiError("invalid_blocks")
        text = b.get("text")
        limit = {"section": MAX_SECTION_TEXT, "header": MAX_HEADER_TEXT}.get(kind)
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            raise ApiError("invalid_blocks")
        if kind == "section" and text is None and not b.get("fields"):
            raise ApiError("invalid_blocks")
        for el in b.get("elements") or []:
            if isinstance(el, dict) and len(str(el.get("value", ""))) > 2000:
                raise ApiError("invalid_blocks")
