"""Commands in, replies and pushes out, through python-telegram-bot inside our event loop.

The ``Application`` is driven by hand (initialize, start, updater.start_polling; the reverse
on stop), never ``run_polling``, which would want the loop for itself.

Everything sent into a chat, a command's reply or a push, goes through the transport's
``Pacer`` (shared with the notifier): Telegram's pace per chat and per bot, and a 429
``retry_after`` honoured exactly for that chat, the refused message sent again after it. A
reply runs as a task of the ``Application`` (awaited on stop), so a wait never holds up the
next command.

Pending updates are
dropped at start: a command typed while the bot was down must not run hours later. Forwarded
messages and automatic forwards from a linked channel are never commands (the dispatcher
refuses them). Pushes go through ``send`` (the notifier's ``ChatSender``), which never retries
on its own: it reports Telegram's answer as RetryAfter / TransientSendError /
PermanentSendError and the notifier decides. A 401 on any call (the token was revoked) goes to
``on_refused`` (``WatchedRequest``); a push then stays queued (transient), not dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.error import (
    RetryAfter as TelegramRetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.notify.pacing import Pacer
from bot.notify.render import mark_delayed
from bot.notify.sender import PermanentSendError, RetryAfter, TransientSendError
from bot.telegram.kind import TELEGRAM_LIMITS
from bot.telegram.render import keyboard, to_html
from bot.telegram.watched import WatchedRequest
from handlers.auth import Principal
from handlers.dispatcher import Dispatcher
from handlers.registry import Role
from handlers.reply import Reply

log = logging.getLogger(__name__)
LANGUAGES = ("ko", "en")
CAPTION_LIMIT = 1024


class TelegramTransport:
    name = "telegram"

    def __init__(
        self,
        *,
        token: str,
        dispatcher: Dispatcher,
        pacer: Pacer | None = None,
        base_url: str = "https://api.telegram.org/bot",
        base_file_url: str | None = None,
        mode: str = "polling",
        webhook_url: str = "",
        listen: str = "127.0.0.1",
        port: int = 8443,
        member_roles: Iterable[tuple[int, int, Role]] = (),
        poll_timeout_s: int = 10,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        """``on_refused(variable, reason)``: Telegram refused the token (401) on some call."""
        self._token = token
        self._dispatcher = dispatcher
        # the notifier's pacer for this transport (``pacers_from_config``): one pace, one
        # flood wait per chat for replies and pushes
        self.pacer = pacer or Pacer(TELEGRAM_LIMITS)
        self._base_url = base_url
        self._base_file_url = base_file_url
        self._mode = mode
        self._webhook_url = webhook_url
        self._listen, self._port = listen, port
        self._member_roles = tuple(member_roles)  # (chat id, user id, role) for menus
        self._poll_timeout_s = poll_timeout_s
        self._app: Application | None = None  # type: ignore[type-arg]
        self._on_refused = on_refused

    @property
    def secret_token(self) -> str:
        """The webhook secret Telegram echoes back: derived from the bot token, never logged."""
        return hashlib.sha256(f"webhook:{self._token}".encode()).hexdigest()[:32]

    async def start(self) -> None:
        if self._app is not None:
            raise RuntimeError("TelegramTransport is already started")
        # RetryAfter as a timedelta: the int form is deprecated and warns on every 429
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        builder = Application.builder().token(self._token).base_url(self._base_url)
        if self._on_refused is not None:  # pool sizes as PTB's builder picks them
            report = partial(self._on_refused, "TELEGRAM_BOT_TOKEN")
            builder = builder.request(WatchedRequest(report, connection_pool_size=256))
            builder = builder.get_updates_request(WatchedRequest(report, connection_pool_size=1))
        if self._base_file_url:
            builder = builder.base_file_url(self._base_file_url)
        app = builder.build()
        app.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, self._on_text))
        app.add_handler(CallbackQueryHandler(self._on_press))
        app.add_error_handler(self._on_error)
        self._app = app
        await app.initialize()
        await self._set_commands()
        await app.start()
        assert app.updater is not None
        if self._mode == "webhook":
            await app.updater.start_webhook(
                listen=self._listen,
                port=self._port,
                url_path="telegram",
                webhook_url=self._webhook_url,
                secret_token=self.secret_token,
                drop_pending_updates=True,
            )
        else:
            await app.updater.start_polling(
                drop_pending_updates=True, poll_interval=0, timeout=self._poll_timeout_s
            )
        log.info("telegram: @%s %s", app.bot.username, self._mode)

    async def stop(self) -> None:
        app, self._app = self._app, None
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            try:
                await app.updater.stop()
            except InvalidToken:  # the long poll ended on a revoked token (already reported)
                log.warning("telegram: polling had stopped: the token was refused")
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _set_commands(self) -> None:
        """Menus per language; operators and admins see their commands in their chats."""
        assert self._app is not None
        bot = self._app.bot
        for language in LANGUAGES:
            menu = [BotCommand(c, d) for c, d in self._dispatcher.menu(Role.VIEWER, language)]
            await bot.set_my_commands(menu, scope=BotCommandScopeDefault(), language_code=language)
        default = self._dispatcher.menu(Role.VIEWER, None)
        await bot.set_my_commands([BotCommand(c, d) for c, d in default])
        for chat_id, user_id, role in self._member_roles:
            menu = [BotCommand(c, d) for c, d in self._dispatcher.menu(role, None)]
            scope = (
                BotCommandScopeChat(chat_id)
                if chat_id == user_id
                else BotCommandScopeChatMember(chat_id, user_id)
            )
            try:
                await bot.set_my_commands(menu, scope=scope)
            except BadRequest as exc:  # the bot is not in that chat (yet): not fatal
                log.warning("telegram: no command menu for chat %s: %s", chat_id, exc)

    # -- incoming ------------------------------------------------------------------------------

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = (
            update.effective_message,
            update.effective_user,
            update.effective_chat,
        )
        if message is None or message.text is None or user is None or chat is None:
            return
        who = Principal("telegram", str(user.id), str(chat.id), user.username or "")
        language = _language(user.language_code)
        reply = await self._dispatcher.handle(
            who, message.text, language, forwarded=_forwarded(message)
        )
        if reply is not None:
            answer = self._reply(chat.id, reply, language, reply_to=message.message_id)
            context.application.create_task(answer, update=update)

    async def _on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        await query.answer()  # always: the user's spinner stops whatever happens next
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        who = Principal("telegram", str(query.from_user.id), str(chat_id))
        language = _language(query.from_user.language_code)
        reply = await self._dispatcher.press(who, query.data, language)
        if reply is None:
            return
        edit = query if message is not None and not reply.ephemeral else None
        context.application.create_task(
            self._reply(chat_id, reply, language, edit=edit), update=update
        )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: update %s failed: %s", update, context.error)

    # -- outgoing ------------------------------------------------------------------------------

    async def _reply(
        self,
        chat_id: int,
        reply: Reply,
        language: str | None,
        *,
        reply_to: int | None = None,
        edit: CallbackQuery | None = None,
    ) -> None:
        """A command's answer, through the pacer like a push: it waits out flood control
        and is never dropped for it; held up materially, it says so in the user's language.
        ``edit``: the pressed message, replaced in place when the answer fits one message."""
        t = self._dispatcher.catalog(language)

        async def attempt(flood_delay: float) -> None:
            noted = mark_delayed(reply, flood_delay, "Telegram", t)
            chunks = to_html(noted)
            if edit is not None and noted.image is None and len(chunks) == 1:
                markup = keyboard(noted)
                await _mapped(
                    partial(
                        edit.edit_message_text,
                        chunks[0],
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
                )
            else:
                await self._deliver(chat_id, noted, reply_to=reply_to)

        await self.pacer.send(str(chat_id), attempt)

    async def _deliver(
        self,
        chat_id: int | str,
        reply: Reply,
        *,
        reply_to: int | None = None,
        silent: bool = False,
    ) -> None:
        """All parts of one message. The caller's ``pacer.send`` booked the first part and
        sends the whole message again on its RetryAfter (nothing is out yet); every later part
        takes its own slot and waits out its own 429, since the parts before it are out."""
        assert self._app is not None
        bot = self._app.bot
        chunks = to_html(reply)
        sends: list[Callable[[], Awaitable[Any]]] = []
        if reply.image is not None:
            caption = chunks[0] if len(chunks[0]) <= CAPTION_LIMIT else None
            sends.append(
                partial(
                    bot.send_photo,
                    chat_id,
                    photo=reply.image.data,
                    filename=reply.image.filename,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    disable_notification=silent,
                )
            )
            if caption is not None:
                chunks = chunks[1:]
        for index, chunk in enumerate(chunks):
            sends.append(
                partial(
                    bot.send_message,
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(reply) if index == len(chunks) - 1 else None,
                    disable_notification=silent,
                    reply_to_message_id=reply_to if not sends else None,
                )
            )
        first, *rest = sends
        await _mapped(first)
        for send in rest:
            await self.pacer.send(str(chat_id), partial(_part, send))

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None:
        """The notifier's ``ChatSender``: one push, its first part booked by the notifier's
        ``pacer.send`` (the same pacer as here), errors mapped, no retries here."""
        if self._app is None:
            raise TransientSendError("telegram transport is not running")
        try:
            await self._deliver(chat_id, reply, silent=silent)
        except InvalidToken as exc:  # revoked: kept queued for a restart with a new token
            raise TransientSendError(f"token refused: {exc}") from exc
        except (BadRequest, Forbidden, ChatMigrated) as exc:
            raise PermanentSendError(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:
            raise TransientSendError(str(exc)) from exc
        except TelegramError as exc:
            raise PermanentSendError(str(exc)) from exc


async def _mapped(send: Callable[[], Awaitable[object]]) -> None:
    """One Bot API call; Telegram's 429 becomes the ``RetryAfter`` the pacer honours."""
    try:
        await send()
    except TelegramRetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        raise RetryAfter(seconds) from exc


async def _part(send: Callable[[], Awaitable[object]], _flood_delay: float) -> None:
    await _mapped(send)


def _forwarded(message: Message) -> bool:
    """Someone else's words passed on: a forward (Bot API 7+ ``forward_origin``) or a linked
    channel's post copied into its discussion group. Telegram keeps a forward's command
    entities, so without this an admin forwarding a stranger's /pause would run it."""
    return message.forward_origin is not None or bool(message.is_automatic_forward)


def _language(code: str | None) -> str | None:
    return code if code in LANGUAGES else None
