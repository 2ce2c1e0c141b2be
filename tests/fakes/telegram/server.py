"""``FakeTelegram``: the HTTP side (aiohttp on 127.0.0.1) and the test-side API."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from ..flood import FloodWaits
from .api import BotApi, ServerDown
from .errors import DEFAULT_DESCRIPTIONS, ApiError
from .faults import FaultInjector
from .params import read_params
from .ratelimit import RateLimiter, RateLimits
from .records import RecordedCall, SentCall
from .state import Chat, chat_type_for, command_entities, scope_key

TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{10,}|[0-9]{1,20}:[A-Za-z0-9_-]{1,}")
# methods that put something into a chat: a flood wait for that chat holds them back
CHAT_SENDS = ("send", "edit", "copy", "forward")
SERVICE_USER_ID = 777000  # "Telegram": the ``from`` of automatic forwards
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body, ensure_ascii=False), content_type="application/json"
    )


class FakeTelegram:
    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "upbit_test_bot",
        *,
        bot_name: str = "Upbit Test Bot",
        rate_limits: RateLimits | None = None,
        strict_html: bool = True,
        strict_chats: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not TOKEN_RE.fullmatch(token):
            raise ValueError("token must look like '<digits>:<letters>'")
        self.token = token
        self.revoked = False  # ``revoke_token``: the token is refused from then on
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.limiter = RateLimiter(rate_limits or RateLimits(), clock)
        self.faults = FaultInjector(self._on_fault_change, time.monotonic)
        self.requests: list[RecordedCall] = []
        self.sent: list[SentCall] = []
        self.flood = FloodWaits(clock)  # 429 waits per chat; sends inside one are refused and kept
        self._sent_changed = asyncio.Event()
        self.api = BotApi(
            bot_user=self.bot_user,
            limiter=self.limiter,
            strict_html=strict_html,
            strict_chats=strict_chats,
            record_sent=self._record_sent,
            is_down=lambda: self.faults.is_down,
        )
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -----
    async def start(self) -> None:
        self._stopping.clear()
        self.api.closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stopping.set()
        self.api.closing = True
        self.api.wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Give to PTB as ``base_url``; PTB appends the token: ``{base_url}{token}/{method}``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def _on_fault_change(self) -> None:
        self.api.wake()

    def _record_sent(self, call: SentCall) -> None:
        self.sent.append(call)
        self._sent_changed.set()
        self._sent_changed = asyncio.Event()

    # ----- HTTP -----
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.is_down:
            return await self._down_response(request)
        path = request.path
        if path.startswith("/file/bot"):
            return self._file(path.removeprefix("/file/bot"))
        m = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if m is None:
            return _json(ApiError(404, "Not Found").body(), 404)
        token, method = m.group(1), m.group(2)
        if not TOKEN_RE.fullmatch(token):
            return _json(ApiError(404, "Not Found").body(), 404)
        if token != self.token or self.revoked:
            return _json(ApiError(401, "Unauthorized").body(), 401)
        entry = self.api.methods.get(method.lower())
        if entry is None:
            return _json(ApiError(404, "Not Found").body(), 404)
        name, handler = entry
        rec = RecordedCall(name, {}, time.monotonic(), request.method)
        self.requests.append(rec)
        try:
            params, files = await read_params(request)
            rec.params = params
            rec.files = {k: v.data for k, v in files.items()}
            delay = self.faults.take("delay", name)
            if delay is not None:
                await asyncio.sleep(delay.seconds)
            chat = params.get("chat_id") if name.startswith(CHAT_SENDS) else None
            left = self.flood.check(chat, name) if chat is not None else 0
            if left:
                raise ApiError(
                    429, f"Too Many Requests: retry after {left}", {"retry_after": left}
                )
            fail = self.faults.take("fail", name)
            if fail is not None:
                params_out = {"retry_after": fail.retry_after} if fail.retry_after else None
                description = fail.description or DEFAULT_DESCRIPTIONS.get(
                    fail.status, f"Error {fail.status}"
                )
                if fail.status == 429 and fail.description is None:
                    description = f"Too Many Requests: retry after {fail.retry_after}"
                raise ApiError(fail.status, description, params_out)
            result = await handler(params, files)
        except ApiError as err:
            rec.status, rec.response = err.code, err.body()
            retry_after = (err.parameters or {}).get("retry_after")
            if err.code == 429 and retry_after and rec.params.get("chat_id") is not None:
                self.flood.announce(rec.params["chat_id"], float(retry_after))
            return _json(err.body(), err.code)
        except ServerDown:
            return await self._down_response(request)
        rec.status, rec.response = 200, {"ok": True, "result": result}
        return _json(rec.response)

    async def _down_response(self, request: web.Request) -> web.StreamResponse:
        mode = self.faults.down_mode
        if mode == "502":
            return web.Response(status=502, text=NGINX_502, content_type="text/html")
        transport = request.transport
        if mode == "hang" and transport is not None:
            # polling: the end of a timed outage is not an event anyone sets
            while (  # noqa: ASYNC110
                self.faults.is_down and not self._stopping.is_set() and not transport.is_closing()
            ):
                await asyncio.sleep(0.02)
        if transport is not None:
            transport.abort()
        return web.Response(status=502)

    def _file(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _json(ApiError(401, "Unauthorized").body(), 401)
        for rec in self.api.files.values():
            if rec["file_path"] == file_path:
                return web.Response(body=rec["data"], content_type=rec["mime_type"])
        return _json(ApiError(404, "Not Found").body(), 404)

    # ----- scripting (the user side) -----
    def revoke_token(self) -> None:
        """As BotFather's /revoke: every later call with the token gets 401 Unauthorized
        (a long poll already waiting ends normally; the next one is refused)."""
        self.revoked = True

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> Chat:
        """Make a chat known (needed with ``strict_chats=True`` before the bot can send)."""
        chat = self.api.chats.get(chat_id)
        if chat is None:
            chat = self.api.chats[chat_id] = Chat(chat_id, chat_type or chat_type_for(chat_id))
        if chat_type:
            chat.type = chat_type
        chat.title = title or chat.title
        chat.username = username or chat.username
        chat.first_name = first_name or chat.first_name
        return chat

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sends to the chat get 403 ``Forbidden: bot was blocked``."""
        self.add_chat(chat_id).blocked = blocked

    def _user(self, user_id: int, username: str, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": username.capitalize() or "User",
            "username": username,
        }
        if language_code:
            user["language_code"] = language_code
        return user

    def user_sends(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        username: str = "u",
        chat_type: str = "private",
        language_code: str | None = "ko",
    ) -> int:
        """A user writes ``text`` in the chat; queues a ``message`` update, returns update_id.

        A ``/command`` (optionally ``/command@bot``) starting a word gets a bot_command entity.
        """
        chat = self._user_chat(chat_id, chat_type, username)
        user = self._user(user_id, username, language_code)
        return self._push_message(chat, user, text)

    def user_forwards(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        origin_user_id: int | None = 666,
        origin_name: str = "mallory",
        username: str = "u",
        chat_type: str = "private",
        language_code: str | None = "ko",
    ) -> int:
        """A user forwards someone else's message ``text`` into the chat; returns update_id.

        The message is from ``user_id`` and carries ``forward_origin`` like Bot API 7+: type
        ``user`` with the original ``sender_user`` (``origin_user_id``), or ``hidden_user``
        with only ``sender_user_name`` when ``origin_user_id`` is None (the original sender
        hides their account). Entities are kept, as Telegram keeps them: a forwarded
        ``/command`` still has its bot_command entity.
        """
        chat = self._user_chat(chat_id, chat_type, username)
        origin: dict[str, Any] = {"type": "user", "date": int(time.time()) - 60}
        if origin_user_id is None:
            origin.update(type="hidden_user", sender_user_name=origin_name.capitalize())
        else:
            origin["sender_user"] = self._user(origin_user_id, origin_name, None)
        user = self._user(user_id, username, language_code)
        return self._push_message(chat, user, text, forward_origin=origin)

    def channel_forwards(
        self, chat_id: int, channel_id: int, text: str, *, title: str = "Channel"
    ) -> int:
        """Telegram copies a post of a linked channel into its discussion group ``chat_id``.

        Like the real thing: ``is_automatic_forward`` is true, ``forward_origin`` is of type
        ``channel``, ``sender_chat`` is the channel and ``from`` is Telegram's service account
        777000 (the placeholder user of messages sent on behalf of a chat).
        """
        group = self.add_chat(chat_id, "supergroup")
        channel = self.add_chat(channel_id, "channel", title=title)
        post = channel.new_message(self._service_user(), text=text, sender_chat=channel.to_dict())
        channel.messages[post["message_id"]].pop("from")  # a channel post has no user
        origin = {
            "type": "channel",
            "date": post["date"],
            "chat": channel.to_dict(),
            "message_id": post["message_id"],
        }
        return self._push_message(
            group,
            self._service_user(),
            text,
            forward_origin=origin,
            is_automatic_forward=True,
            sender_chat=channel.to_dict(),
        )

    def _user_chat(self, chat_id: int, chat_type: str, username: str) -> Chat:
        if chat_type == "private" and chat_id < 0:
            chat_type = chat_type_for(chat_id)
        return self.add_chat(
            chat_id,
            chat_type,
            username=username if chat_type == "private" else None,
            first_name=username.capitalize() if chat_type == "private" else None,
            title=None if chat_type == "private" else f"Group {chat_id}",
        )

    @staticmethod
    def _service_user() -> dict[str, Any]:
        return {"id": SERVICE_USER_ID, "is_bot": False, "first_name": "Telegram"}

    def _push_message(self, chat: Chat, sender: dict[str, Any], text: str, **extra: Any) -> int:
        entities = command_entities(text)
        msg = chat.new_message(sender, text=text, entities=entities, **extra)
        return self.api.push_update({"message": msg})

    def user_presses(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        data: str,
        *,
        username: str = "u",
        language_code: str | None = "ko",
        check_button: bool = True,
    ) -> int:
        """A user presses the inline button with ``callback_data == data`` on a bot message.

        Queues a ``callback_query`` update and returns its update_id.  With ``check_button``
        (default) the message must exist and currently show such a button (a real client can
        only press what is displayed); otherwise ``ValueError``.
        """
        chat = self.api.chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        if check_button:
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
            if not any(b.get("callback_data") == data for row in rows for b in row):
                raise ValueError(f"message {message_id} shows no button with data {data!r}")
        query_id = str(next(self.api._query_ids))
        self.api.callback_queries[query_id] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
            "answered": None,
        }
        query: dict[str, Any] = {
            "id": query_id,
            "from": self._user(user_id, username, language_code),
            "chat_instance": str(abs(hash((self.token, chat_id))) % 10**18),
            "data": data,
        }
        if msg is not None:
            query["message"] = copy.deepcopy(msg)
        return self.api.push_update({"callback_query": query})

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue any raw update (``update_id`` is assigned); returns the update_id."""
        update = {k: v for k, v in update.items() if k != "update_id"}
        return self.api.push_update(update)

    async def deliver_webhook(
        self, url: str | None = None, update: dict[str, Any] | int | None = None
    ) -> int:
        """POST an update to a webhook like Telegram does; returns the HTTP status.

        ``url`` defaults to the URL set with setWebhook.  ``update``: a dict (sent as is), an
        update_id of a queued update, or None for the oldest queued one.  The secret of
        setWebhook is sent as ``X-Telegram-Bot-Api-Secret-Token``.  A 2xx answer removes the
        queued update (like Telegram's confirmation); others are noted in getWebhookInfo.
        """
        target = url or self.api.webhook.get("url")
        if not target:
            raise ValueError("no webhook url given or set")
        queued: dict[str, Any] | None = None
        if update is None or isinstance(update, int):
            for u in self.api.updates:
                if update is None or u["update_id"] == update:
                    queued = u
                    break
            if queued is None:
                raise ValueError(f"no queued update {update!r}")
            body = queued
        else:
            body = update
        headers = {"Content-Type": "application/json"}
        secret = self.api.webhook.get("secret_token")
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(target, data=json.dumps(body), headers=headers) as resp,
        ):
            await resp.read()
            status = resp.status
        if 200 <= status < 300:
            if queued is not None and queued in self.api.updates:
                self.api.updates.remove(queued)
        else:
            self.api.webhook["last_error_date"] = int(time.time())
            self.api.webhook["last_error_message"] = f"Wrong response from the webhook: {status}"
        return status

    # ----- inspection -----
    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """What the chat shows now (user and bot messages, after edits and deletions)."""
        chat = self.api.chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(m) for _, m in sorted(chat.messages.items())]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        chat = self.api.chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        return copy.deepcopy(msg) if msg else None

    def commands(self, scope: Any = None, language_code: str = "") -> list[tuple[str, str]]:
        """Commands set for ``scope`` (None/"default", a type string, a dict or a PTB
        BotCommandScope) and ``language_code`` ("" = for all languages)."""
        stored = self.api.commands.get((scope_key(scope), language_code or ""), [])
        return [(c["command"], c["description"]) for c in stored]

    def callback_answer(self, update_id_or_query_id: int | str) -> dict[str, Any] | None:
        """The params of answerCallbackQuery for a pressed button (None if not answered)."""
        qid = str(update_id_or_query_id)
        if qid not in self.api.callback_queries:
            for u in self.requests_updates():
                if u.get("update_id") == update_id_or_query_id and "callback_query" in u:
                    qid = u["callback_query"]["id"]
        query = self.api.callback_queries.get(qid)
        return query["answered"] if query else None

    def requests_updates(self) -> list[dict[str, Any]]:
        """Every update that getUpdates has handed out so far."""
        out: list[dict[str, Any]] = []
        for rec in self.requests:
            if rec.method == "getUpdates" and rec.response and rec.response.get("ok"):
                out.extend(rec.response["result"])
        return out

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.api.updates)

    @property
    def webhook(self) -> dict[str, Any]:
        return dict(self.api.webhook)

    def calls(self, method: str) -> list[RecordedCall]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[SentCall], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 -- the brief's API: wait_for(pred, timeout=5.0)
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        after: int = 0,
    ) -> SentCall:
        """The first call in ``sent[after:]`` matching ``predicate`` and the filters, waiting at
        most ``timeout`` seconds for it (``TimeoutError`` listing what was sent otherwise)."""

        def match(call: SentCall) -> bool:
            if method is not None and call.method != method:
                return False
            if chat_id is not None and call.chat_id != chat_id:
                return False
            return predicate is None or predicate(call)

        deadline = time.monotonic() + timeout
        while True:
            for call in self.sent[after:]:
                if match(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.method, c.chat_id, c.text) for c in self.sent[after:]]
                raise TimeoutError(f"no matching call within {timeout}s; sent: {seen}")
            event = self._sent_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
