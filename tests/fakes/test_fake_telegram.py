"""FakeTelegram driven by the real python-telegram-bot (Bot and Application)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginChannel,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakes.telegram import FakeTelegram, RateLimits


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning -> error here) when building RetryAfter otherwise
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


def png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_urls_and_get_me(tg: FakeTelegram, bot: Bot) -> None:
    assert tg.base_url == f"http://127.0.0.1:{tg.port}/bot"
    assert bot.base_url == f"{tg.base_url}{tg.token}"
    me = await bot.get_me()
    assert me.username == "upbit_test_bot"
    assert me.is_bot
    assert me.id == 123
    assert [r.method for r in tg.requests] == ["getMe", "getMe"]  # initialize + our call


async def test_unknown_token_rejected(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match=r"(?i)rejected"):
        async with Bot("999:WRONG", base_url=tg.base_url) as b:
            await b.get_me()
    assert tg.requests == []


async def test_a_revoked_token_is_refused_from_then_on(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()
    tg.revoke_token()
    with pytest.raises(InvalidToken):
        await bot.send_message(42, "after the revoke")
    assert not tg.sent


async def test_send_message_records_and_returns_message(tg: FakeTelegram, bot: Bot) -> None:
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data="buy:KRW-BTC")]])
    m1 = await bot.send_message(
        42, "<b>가격</b> 1 &lt; 2 &amp; <i>ok</i>", parse_mode=ParseMode.HTML, reply_markup=kb
    )
    m2 = await bot.send_message(42, "second")
    assert (m1.message_id, m2.message_id) == (1, 2)
    assert m1.text == "가격 1 < 2 & ok"
    assert [e.type for e in m1.entities] == ["bold", "italic"]
    assert m1.from_user is not None
    assert m1.from_user.username == "upbit_test_bot"
    assert m1.chat.id == 42
    assert m1.chat.type == "private"
    assert m1.reply_markup == kb
    call = await tg.wait_for(method="sendMessage", chat_id=42)
    assert call.text.startswith("<b>")
    assert call.parse_mode == "HTML"
    assert call.reply_markup == kb.to_dict()
    assert call.plain_text == "가격 1 < 2 & ok"
    assert [m["text"] for m in tg.messages(42)] == ["가격 1 < 2 & ok", "second"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<b>bold</i>", "Unmatched end tag"),
        ("<b>unclosed", "Can't find end tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("1 < 2", "Unsupported start tag"),
        ("AT&T", "must be escaped"),
        ("&nbsp;", "Unsupported HTML entity"),
        ('<span class="x">s</span>', "tg-spoiler"),
    ],
)
async def test_html_errors_are_bad_request(bot: Bot, text: str, needle: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)parse entities") as err:
        await bot.send_message(1, text, parse_mode=ParseMode.HTML)
    assert needle.lower() in err.value.message.lower()


async def test_length_and_button_limits(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(1, "x" * 4097)
    ok = await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text) == 4096
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(2, "hi", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(2, "  ")
    assert [c.chat_id for c in tg.sent] == [1]


async def test_flood_limits_raise_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    for i in range(3):  # burst of 3 per chat is fine
        await bot.send_message(7, f"m{i}")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(7, "m3")
    assert err.value.retry_after == dtm.timedelta(seconds=1)
    assert tg.requests[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    await bot.send_message(8, "another chat is fine")
    tg.faults.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(9, "x")
    assert err.value.retry_after == dtm.timedelta(seconds=7)
    with pytest.raises(RetryAfter) as err:  # inside the wait: refused again, and recorded
        await bot.send_message(9, "x")
    assert err.value.retry_after == dtm.timedelta(seconds=7)
    assert [(s.chat, s.what) for s in tg.flood.early] == [("9", "sendMessage")]
    assert [w.chat for w in tg.flood.waits] == ["7", "9", "9"]


async def test_group_and_global_limits() -> None:
    now = [0.0]
    limits = RateLimits(per_chat_burst=100, per_chat_rate=100)
    async with (
        FakeTelegram(rate_limits=limits, clock=lambda: now[0]) as tg,
        Bot(tg.token, base_url=tg.base_url) as bot,
    ):
        for i in range(20):
            await bot.send_message(-5, f"g{i}")
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(-5, "21st")
        assert err.value.retry_after == dtm.timedelta(seconds=60)
        now[0] = 61.0
        for i in range(30):
            await bot.send_message(1000 + i, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(5000, "31st in one second")
        now[0] = 62.5
        await bot.send_message(5000, "next second")


async def test_commands_per_scope_and_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "시작"), BotCommand("status", "상태")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("buy", "Buy")], scope=scope, language_code="en")
    assert tg.commands() == [("start", "시작"), ("status", "상태")]
    assert tg.commands(language_code="en") == [("start", "Start")]
    assert tg.commands(scope, "en") == [("buy", "Buy")]
    assert tg.commands("all_private_chats") == []
    got = await bot.get_my_commands(language_code="en")
    assert [c.command for c in got] == ["start"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match=r"(?i)DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand("ok", "d" * 257)])
    await bot.delete_my_commands(language_code="en")
    assert tg.commands(language_code="en") == []


async def test_send_photo_and_document_keep_bytes(tg: FakeTelegram, bot: Bot) -> None:
    image = png(5, 4)
    msg = await bot.send_photo(42, image, caption="<b>chart</b>", parse_mode=ParseMode.HTML)
    assert msg.caption == "chart"
    assert (msg.photo[-1].width, msg.photo[-1].height) == (5, 4)
    call = await tg.wait_for(method="sendPhoto")
    assert call.photo == image
    assert call.caption == "<b>chart</b>"
    assert tg.requests[-1].files  # it really was a multipart upload
    file = await bot.get_file(msg.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(42, b"not an image")
    doc = await bot.send_document(42, b"a,b\n1,2\n", filename="trades.csv")
    assert doc.document is not None
    assert doc.document.file_name == "trades.csv"
    assert (await tg.wait_for(method="sendDocument")).document == b"a,b\n1,2\n"


async def test_edit_delete_and_chat_action(tg: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_message(42, "v1")
    await bot.send_chat_action(42, "typing")
    edited = await bot.edit_message_text("v2", chat_id=42, message_id=msg.message_id)
    assert edited.text == "v2"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("v2", chat_id=42, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=42, message_id=99)
    assert [m["text"] for m in tg.messages(42)] == ["v2"]
    assert await bot.delete_message(42, msg.message_id)
    assert tg.messages(42) == []
    assert [c.method for c in tg.sent] == [
        "sendMessage",
        "sendChatAction",
        "editMessageText",
        "deleteMessage",
    ]


async def test_down_then_up(tg: FakeTelegram, bot: Bot) -> None:
    tg.faults.down(None)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(1, "x")
    tg.faults.down(None, mode="reset")
    with pytest.raises(NetworkError):
        await bot.get_me()
    tg.faults.clear()
    assert (await bot.send_message(1, "back")).text == "back"
    tg.faults.down(0.3)
    with pytest.raises(NetworkError):
        await bot.get_me()
    await asyncio.sleep(0.35)
    assert (await bot.get_me()).username == "upbit_test_bot"


async def test_down_hang_times_out(tg: FakeTelegram) -> None:
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as b:
        tg.faults.down(None, mode="hang")
        with pytest.raises(TimedOut):
            await b.get_me()
        tg.faults.up()
        assert (await b.get_me()).is_bot


async def test_long_polling(tg: FakeTelegram, bot: Bot) -> None:
    start = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - start < 2.5

    async def later() -> None:
        await asyncio.sleep(0.2)
        tg.user_sends(5, 5, "hello")

    task = asyncio.create_task(later())
    start = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert time.monotonic() - start < 2
    assert updates[0].message is not None
    assert updates[0].message.text == "hello"
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    tg.user_sends(5, 5, "/start")
    (cmd,) = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert cmd.message is not None
    assert cmd.message.entities[0].type == "bot_command"


async def test_forwards_look_like_telegrams(tg: FakeTelegram, bot: Bot) -> None:
    tg.user_forwards(5, 5, "/pause", origin_user_id=666)
    tg.user_forwards(5, 5, "/pause", origin_user_id=None, origin_name="anon")
    tg.channel_forwards(-1001, -1002, "/pause", title="News")
    user, hidden, auto = (u.effective_message for u in await bot.get_updates(timeout=0))
    assert user is not None
    assert hidden is not None
    assert auto is not None

    assert isinstance(user.forward_origin, MessageOriginUser)
    assert user.forward_origin.sender_user.id == 666
    assert user.from_user is not None
    assert user.from_user.id == 5
    assert user.entities[0].type == "bot_command"  # Telegram keeps the entities
    assert not user.is_automatic_forward
    assert isinstance(hidden.forward_origin, MessageOriginHiddenUser)
    assert hidden.forward_origin.sender_user_name == "Anon"
    assert auto.is_automatic_forward
    assert isinstance(auto.forward_origin, MessageOriginChannel)
    assert auto.forward_origin.chat.id == -1002
    assert auto.sender_chat is not None
    assert auto.sender_chat.id == -1002
    assert auto.from_user is not None
    assert auto.from_user.id == 777000
    assert auto.chat.type == "supergroup"


async def test_webhook_delivery(tg: FakeTelegram, bot: Bot) -> None:
    got: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        uid = tg.user_sends(5, 5, "/status")
        assert (await bot.get_webhook_info()).pending_update_count == 1
        assert await tg.deliver_webhook() == 200
        assert got[0][0] == "s3cret"
        assert got[0][1]["update_id"] == uid
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_application_round_trip(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("확인", callback_data="confirm:1")]])
        await update.effective_message.reply_text(
            "<b>hello</b>", parse_mode="HTML", reply_markup=kb
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("done")
        await query.edit_message_text(f"confirmed {query.data}")

    tg.user_sends(42, 42, "/start")  # queued before the bot starts: dropped
    app = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(drop_pending_updates=True, poll_interval=0, timeout=1)
    try:
        assert tg.pending_updates == []
        tg.user_sends(42, 42, "/start", username="kim")
        reply = await tg.wait_for(method="sendMessage", chat_id=42)
        assert reply.plain_text == "hello"
        assert reply.message_id is not None
        tg.user_presses(42, 42, reply.message_id, "confirm:1")
        edit = await tg.wait_for(method="editMessageText")
        answer = await tg.wait_for(method="answerCallbackQuery")
        assert answer.text == "done"
        assert edit.text == "confirmed confirm:1"
        assert tg.messages(42)[-1]["text"] == "confirmed confirm:1"
        assert "reply_markup" not in tg.messages(42)[-1]
        assert len([c for c in tg.sent if c.method == "sendMessage"]) == 1  # first /start dropped
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert tg.calls("deleteWebhook")[0].params == {"drop_pending_updates": True}


async def test_raw_wire_protocol(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}{tg.token}/getme") as resp:
            assert resp.status == 200
            assert (await resp.json())["result"]["username"] == "upbit_test_bot"
        body = {"chat_id": 3, "text": "json", "reply_markup": {"inline_keyboard": []}}
        async with http.post(f"{tg.base_url}{tg.token}/sendMessage", json=body) as resp:
            result = (await resp.json())["result"]
            assert (result["chat"], result["text"]) == (
                {"id": 3, "type": "private", "first_name": "User"},
                "json",
            )
        async with http.post(f"{tg.base_url}{tg.token}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{tg.base_url}not-a-token/getMe") as resp:
            assert resp.status == 404


async def test_blocked_user_and_button_checks(tg: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_message(42, "no buttons")
    with pytest.raises(ValueError, match="no button"):
        tg.user_presses(42, 42, msg.message_id, "x")
    tg.block(42)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(42, "hi")
