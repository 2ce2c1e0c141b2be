"""Tests of the fake Slack with the real slack_sdk / slack-bolt clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.websockets import (
    AsyncSocketModeHandler as WebsocketsSocketModeHandler,
)
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

HANDLERS = {"aiohttp": AsyncSocketModeHandler, "websockets": WebsocketsSocketModeHandler}
BLOCKS = [
    {"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "Buy *BTC*?"}},
    {
        "type": "actions",
        "block_id": "confirm",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "order-1",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def web_client(slack: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, **kwargs)


def make_app(slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(client=web_client(slack), signing_secret=slack.signing_secret)

    @app.command("/upbit")
    async def upbit(ack: Any, say: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await say(f"echo: {command['text']}")
        await respond(f"only you see {command['user_id']}")

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"approved {body['actions'][0]['value']} by {body['user']['id']}",
            blocks=[],
        )

    return app


# ------------------------------------------------------------------ Web API
async def test_chat_methods_and_auth(slack: FakeSlack) -> None:
    client = web_client(slack)
    auth = await client.auth_test()
    assert (auth["user_id"], auth["team_id"], auth["bot_id"]) == ("UBOT", "T1", "B1")

    posted = await client.chat_postMessage(channel="C1", text="hello", blocks=BLOCKS)
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    await client.chat_update(channel="C1", ts=posted["ts"], text="hello v2")

    msgs = slack.messages("C1")
    assert [m.text for m in msgs] == ["hello v2", "psst"]
    assert msgs[0].blocks == BLOCKS
    assert msgs[0].edits[0].text == "hello"
    assert msgs[1].ephemeral_user == "U1"
    assert msgs[1].ts == eph["message_ts"]
    assert slack.requests[1].body_kind == "json"  # chat.postMessage sends JSON

    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C1", ts="1.000", text="x")
    assert err.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="#nope", text="x")
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning, match="`text`"):
        await client.chat_postMessage(channel="C1")
    assert err.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as err:
        await client.apps_connections_open(app_token=slack.bot_token)
    assert err.value.response["error"] == "not_allowed_token_type"
    opened = await client.apps_connections_open(app_token=slack.app_token)
    assert opened["url"].startswith(f"ws://127.0.0.1:{slack.port}/socket?")


async def test_a_revoked_token_is_refused_from_then_on(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await client.auth_test()
    slack.revoke(slack.bot_token)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="after the revoke")
    assert err.value.response["error"] == "token_revoked"
    opened = await client.apps_connections_open(app_token=slack.app_token)  # the other one
    assert opened["ok"]
    assert not slack.all_messages()


async def test_files_upload_v2_bytes_arrive(slack: FakeSlack) -> None:
    data = bytes(range(256)) * 40
    resp = await web_client(slack).files_upload_v2(
        channel="C1", content=data, filename="chart.png", title="Chart", initial_comment="pnl"
    )
    assert resp["file"]["name"] == "chart.png"
    [up] = slack.uploads
    assert (up.data, up.filename, up.title, up.channels) == (data, "chart.png", "Chart", ["C1"])
    assert up.initial_comment == "pnl"
    assert [r.method for r in slack.requests] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_rate_limit_429_and_retry_handler() -> None:
    async with FakeSlack(per_channel_burst=2) as slack:
        client = web_client(slack)
        await client.chat_postMessage(channel="C1", text="1")
        await client.chat_postMessage(channel="C1", text="2")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="3")
        assert err.value.response.status_code == 429
        assert err.value.response["error"] == "ratelimited"
        assert int(err.value.response.headers["Retry-After"]) >= 1
        await client.chat_postMessage(channel="C2", text="other channel is fine")

        retrying = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler()])
        slack.faults.fail_next("chat.postMessage", status=429, retry_after=0)
        resp = await retrying.chat_postMessage(channel="C3", text="after retry")
        assert resp["ok"]
        assert [r.status for r in slack.calls("chat.postMessage")][-2:] == [429, 200]
        assert [m.text for m in slack.messages("C1")] == ["1", "2"]


async def test_a_429_closes_the_channel_for_exactly_retry_after(slack: FakeSlack) -> None:
    client = web_client(slack)
    url = slack.slash_payload("U1", "C1", "status")["response_url"]
    slack.faults.fail_next("response_url", status=429, retry_after=5)
    body = {"text": "hi", "response_type": "in_channel"}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        assert (resp.status, resp.headers["Retry-After"]) == (429, "5")
    with pytest.raises(SlackApiError) as err:  # inside the wait: refused, and recorded
        await client.chat_postMessage(channel="C1", text="too early")
    assert err.value.response.status_code == 429
    await client.chat_postMessage(channel="C2", text="another channel is fine")

    assert [(s.chat, s.what) for s in slack.flood.early] == [("C1", "chat.postMessage")]
    assert slack.flood.waits[0].chat == "C1"
    assert slack.flood.waits[0].end - slack.flood.waits[0].start == 5
    assert [r.status for r in slack.responses] == [429]


async def test_faults_errors_and_down(slack: FakeSlack) -> None:
    client = web_client(slack)
    slack.faults.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_in_channel"
    slack.faults.fail_next("auth.test", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.auth_test()
    assert err.value.response.status_code == 500
    slack.faults.down(None)
    with pytest.raises(SlackApiError) as err:
        await client.auth_test()
    assert err.value.response.status_code == 503
    slack.faults.down(None, refuse=True)
    with pytest.raises(aiohttp.ClientError):
        await client.auth_test()
    slack.faults.clear()
    assert (await client.auth_test())["ok"]


# ------------------------------------------------------------------ Socket Mode + bolt
@pytest.mark.parametrize("impl", sorted(HANDLERS))
async def test_bolt_socket_mode_slash_button_and_reconnect(slack: FakeSlack, impl: str) -> None:
    app = make_app(slack)
    handler = HANDLERS[impl](app, slack.app_token, ping_interval=0.5)
    await handler.connect_async()
    try:
        await slack.wait_connected()
        env_id = await slack.slash_command("U1", "C1", "price KRW-BTC")
        ack = await slack.wait_ack(env_id)
        assert not ack.late
        assert ack.latency < 3.0
        assert ack.type == "slash_commands"
        msg = await slack.wait_for(lambda: slack.messages("C1")[0])
        assert msg.text == "echo: price KRW-BTC"
        assert not msg.ephemeral
        resp = await slack.wait_for(lambda: slack.responses[0])
        assert (resp.text, resp.response_type, resp.source) == (
            "only you see U1",
            "ephemeral",
            "response_url",
        )

        posted = await slack_post_with_buttons(slack)
        env_id = await slack.press_button("U1", "C1", posted, "approve", "order-1")
        await slack.wait_ack(env_id)
        updated = await slack.wait_for(lambda: slack.message("C1", posted).edits)
        assert updated
        assert slack.message("C1", posted).text == "approved order-1 by U1"

        assert slack.faults.drop_socket() == 1
        await slack.wait_connected(timeout=8.0, total=2)
        env_id = await slack.slash_command("U2", "C9", "after reconnect")
        await slack.wait_ack(env_id)
        await slack.wait_for(lambda: slack.messages("C9")[0].text == "echo: after reconnect")
        assert len(slack.calls("apps.connections.open")) >= 2
        assert slack.protocol_errors == []
    finally:
        await handler.close_async()


async def slack_post_with_buttons(slack: FakeSlack) -> str:
    resp = await web_client(slack).chat_postMessage(channel="C1", text="Buy BTC?", blocks=BLOCKS)
    return str(resp["ts"])


async def test_disconnect_message_makes_client_reconnect(slack: FakeSlack) -> None:
    app = make_app(slack)
    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()
    try:
        await slack.wait_connected()
        assert await slack.send_disconnect() == 1
        await slack.wait_connected(total=2)
        await slack.wait_for(lambda: slack.connections == 1)
        env_id = await slack.slash_command("U1", "C1", "hi")
        assert (await slack.wait_ack(env_id)).payload is None
    finally:
        await handler.close_async()


# ------------------------------------------------------------------ HTTP mode
async def test_http_mode_signed_requests(slack: FakeSlack) -> None:
    app = make_app(slack)
    runner = web.AppRunner(app.web_app(path="/slack/events"), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        good = await slack.post_signed(url, "slash", slack.slash_payload("U1", "C1", "hello"))
        assert good.status == 200
        assert not good.late
        await slack.wait_for(lambda: slack.messages("C1")[0].text == "echo: hello")

        bad = await slack.post_signed(
            url, "slash", slack.slash_payload("U1", "C1", "evil"), bad_signature=True
        )
        assert bad.status == 401
        stale = await slack.post_signed(
            url, "slash", slack.slash_payload("U1", "C1", "old"), timestamp=1_000_000_000
        )
        assert stale.status == 401

        ts = await slack_post_with_buttons(slack)
        payload = slack.block_actions_payload("U1", "C1", ts, "approve", "order-1")
        clicked = await slack.post_signed(url, "interactive", payload)
        assert clicked.status == 200
        await slack.wait_for(lambda: slack.message("C1", ts).text == "approved order-1 by U1")  # type: ignore[union-attr]
        assert all(m.text != "echo: evil" for m in slack.messages("C1"))
    finally:
        await runner.cleanup()


async def test_replays_and_retries_on_the_wire(slack: FakeSlack) -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((await request.read(), dict(request.headers)))
        return web.Response()

    app = web.Application()
    app.router.add_post("/slack/events", record)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/slack/events"
    payload = slack.slash_payload("U1", "C1", "pause")
    try:
        await slack.post_signed(url, "slash", payload, timestamp=1_700_000_000)
        await slack.post_signed(url, "slash", payload, timestamp=1_700_000_000)
        await slack.post_signed(url, "slash", payload, timestamp=1_700_000_060, retry_num=1)
    finally:
        await runner.cleanup()

    (first, h1), (replay, h2), (retry, h3) = seen
    assert replay == first
    assert h2["X-Slack-Signature"] == h1["X-Slack-Signature"]
    assert retry == first
    assert h3["X-Slack-Signature"] != h1["X-Slack-Signature"]
    assert (h3["X-Slack-Retry-Num"], h3["X-Slack-Retry-Reason"]) == ("1", "http_timeout")
    assert "X-Slack-Retry-Num" not in h1


async def test_late_ack_is_recorded(slack: FakeSlack) -> None:
    # bolt gives up on a listener after 3 s itself, so use the raw slack_sdk client here
    client = SocketModeClient(app_token=slack.app_token, web_client=web_client(slack))

    async def slow(c: SocketModeClient, req: SocketModeRequest) -> None:
        await asyncio.sleep(3.2)
        await c.send_socket_mode_response(SocketModeResponse(req.envelope_id, {"text": "late"}))

    client.socket_mode_request_listeners.append(slow)  # type: ignore[arg-type]
    await client.connect()
    try:
        await slack.wait_connected()
        env_id = await slack.slash_command("U1", "C1", "slow")
        ack = await slack.wait_ack(env_id, timeout=6.0)
        assert ack.late
        assert ack.latency > 3.0
        assert ack.payload == {"text": "late"}
        assert slack.responses[-1].source == "ack"
        assert slack.messages("C1")[-1].ephemeral_user == "U1"
    finally:
        await client.close()
