"""The Bot API methods of the fake (``BotApi.call(method, params, files)``)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import re
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import ApiError, bad_request, too_many
from .html import parse_html
from .params import UploadedFile
from .ratelimit import RateLimiter
from .records import SentCall
from .state import (
    UPDATE_TYPES_DEFAULT_EXCLUDED,
    Chat,
    chat_type_for,
    scope_key,
    update_type,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
LANG_RE = re.compile(r"[a-z]{2}")
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


class ServerDown(Exception):
    """Raised inside a long poll when an outage starts; the server answers per down mode."""


Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any]]


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/WEBP image, None if it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return (1, 1)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            (seg,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + seg
        return (1, 1)
    return None


class BotApi:
    def __init__(
        self,
        *,
        bot_user: dict[str, Any],
        limiter: RateLimiter,
        strict_html: bool,
        strict_chats: bool,
        record_sent: Callable[[SentCall], None],
        is_down: Callable[[], bool],
    ) -> None:
        self.bot_user = bot_user
        self.limiter = limiter
        self.strict_html = strict_html
        self.strict_chats = strict_chats
        self._record_sent = record_sent
        self._is_down = is_down
        self.chats: dict[int | str, Chat] = {}
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_000_000_000_001)
        self._file_ids = itertools.count(1)
        self.allowed_updates: list[str] | None = None
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: dict[tuple[tuple[str, str, str], str], list[dict[str, str]]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self._wake = asyncio.Event()
        self._poll_generation = 0
        self.closing = False
        self.methods: dict[str, tuple[str, Handler]] = {}
        for name in [
            "getMe",
            "logOut",
            "close",
            "getUpdates",
            "deleteWebhook",
            "setWebhook",
            "getWebhookInfo",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "answerCallbackQuery",
            "sendPhoto",
            "sendDocument",
            "sendChatAction",
            "deleteMessage",
            "getFile",
            "getChat",
        ]:
            self.methods[name.lower()] = (name, getattr(self, "m_" + name))

    # ----- plumbing -----
    def wake(self) -> None:
        """Wake every waiting getUpdates (new update, outage, shutdown)."""
        self._wake.set()
        self._wake = asyncio.Event()

    def chat(self, chat_id: Any, *, create: bool | None = None) -> Chat:
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                for chat in self.chats.values():
                    if chat.username and "@" + chat.username.lower() == chat_id.lower():
                        return chat
            raise bad_request("chat not found")
        if not isinstance(chat_id, int):
            raise bad_request("chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            if create is False or (create is None and self.strict_chats):
                raise bad_request("chat not found")
            chat = self.chats[chat_id] = Chat(chat_id, chat_type_for(chat_id))
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def push_update(self, update: dict[str, Any]) -> int:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self.wake()
        return int(update["update_id"])

    def _sent(self, method: str, p: dict[str, Any], result: Any, **kw: Any) -> None:
        msg = result if isinstance(result, dict) else {}
        self._record_sent(
            SentCall(
                method=method,
                chat_id=kw.pop("chat_id", p.get("chat_id")),
                text=kw.pop("text", p.get("text")),
                parse_mode=p.get("parse_mode"),
                reply_markup=p.get("reply_markup"),
                at=time.monotonic(),
                params=dict(p),
                message_id=kw.pop("message_id", msg.get("message_id", p.get("message_id"))),
                result=copy.deepcopy(result),
                **kw,
            )
        )

    def _rate_limit(self, chat: Chat) -> None:
        retry = self.limiter.check(chat.id, chat.type in ("group", "supergroup"))
        if retry:
            raise too_many(retry)

    def _format(
        self, text: str, parse_mode: Any, entities: Any, what: str = "text"
    ) -> tuple[str, list[dict[str, Any]]]:
        if parse_mode in (None, ""):
            return text, entities if isinstance(entities, list) else []
        mode = str(parse_mode).lower()
        if mode == "html":
            return parse_html(text, strict_ampersand=self.strict_html)
        if mode in ("markdown", "markdownv2"):
            return text, []  # not validated by the fake
        raise bad_request(f"unsupported parse_mode {parse_mode}")

    @staticmethod
    def _markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate reply_markup; return what a Message echoes (only inline keyboards)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "inline_keyboard" must be an Array of Arrays')
            count = 0
            for row in rows:
                for btn in row:
                    count += 1
                    if not isinstance(btn, dict):
                        raise bad_request(
                            "can't parse inline keyboard button: InlineKeyboardButton must be "
                            "an Object"
                        )
                    if not isinstance(btn.get("text"), str):
                        raise bad_request(
                            "can't parse inline keyboard button: Text must be a String"
                        )
                    if not btn["text"]:
                        raise bad_request("BUTTON_TEXT_EMPTY")
                    if not any(k in btn for k in BUTTON_ACTIONS):
                        raise bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed in "
                            "the inline keyboard"
                        )
                    if "callback_data" in btn:
                        data = btn["callback_data"]
                        size = len(data.encode()) if isinstance(data, str) else 0
                        if not 1 <= size <= MAX_CALLBACK_DATA:
                            raise bad_request("BUTTON_DATA_INVALID")
                    if "url" in btn and not re.match(
                        r"(https?|tg)://\S+$", str(btn["url"]), re.IGNORECASE
                    ):
                        raise bad_request("BUTTON_URL_INVALID")
            if count > 100:
                raise bad_request("reply markup is too long")
            return {"inline_keyboard": rows}
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "keyboard" must be an Array of Arrays')
            return None
        if "remove_keyboard" in markup or "force_reply" in markup:
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _message(self, p: dict[str, Any], *, for_edit: bool) -> tuple[Chat, dict[str, Any]]:
        if p.get("inline_message_id") and "chat_id" not in p:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.chat(p.get("chat_id"), create=False)
        mid = p.get("message_id")
        if not isinstance(mid, int):
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(mid)
        if msg is None:
            raise bad_request(
                "message to edit not found" if for_edit else "message to delete not found"
            )
        return chat, msg

    # ----- methods -----
    async def m_getMe(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return True

    async def m_close(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return True

    async def m_getChat(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat = self.chat(p.get("chat_id"), create=False)
        return {**chat.to_dict(), "accent_color_id": 0, "max_reaction_count": 11}

    async def m_getUpdates(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        if self.webhook.get("url"):
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._poll_generation += 1
        generation = self._poll_generation
        offset = p.get("offset")
        limit = p.get("limit", 100)
        timeout = p.get("timeout", 0)
        if not isinstance(limit, int) or not isinstance(timeout, int):
            raise bad_request("wrong parameter limit or timeout")
        if not isinstance(offset, int | None):
            raise bad_request("wrong parameter offset")
        limit = min(max(limit, 1), 100)
        if "allowed_updates" in p:
            allowed = p["allowed_updates"]
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates")
            self.allowed_updates = [str(a) for a in allowed] or None
        if isinstance(offset, int):
            if offset < 0:
                self.updates = self.updates[offset:]
            else:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + max(0, min(timeout, 50))
        while True:
            self._drop_disallowed()
            if self.updates or self.closing:
                return copy.deepcopy(self.updates[:limit])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            wake = self._wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), remaining)
            if self._poll_generation != generation:
                raise ApiError(409, CONFLICT_POLL)
            if self._is_down():
                raise ServerDown

    def _drop_disallowed(self) -> None:
        allowed = self.allowed_updates

        def ok(u: dict[str, Any]) -> bool:
            kind = update_type(u)
            if allowed is None:
                return kind not in UPDATE_TYPES_DEFAULT_EXCLUDED
            return kind in allowed

        self.updates = [u for u in self.updates if ok(u)]

    async def m_deleteWebhook(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        self.webhook = {"url": ""}
        if p.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def m_setWebhook(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        url = str(p.get("url", ""))
        if not url:
            return await self.m_deleteWebhook(p, f)
        if not re.match(r"https://\S+$|http://(127\.0\.0\.1|localhost)(:\d+)?(/\S*)?$", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if "allowed_updates" in p and isinstance(p["allowed_updates"], list):
            self.allowed_updates = [str(a) for a in p["allowed_updates"]] or None
        if p.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": p.get("max_connections", 40),
        }
        self.wake()
        return True

    async def m_getWebhookInfo(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if info["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self.allowed_updates is not None:
                info["allowed_updates"] = list(self.allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    def _commands_key(self, p: dict[str, Any]) -> tuple[tuple[str, str, str], str]:
        lang = str(p.get("language_code") or "")
        if lang and not LANG_RE.fullmatch(lang):
            raise bad_request("invalid language code specified")
        scope = p.get("scope")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        key = scope_key(scope)
        if key[0] not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        ):
            raise bad_request("wrong BotCommandScope type specified")
        if key[0].startswith("chat") and not key[1]:
            raise bad_request("chat_id is empty")
        return key, lang

    async def m_setMyCommands(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        stored = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, desc = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not 1 <= len(desc.strip()) <= 256 or len(desc) > 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name, "description": desc})
        key = self._commands_key(p)
        if stored:
            self.commands[key] = stored
        else:
            self.commands.pop(key, None)
        return True

    async def m_getMyCommands(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(self.commands.get(self._commands_key(p), []))

    async def m_deleteMyCommands(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def m_sendMessage(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat = self.chat(p.get("chat_id"))
        text = p.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        plain, entities = self._format(text, p.get("parse_mode"), p.get("entities"))
        if not plain.strip():
            raise bad_request("message text is empty")
        if len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self._markup(p.get("reply_markup"))
        self._reply_check(chat, p)
        self._rate_limit(chat)
        msg = chat.new_message(
            self.bot_user,
            text=plain,
            entities=entities,
            reply_markup=markup,
            **self._reply_fields(chat, p),
        )
        self._sent("sendMessage", p, msg, chat_id=chat.id, plain_text=plain)
        return msg

    def _reply_check(self, chat: Chat, p: dict[str, Any]) -> None:
        reply = p.get("reply_parameters")
        mid = reply.get("message_id") if isinstance(reply, dict) else p.get("reply_to_message_id")
        allow = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if mid is not None and mid not in chat.messages and not allow:
            raise bad_request("message to be replied not found")

    def _reply_fields(self, chat: Chat, p: dict[str, Any]) -> dict[str, Any]:
        reply = p.get("reply_parameters")
        mid = reply.get("message_id") if isinstance(reply, dict) else p.get("reply_to_message_id")
        if mid in chat.messages:
            return {"reply_to_message": copy.deepcopy(chat.messages[mid])}
        return {}

    async def m_editMessageText(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat, msg = self._message(p, for_edit=True)
        text = p.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        plain, entities = self._format(text, p.get("parse_mode"), p.get("entities"))
        if len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self._markup(p.get("reply_markup"), inline_only=True)
        if msg["from"].get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        if (
            msg.get("text") == plain
            and msg.get("entities", []) == entities
            and msg.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        msg["text"] = plain
        _set(msg, "entities", entities or None)
        _set(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        result = copy.deepcopy(msg)
        self._sent("editMessageText", p, result, chat_id=chat.id, plain_text=plain)
        return result

    async def m_editMessageReplyMarkup(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat, msg = self._message(p, for_edit=True)
        markup = self._markup(p.get("reply_markup"), inline_only=True)
        if msg["from"].get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        if msg.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        _set(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        result = copy.deepcopy(msg)
        self._sent("editMessageReplyMarkup", p, result, chat_id=chat.id, text=None)
        return result

    async def m_deleteMessage(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat, msg = self._message(p, for_edit=False)
        if msg["from"].get("id") != self.bot_user["id"] and chat.type != "private":
            raise bad_request("message can't be deleted")
        del chat.messages[msg["message_id"]]
        self._sent("deleteMessage", p, True, chat_id=chat.id, text=None)
        return True

    async def m_sendChatAction(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat = self.chat(p.get("chat_id"))
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._sent("sendChatAction", p, True, chat_id=chat.id, text=None)
        return True

    async def m_answerCallbackQuery(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        qid = str(p.get("callback_query_id", ""))
        query = self.callback_queries.get(qid)
        if query is None or query.get("answered"):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = dict(p)
        self._sent(
            "answerCallbackQuery",
            p,
            True,
            chat_id=query["chat_id"],
            message_id=query["message_id"],
            text=text,
        )
        return True

    async def m_sendPhoto(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return await self._send_media("photo", p, f)

    async def m_sendDocument(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        return await self._send_media("document", p, f)

    def _input_file(
        self, kind: str, p: dict[str, Any], f: dict[str, UploadedFile]
    ) -> tuple[bytes | None, str, str, dict[str, Any] | None]:
        """(data, filename, mime, known file record) of the ``photo``/``document`` parameter."""
        if kind in f:
            up = f[kind]
            return up.data, up.filename, up.content_type, None
        value = p.get(kind)
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith("attach://"):
            up2 = f.get(value.removeprefix("attach://"))
            if up2 is None:
                raise bad_request(f"wrong {kind} specified")
            return up2.data, up2.filename, up2.content_type, None
        if value in self.files:
            rec = self.files[value]
            if rec["kind"] != kind:
                raise bad_request(f"can't use file of type {rec['kind']} as {kind.title()}")
            return rec["data"], rec["file_name"], rec["mime_type"], rec
        if re.match(r"https?://\S+$", value):
            return None, value.rsplit("/", 1)[-1] or "file", "application/octet-stream", None
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_media(self, kind: str, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        chat = self.chat(p.get("chat_id"))
        data, filename, mime, known = self._input_file(kind, p, f)
        if data is not None:
            if kind == "photo" and len(data) > MAX_PHOTO:
                raise ApiError(413, "Request Entity Too Large")
            if len(data) > MAX_DOCUMENT:
                raise ApiError(413, "Request Entity Too Large")
            if not data:
                raise bad_request("file must be non-empty")
        size = image_size(data) if data is not None and kind == "photo" else (1, 1)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        caption = p.get("caption")
        plain, entities = (None, [])
        if caption is not None:
            plain, entities = self._format(
                str(caption), p.get("parse_mode"), p.get("caption_entities")
            )
            if len(plain) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        markup = self._markup(p.get("reply_markup"))
        self._reply_check(chat, p)
        self._rate_limit(chat)
        rec = known or self._store_file(kind, data or b"", filename, mime, size)
        if kind == "photo":
            media: Any = [
                {
                    "file_id": rec["file_id"],
                    "file_unique_id": rec["file_unique_id"],
                    "width": size[0],
                    "height": size[1],
                    "file_size": rec["file_size"],
                }
            ]
        else:
            media = {
                "file_id": rec["file_id"],
                "file_unique_id": rec["file_unique_id"],
                "file_name": rec["file_name"],
                "mime_type": rec["mime_type"],
                "file_size": rec["file_size"],
            }
        msg = chat.new_message(
            self.bot_user,
            **{kind: media},
            caption=plain or None,
            caption_entities=entities,
            reply_markup=markup,
            **self._reply_fields(chat, p),
        )
        extra = {kind: rec["data"]}
        self._sent(
            "sendPhoto" if kind == "photo" else "sendDocument",
            p,
            msg,
            chat_id=chat.id,
            text=caption,
            caption=caption,
            plain_text=plain,
            filename=rec["file_name"],
            **extra,
        )
        return msg

    def _store_file(
        self, kind: str, data: bytes, filename: str, mime: str, size: tuple[int, int]
    ) -> dict[str, Any]:
        n = next(self._file_ids)
        ext = (
            filename.rsplit(".", 1)[-1]
            if "." in filename
            else ("jpg" if kind == "photo" else "bin")
        )
        rec = {
            "kind": kind,
            "file_id": f"{'AgAC' if kind == 'photo' else 'BQAC'}fake{n:08d}",
            "file_unique_id": f"AQAD{n:08d}",
            "file_name": filename,
            "mime_type": mime or "application/octet-stream",
            "file_size": len(data),
            "file_path": f"{kind}s/file_{n}.{ext}",
            "data": data,
            "size": size,
        }
        self.files[rec["file_id"]] = rec
        return rec

    async def m_getFile(self, p: dict[str, Any], f: dict[str, UploadedFile]) -> Any:
        rec = self.files.get(str(p.get("file_id", "")))
        if rec is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": rec["file_id"],
            "file_unique_id": rec["file_unique_id"],
            "file_size": rec["file_size"],
            "file_path": rec["file_path"],
        }


def _set(msg: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        msg.pop(key, None)
    else:
        msg[key] = value
