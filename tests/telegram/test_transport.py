"""Telegram end to end: real python-telegram-bot, the fake Bot API, a real paper engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.notify import NotifyPolicy
from bot.notify.notifier import Notifier
from bot.notify.sender import RetryAfter
from bot.telegram.transport import TelegramTransport
from handlers.auth import Authorizer, Policy
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.fmt import catalog
from handlers.registry import Role
from handlers.reply import Reply, Table
from tests.engine.conftest import facade, paper_rig, replay
from tests.fakes.telegram import FakeTelegram, SentCall
from trading.engine.build import EngineRig
from trading.positions import PositionState

CHAT, ADMIN, VIEWER, STRANGER = 100, 7, 9, 666
GROUP, CHANNEL = -1001234, -1005678  # a discussion group and the channel linked to it


@dataclass
class Setup:
    tg: FakeTelegram
    transport: TelegramTransport
    dispatcher: Dispatcher
    rig: EngineRig
    clock: list[float]


@pytest.fixture
async def setup(store, events) -> AsyncIterator[Setup]:
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    clock = [1000.0]
    policy = Policy.of(chats=[CHAT, GROUP], admins=[ADMIN], viewers=[VIEWER])
    auth = Authorizer({"telegram": policy})
    dispatcher = Dispatcher(
        build_registry(),
        api,
        auth,
        store,
        language="ko",
        clock=lambda: clock[0],
        bot_username="upbit_test_bot",
    )
    async with FakeTelegram() as tg:
        transport = TelegramTransport(
            token=tg.token,
            dispatcher=dispatcher,
            base_url=tg.base_url,
            base_file_url=tg.base_file_url,
            member_roles=[(CHAT, ADMIN, Role.ADMIN)],
            poll_timeout_s=1,
        )
        await transport.start()
        try:
            yield Setup(tg, transport, dispatcher, rig, clock)
        finally:
            await transport.stop()


async def test_authorized_status_gets_a_reply(setup):
    setup.tg.user_sends(CHAT, VIEWER, "/status")

    sent = await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)

    assert sent.parse_mode == "HTML"
    assert "KRW-BTC" in sent.text


async def test_stranger_is_refused_once_and_audited(setup, store):
    setup.tg.user_sends(CHAT, STRANGER, "/status")
    setup.tg.user_sends(CHAT, STRANGER, "/balance")
    await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)
    setup.tg.user_sends(CHAT, VIEWER, "/version")  # a marker: the queue was drained
    await setup.tg.wait_for(lambda c: c.method == "sendMessage" and len(setup.tg.sent) >= 2)

    replies = [c for c in setup.tg.sent if c.method == "sendMessage"]
    audit = await store.audit_log(10, user_id=str(STRANGER))
    assert len(replies) == 2  # one refusal, then the viewer's /version: nothing more
    assert [a.outcome for a in audit] == ["denied", "denied"]


def forwarded_id(tg: FakeTelegram) -> int:
    (update,) = [u for u in tg.requests_updates() if "forward_origin" in u["message"]]
    return int(update["message"]["message_id"])


@pytest.mark.parametrize(
    ("language", "origin"), [("ko", STRANGER), ("en", STRANGER), ("ko", None)]
)
async def test_a_forwarded_command_is_never_run(setup, store, language, origin):
    # an admin forwards a stranger's /pause (origin None: the stranger hides their account)
    setup.tg.user_forwards(CHAT, ADMIN, "/pause", origin_user_id=origin, language_code=language)

    reply = await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)

    assert not setup.rig.engine.paused_all
    assert catalog(language).t("auth.forwarded") in reply.plain_text
    assert reply.params["reply_parameters"]["message_id"] == forwarded_id(setup.tg)
    (entry,) = await store.audit_log(5, user_id=str(ADMIN))
    assert (entry.command, entry.outcome, entry.detail) == ("pause", "denied", "forwarded")


async def test_an_automatic_forward_from_a_linked_channel_is_never_run(setup, store):
    setup.tg.channel_forwards(GROUP, CHANNEL, "/pause")

    reply = await setup.tg.wait_for(method="sendMessage", chat_id=GROUP)

    assert not setup.rig.engine.paused_all
    assert catalog("ko").t("auth.forwarded") in reply.plain_text  # the bot's language
    (entry,) = await store.audit_log(5, user_id="777000")
    assert (entry.command, entry.outcome) == ("pause", "denied")


async def test_the_same_command_typed_runs(setup):
    setup.tg.user_forwards(CHAT, ADMIN, "/pause")
    await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)
    setup.tg.user_sends(CHAT, ADMIN, "/pause")

    await setup.tg.wait_for(lambda c: c.method == "sendMessage" and len(setup.tg.sent) >= 2)

    assert setup.rig.engine.paused_all


async def test_bad_set_gets_usage_and_changes_nothing(setup):
    setup.tg.user_sends(CHAT, ADMIN, "/set strategy.fast 1")

    await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)

    assert setup.rig.engine.strategy.params.fast == 5


async def test_flatten_needs_the_same_user_within_a_minute(setup, events):
    rig = setup.rig
    rig.loop.start()
    await replay(
        rig, 600, until=lambda r: r.engine.positions.get("KRW-BTC").state is PositionState.LONG
    )
    assert rig.engine.positions.get("KRW-BTC").state is PositionState.LONG

    setup.tg.user_sends(CHAT, ADMIN, "/flatten")
    preview = await setup.tg.wait_for(lambda c: c.method == "sendMessage" and c.reply_markup)
    buttons = preview.reply_markup["inline_keyboard"][0]
    confirm = next(b["callback_data"] for b in buttons if b["callback_data"].startswith("cf:"))
    setup.tg.user_presses(CHAT, VIEWER, preview.message_id, confirm)  # someone else
    await setup.tg.wait_for(lambda c: c.method == "sendMessage" and c is not preview)
    assert rig.engine.positions.get("KRW-BTC").state is PositionState.LONG

    setup.tg.user_presses(CHAT, ADMIN, preview.message_id, confirm)
    await setup.tg.wait_for(method="editMessageText", chat_id=CHAT)
    await rig.loop.drain()
    await rig.loop.stop()

    assert rig.engine.positions.get("KRW-BTC").state in (
        PositionState.COOLDOWN,
        PositionState.FLAT,
    )
    assert rig.engine.kill_switch


async def test_an_expired_confirmation_does_nothing(setup):
    setup.tg.user_sends(CHAT, ADMIN, "/pause")
    preview = None
    setup.tg.user_sends(CHAT, ADMIN, "/set strategy.fast 7")
    preview = await setup.tg.wait_for(lambda c: c.method == "sendMessage" and c.reply_markup)
    confirm = next(
        b["callback_data"]
        for b in preview.reply_markup["inline_keyboard"][0]
        if b["callback_data"].startswith("cf:")
    )
    setup.clock[0] += 61

    setup.tg.user_presses(CHAT, ADMIN, preview.message_id, confirm)
    await setup.tg.wait_for(
        lambda c: (
            c.method in ("sendMessage", "editMessageText")
            and c is not preview
            and c.at > preview.at
        )
    )

    assert setup.rig.engine.strategy.params.fast == 5


async def test_menus_per_language_and_role(setup):
    ko = dict(setup.tg.commands(None, "ko"))
    en = dict(setup.tg.commands(None, "en"))

    assert "status" in ko
    assert "status" in en
    assert ko["status"] != en["status"]
    assert "flatten" not in ko  # viewers do not see the kill switch


async def test_long_pushes_are_split_and_429_is_reported_or_waited_out(setup):
    rows = tuple((str(n), "x" * 60) for n in range(200))
    long_reply = Reply("report", table=Table(("n", "text"), rows))

    await setup.transport.send(str(CHAT), long_reply, silent=True)  # hits the flood limit
    setup.tg.faults.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await setup.transport.send(str(CHAT), Reply("hello"), silent=False)

    parts = [c for c in setup.tg.sent if c.method == "sendMessage"]
    assert len(parts) >= 4  # every part once, the one after the 429 too
    assert all(len(p.text) <= 4096 for p in parts)
    assert len({p.text for p in parts}) == len(parts)
    assert info.value.seconds == 3


async def test_webhook_mode_checks_the_secret_token(store, events):
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rig = await paper_rig(store, events)
    auth = Authorizer({"telegram": Policy.of(chats=[CHAT], viewers=[VIEWER])})
    dispatcher = Dispatcher(build_registry(), facade(rig, store, events), auth, store)
    async with FakeTelegram() as tg:
        transport = TelegramTransport(
            token=tg.token,
            dispatcher=dispatcher,
            base_url=tg.base_url,
            mode="webhook",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            listen="127.0.0.1",
            port=port,
        )
        await transport.start()
        try:
            tg.user_sends(CHAT, VIEWER, "/version")
            status = await tg.deliver_webhook()
            reply = await tg.wait_for(method="sendMessage", chat_id=CHAT)
            async with httpx.AsyncClient() as http:
                forged = await http.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json={"update_id": 999, "message": {}},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
        finally:
            await transport.stop()

    assert status == 200
    assert reply.text
    assert forged.status_code == 403
    assert transport.secret_token not in str(tg.requests[-1].params.get("url", ""))


def replies(s: Setup) -> list[SentCall]:
    return [c for c in s.tg.sent if c.method == "sendMessage" and c.chat_id == CHAT]


def delayed_notes(language: str, platform: str) -> list[str]:
    t = catalog(language)
    return [t.t("notify.delayed", seconds=n, platform=platform) for n in range(1, 60)]


@pytest.mark.slow
async def test_three_status_under_a_429_are_all_answered_after_the_wait(setup):
    # Arrange: Telegram answers the next message with 429 retry_after=3
    setup.tg.faults.fail_next("sendMessage", 429, retry_after=3)

    # Act
    for _ in range(3):
        setup.tg.user_sends(CHAT, VIEWER, "/status", language_code="en")
    await setup.tg.wait_for(lambda _c: len(replies(setup)) >= 3, timeout=15)

    # Assert: all three arrive, none inside the wait, the first says why it is late
    answered = replies(setup)
    assert len(answered) == 3
    assert all("KRW-BTC" in (r.plain_text or "") for r in answered)
    assert setup.tg.flood.early == []
    (wait,) = setup.tg.flood.waits
    assert all(r.at >= wait.end for r in answered)
    assert any(note in (answered[0].plain_text or "") for note in delayed_notes("en", "Telegram"))


async def test_a_reply_that_did_not_wait_carries_no_note(setup):
    setup.tg.user_sends(CHAT, VIEWER, "/status", language_code="ko")

    sent = await setup.tg.wait_for(method="sendMessage", chat_id=CHAT)

    notes = delayed_notes("ko", "Telegram") + delayed_notes("en", "Telegram")
    assert not any(note in (sent.plain_text or "") for note in notes)


@pytest.mark.slow
async def test_a_push_told_to_wait_holds_back_the_replies_in_that_chat(setup, store):
    # Arrange: pushes through the transport; Telegram refuses the first with retry_after=2
    notifier = Notifier(
        store,
        {"telegram": setup.transport},
        {"telegram": [str(CHAT)]},
        NotifyPolicy(),
        catalog("en"),
        paper=True,
        poll_s=0.05,
    )
    await notifier.start()
    setup.tg.faults.fail_next("sendMessage", 429, retry_after=2)
    try:
        # Act: a push meets the 429, then a /status arrives inside its wait
        await notifier.push(Reply("report", lines=("daily",)))
        for _ in range(200):  # bounded: until the push has been told to wait
            if setup.tg.flood.waits:
                break
            await asyncio.sleep(0.05)
        setup.tg.user_sends(CHAT, VIEWER, "/status", language_code="en")
        await setup.tg.wait_for(lambda _c: len(replies(setup)) >= 2, timeout=15)
    finally:
        await notifier.stop()

    # Assert: both went out, neither inside the wait the push was told
    (wait,) = setup.tg.flood.waits
    assert setup.tg.flood.early == []
    assert all(r.at >= wait.end for r in replies(setup))
    assert any("KRW-BTC" in (r.plain_text or "") for r in replies(setup))
