"""FakeTelegram: an in-process fake of the Telegram Bot API for tests (aiohttp on 127.0.0.1).

It speaks the real wire protocol, so the real python-telegram-bot talks to it unchanged::

    async with FakeTelegram(token="123:ABC", bot_username="upbit_test_bot") as tg:
        app = (
            Application.builder()
            .token(tg.token)
            .base_url(tg.base_url)            # "http://127.0.0.1:PORT/bot"; PTB appends the token
            .base_file_url(tg.base_file_url)  # "http://127.0.0.1:PORT/file/bot"
            .build()
        )
        # or: telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
        await app.initialize(); await app.start()
        await app.updater.start_polling(drop_pending_updates=True, poll_interval=0, timeout=1)
        tg.user_sends(chat_id=42, user_id=42, text="/start")
        call = await tg.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)

Under pytest with ``filterwarnings = error`` set ``PTB_TIMEDELTA=true`` in the environment:
PTB 22 builds ``RetryAfter`` by reading its own deprecated int ``retry_after``, which warns
(``PTBDeprecationWarning``) and so turns every 429 into that warning.  With the variable set,
``RetryAfter.retry_after`` is a ``datetime.timedelta``.

Wire protocol: ``GET``/``POST`` ``/bot<token>/<method>`` (method names case-insensitive) with a
query string, JSON, urlencoded or multipart body.  Answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "...", "parameters": {"retry_after": N}}`` with
``N`` as the HTTP status.  Malformed token or unknown method -> 404 ``Not Found``; a well-formed
but different token -> 401 ``Unauthorized`` (PTB: ``InvalidToken``).  Files: ``GET
/file/bot<token>/<file_path>`` (paths from getFile).

Methods: getMe, getUpdates (offset confirms, negative offset, limit 1-100, long polling with
``timeout``, allowed_updates remembered; a newer getUpdates ends a waiting one with 409 Conflict;
409 while a webhook is set), deleteWebhook (drop_pending_updates), setWebhook (https, or http
on 127.0.0.1/localhost; secret_token [A-Za-z0-9_-]{1,256}), getWebhookInfo,
setMyCommands/getMyCommands/deleteMyCommands (per (scope, language_code); names
``[a-z0-9_]{1,32}`` else ``BOT_COMMAND_INVALID``, descriptions 1-256 chars else
``BOT_COMMAND_DESCRIPTION_INVALID``, at most 100; language codes two lowercase letters),
sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, sendChatAction,
answerCallbackQuery (once per query), sendPhoto/sendDocument (multipart upload, file_id re-use,
http URL), getFile, getChat, logOut, close.

Checks like Telegram's (400 ``Bad Request: ...``): empty text; text longer than 4096 characters
after entity parsing -> ``message is too long``; caption over 1024 -> ``message caption is too
long``; ``parse_mode=HTML`` validated by :mod:`.html` (``can't parse entities: ...``; Markdown
modes are not validated); inline keyboards: callback_data 1-64 bytes else ``BUTTON_DATA_INVALID``,
url buttons ``BUTTON_URL_INVALID``, buttons without an action, more than 100 buttons; edits with
identical content -> ``message is not modified: ...``; unknown message -> ``message to edit not
found`` / ``message to delete not found``; photos must be PNG/JPEG/GIF/WEBP
(``IMAGE_PROCESS_FAILED``); ``chat not found`` for ``@names`` never seen (and for unknown ids
with ``strict_chats=True``); ``tg.block(chat_id)`` -> 403 ``Forbidden: bot was blocked by the
user``.  Flood limits: see :mod:`.ratelimit` (1 msg/s per chat with burst 3, 20/min per group,
30/s overall -> 429 with ``parameters.retry_after``); ``FakeTelegram(rate_limits=RateLimits(
enabled=False))`` turns them off, ``tg.limiter.reset()`` forgets history.  Fault injection:
``tg.faults`` -- see :mod:`.faults` (``fail_next``, ``delay_next``, ``down`` with modes
``"502"`` (default) / ``"reset"`` / ``"hang"``, ``up``, ``clear``).  Flood waits (``tg.flood``,
:mod:`tests.fakes.flood`): a 429 closes that chat for exactly ``retry_after`` seconds; a
send*/edit* call into it before then is answered 429 again and kept in ``tg.flood.early``;
``tg.flood.sends`` has every such call's time.

Test-side API (``tg = FakeTelegram(token="123:ABC", bot_username="upbit_test_bot", *,
bot_name=..., rate_limits=RateLimits(), strict_html=True, strict_chats=False,
clock=time.monotonic)``; ``async with`` or ``await start()/stop()``):

* ``tg.base_url``, ``tg.base_file_url``, ``tg.token``, ``tg.port``, ``tg.bot_user``.
* ``tg.user_sends(chat_id, user_id, text, *, username="u", chat_type="private"|"group"|
  "supergroup", language_code="ko") -> update_id``: queues a message update (``/cmd`` words get
  bot_command entities).  ``tg.user_presses(chat_id, user_id, message_id, data, *,
  username="u", check_button=True) -> update_id``: a callback_query on that bot message (the
  button must be shown).  ``tg.queue_update(raw_dict) -> update_id``.
* ``tg.user_forwards(chat_id, user_id, text, *, origin_user_id=666, origin_name="mallory",
  ...) -> update_id``: the user forwards someone's message (``forward_origin`` of type
  ``user``, or ``hidden_user`` with ``origin_user_id=None``; entities kept).
  ``tg.channel_forwards(chat_id, channel_id, text) -> update_id``: an automatic forward of a
  linked channel's post into its discussion group (``is_automatic_forward``, ``sender_chat``,
  ``from`` = the service account 777000).
* ``await tg.deliver_webhook(url=None, update=None) -> status``: webhook delivery (see method).
* ``tg.sent``: list of :class:`SentCall` (method, chat_id, text, parse_mode, reply_markup,
  message_id, plain_text, caption, photo/document bytes, filename, params, result, at =
  ``time.monotonic()``) for successful sendMessage/sendPhoto/sendDocument/editMessageText/
  editMessageReplyMarkup/deleteMessage/sendChatAction/answerCallbackQuery.
* ``await tg.wait_for(predicate=None, timeout=5.0, *, method=None, chat_id=None, after=0)`` ->
  first matching SentCall in ``tg.sent[after:]`` (``TimeoutError`` after ``timeout``).
* ``tg.messages(chat_id)`` -> Message dicts the chat shows now (after edits/deletes);
  ``tg.message(chat_id, message_id)``.
* ``tg.commands(scope=None, language_code="") -> [(command, description), ...]``; scope as
  None/"default", a type string such as "all_private_chats", a dict or a PTB BotCommandScope.
* ``tg.requests``: every API call as :class:`RecordedCall` (method, params decoded to native
  types, files, status, response, at); ``tg.calls(method)``; ``tg.requests_updates()``;
  ``tg.pending_updates``; ``tg.webhook``; ``tg.callback_answer(update_id | query_id)``.
* ``tg.add_chat(chat_id, chat_type=None, *, title=None, username=None)``, ``tg.block(chat_id)``.
* ``tg.revoke_token()``: as BotFather's /revoke, every later call gets 401 ``Unauthorized``.
"""

from .errors import ApiError
from .faults import FaultInjector
from .ratelimit import RateLimiter, RateLimits
from .records import RecordedCall, SentCall
from .server import FakeTelegram

__all__ = [
    "ApiError",
    "FakeTelegram",
    "FaultInjector",
    "RateLimiter",
    "RateLimits",
    "RecordedCall",
    "SentCall",
]
