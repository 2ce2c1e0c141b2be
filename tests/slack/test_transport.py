"""Slack end to end: real slack-bolt and slack_sdk, the fake Slack, a real paper engine."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.notify.sender import RetryAfter
from bot.slack.transport import SlackTransport
from handlers.auth import Authorizer, Policy
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.fmt import catalog
from handlers.reply import Image, Reply
from tests.engine.conftest import facade, paper_rig
from tests.fakes.slack import FakeSlack, ResponsePost
from trading.engine.build import EngineRig

CHANNEL, ADMIN, VIEWER, STRANGER = "C100", "U7", "U9", "U666"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Setup:
    slack: FakeSlack
    transport: SlackTransport
    rig: EngineRig


def dispatcher(store, events, rig) -> Dispatcher:
    auth = Authorizer({"slack": Policy.of(chats=[CHANNEL], admins=[ADMIN], viewers=[VIEWER])})
    return Dispatcher(build_registry(), facade(rig, store, events), auth, store, language="en")


@pytest.fixture
async def setup(store, events) -> AsyncIterator[Setup]:
    rig = await paper_rig(store, events)
    async with FakeSlack() as slack:
        transport = SlackTransport(
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            dispatcher=dispatcher(store, events, rig),
            api_url=slack.api_url,
        )
        await transport.start()
        await slack.wait_connected()
        try:
            yield Setup(slack, transport, rig)
        finally:
            await transport.stop()


def said(slack: FakeSlack):
    return [r for r in slack.responses]


async def test_slash_command_is_acked_and_answered(setup):
    envelope = await setup.slack.slash_command(VIEWER, CHANNEL, "status")

    ack = await setup.slack.wait_ack(envelope)
    reply = await setup.slack.wait_for(lambda: said(setup.slack)[-1])

    assert not ack.late
    assert "KRW-BTC" in str(reply)


async def test_stranger_gets_an_ephemeral_refusal(setup, store):
    await setup.slack.slash_command(STRANGER, CHANNEL, "balance")

    reply = await setup.slack.wait_for(lambda: said(setup.slack)[-1])

    assert reply.response_type == "ephemeral"
    assert [a.outcome for a in await store.audit_log(5, user_id=STRANGER)] == ["denied"]


async def test_confirmation_button_by_the_same_user(setup):
    await setup.slack.slash_command(ADMIN, CHANNEL, "set strategy.fast 7")
    preview = await setup.slack.wait_for(lambda: said(setup.slack)[-1])
    actions = next(b for b in preview.body["blocks"] if b["type"] == "actions")
    confirm = next(e for e in actions["elements"] if e["value"].startswith("cf:"))
    posted = await setup.transport.client.chat_postMessage(
        channel=CHANNEL, text="preview", blocks=preview.body["blocks"]
    )  # the fake presses buttons on messages it holds

    await setup.slack.press_button(
        ADMIN, CHANNEL, posted["ts"], confirm["action_id"], confirm["value"]
    )
    await setup.slack.wait_for(lambda: len(said(setup.slack)) >= 2)

    assert setup.rig.engine.strategy.params.fast == 7


async def test_push_with_image_and_429(setup):
    reply = Reply("daily report", lines=("PnL +1,000 KRW",), image=Image("equity.png", PNG))

    await setup.transport.send(CHANNEL, reply, silent=False)
    setup.slack.faults.fail_next("chat.postMessage", status=429, retry_after=2)
    with pytest.raises(RetryAfter) as info:
        await setup.transport.send(CHANNEL, Reply("again"), silent=False)

    assert setup.slack.messages(CHANNEL)[0].text.startswith("daily report")
    assert setup.slack.uploads[0].data == PNG
    assert info.value.seconds == 2


async def test_http_mode_refuses_a_bad_signature(store, events):
    rig = await paper_rig(store, events)
    async with FakeSlack() as slack:
        transport = SlackTransport(
            bot_token=slack.bot_token,
            signing_secret=slack.signing_secret,
            socket_mode=False,
            dispatcher=dispatcher(store, events, rig),
            api_url=slack.api_url,
            port=0,
        )
        await transport.start()
        try:
            url = f"http://127.0.0.1:{transport.port}/slack/events"
            payload = slack.slash_payload(user_id=VIEWER, channel_id=CHANNEL, text="status")
            good = await slack.post_signed(url, "slash", payload)
            bad = await slack.post_signed(url, "slash", payload, bad_signature=True)
        finally:
            await transport.stop()

    assert good.status == 200
    assert bad.status == 401


@dataclass
class Http:
    slack: FakeSlack
    transport: SlackTransport
    rig: EngineRig
    url: str


@pytest.fixture
async def http(store, events) -> AsyncIterator[Http]:
    rig = await paper_rig(store, events)
    async with FakeSlack() as slack:
        transport = SlackTransport(
            bot_token=slack.bot_token,
            signing_secret=slack.signing_secret,
            socket_mode=False,
            dispatcher=dispatcher(store, events, rig),
            api_url=slack.api_url,
            port=0,
        )
        await transport.start()
        try:
            yield Http(slack, transport, rig, f"http://127.0.0.1:{transport.port}/slack/events")
        finally:
            await transport.stop()


async def ran(store, command: str) -> int:
    return len([a for a in await store.audit_log(50) if a.command == command])


async def test_http_mode_runs_a_replayed_request_once(http, store):
    payload = http.slack.slash_payload(ADMIN, CHANNEL, "pause")
    now = int(time.time())

    first = await http.slack.post_signed(http.url, "slash", payload, timestamp=now)
    replay = await http.slack.post_signed(http.url, "slash", payload, timestamp=now)
    accepted = [r for r in (first, replay) if r.status == 200]
    await http.slack.wait_for(lambda: len(said(http.slack)) >= len(accepted))

    assert await ran(store, "pause") == 1
    assert len(said(http.slack)) == 1  # one reply
    assert first.status == 200
    assert replay.status == 401
    assert {k.lower(): v for k, v in replay.headers.items()}["x-slack-no-retry"] == "1"
    assert http.rig.engine.paused_all


async def test_http_mode_answers_a_replayed_button_press_once(http, store):
    await http.slack.post_signed(
        http.url, "slash", http.slack.slash_payload(ADMIN, CHANNEL, "set strategy.fast 7")
    )
    preview = await http.slack.wait_for(lambda: http.slack.messages(CHANNEL)[-1])
    actions = next(b for b in preview.blocks or [] if b["type"] == "actions")
    yes = next(e for e in actions["elements"] if e["value"].startswith("cf:"))
    press = http.slack.block_actions_payload(
        ADMIN, CHANNEL, preview.ts, yes["action_id"], yes["value"]
    )
    now = int(time.time())

    first = await http.slack.post_signed(http.url, "interactive", press, timestamp=now)
    replay = await http.slack.post_signed(http.url, "interactive", press, timestamp=now)
    accepted = [r for r in (first, replay) if r.status == 200]
    await http.slack.wait_for(lambda: len(said(http.slack)) >= 1 + len(accepted))

    assert len(said(http.slack)) == 2  # the preview, then the confirmation's result only
    assert http.rig.engine.strategy.params.fast == 7
    assert await ran(store, "set") == 2  # confirm_pending, confirmed
    assert replay.status == 401


async def test_http_mode_acks_slacks_retry_without_running_it_again(http, store, caplog):
    payload = http.slack.slash_payload(ADMIN, CHANNEL, "pause")
    now = int(time.time())

    first = await http.slack.post_signed(http.url, "slash", payload, timestamp=now)
    retry = await http.slack.post_signed(
        http.url, "slash", payload, timestamp=now + 1, retry_num=1
    )
    # both answers are 200: the log tells whether the retry was let through (2 replies due)
    skipped = any("retry 1 of a request" in r.getMessage() for r in caplog.records)
    await http.slack.wait_for(lambda: len(said(http.slack)) >= (1 if skipped else 2))

    assert await ran(store, "pause") == 1
    assert len(said(http.slack)) == 1
    assert (first.status, retry.status) == (200, 200)  # Slack is satisfied: no more retries
    assert retry.text == ""


async def test_http_mode_runs_a_retry_whose_first_delivery_never_came(http, store):
    payload = http.slack.slash_payload(ADMIN, CHANNEL, "pause")

    retry = await http.slack.post_signed(http.url, "slash", payload, retry_num=1)
    await http.slack.wait_for(lambda: said(http.slack))

    assert retry.status == 200
    assert await ran(store, "pause") == 1
    assert http.rig.engine.paused_all


async def test_http_mode_remembers_only_correctly_signed_requests(http, store):
    payload = http.slack.slash_payload(ADMIN, CHANNEL, "pause")

    forged = await http.slack.post_signed(http.url, "slash", payload, bad_signature=True)
    real = await http.slack.post_signed(http.url, "slash", payload)
    await http.slack.wait_for(lambda: said(http.slack))

    assert (forged.status, real.status) == (401, 200)  # the forgery blocked nothing
    assert await ran(store, "pause") == 1


async def test_a_long_push_is_split_never_cut(setup):
    lines = tuple(f"risk breach number {n:04d}: position size over the limit" for n in range(1000))

    await setup.transport.send(CHANNEL, Reply("many alerts", lines=lines), silent=False)

    delivered = "\n".join(m.text for m in setup.slack.messages(CHANNEL))
    assert all(f"number {n:04d}" in delivered for n in range(1000))
    assert len(setup.slack.messages(CHANNEL)) > 1


async def test_an_individual_slash_command_reaches_its_command(setup):
    await setup.slack.slash_command(VIEWER, CHANNEL, "", command="/version")

    reply = await setup.slack.wait_for(lambda: said(setup.slack)[-1])

    assert reply.response_type == "in_channel"


async def test_fallback_text_is_escaped_so_no_mention_goes_live(setup):
    """Slack parses ``<!channel>`` in a message's text: user words shown back (a halt window's
    name, say) must reach it escaped, in one message or split over several (issue #12.4)."""
    words = "<!channel> & <@U7>"
    await setup.transport.send(
        CHANNEL, Reply(f"halt {words}", lines=(words,), fields=(("name", words),)), silent=False
    )
    many = tuple(f"{words} line {n:04d} of a long push" for n in range(1000))
    await setup.transport.send(CHANNEL, Reply("many", lines=many), silent=False)

    texts = [m.text or "" for m in setup.slack.messages(CHANNEL)]
    assert len(texts) > 2
    assert all("<!" not in t and "<@" not in t for t in texts)
    assert "&lt;!channel&gt; &amp; &lt;@U7&gt;" in texts[0]


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "9" * 5000, "12.5"])
async def test_http_mode_refuses_a_timestamp_that_is_not_a_number_with_401(http, store, timestamp):
    """Issue #12.4: ``X-Slack-Request-Timestamp: abc`` made slack_sdk's verifier raise inside
    bolt (``int("abc")``), which answered 500, as if the bot were broken, so Slack retried."""
    payload = http.slack.slash_payload(ADMIN, CHANNEL, "pause")

    odd = await http.slack.post_signed(http.url, "slash", payload, timestamp=timestamp)
    real = await http.slack.post_signed(http.url, "slash", payload)
    await http.slack.wait_for(lambda: said(http.slack))

    assert (odd.status, real.status) == (401, 200)
    assert await ran(store, "pause") == 1


def answered(s: Setup) -> list[ResponsePost]:
    return [r for r in s.slack.responses if r.channel_id == CHANNEL and r.status == 200]


@pytest.mark.slow
async def test_three_status_under_a_429_are_all_answered_after_the_wait(setup):
    # Arrange: Slack answers the next reply with 429 Retry-After: 3
    setup.slack.faults.fail_next("response_url", status=429, retry_after=3)

    # Act
    for _ in range(3):
        await setup.slack.slash_command(VIEWER, CHANNEL, "status")
    await setup.slack.wait_for(lambda: answered(setup)[2], timeout=15)

    # Assert
    replies = answered(setup)
    assert len(replies) == 3
    assert all("KRW-BTC" in str(r.body) for r in replies)
    assert setup.slack.flood.early == []
    (wait,) = setup.slack.flood.waits
    sends = [s for s in setup.slack.flood.sends_to(CHANNEL) if s.at >= wait.end]
    assert len(sends) == 3  # the three replies, all after the wait
    notes = [catalog("en").t("notify.delayed", seconds=n, platform="Slack") for n in range(1, 60)]
    assert sum(any(n in str(r.body) for n in notes) for r in replies) >= 1
