"""At DEBUG, Slack's libraries print whole requests: the ``response_url`` (anyone holding it
may post into the channel for 30 minutes) and the verification token ride along. They are
masked like the other secrets (issue #12.4).

Logging is set up first, as the bot does, so bolt's and slack_sdk's loggers run at DEBUG; then
slash commands go through the fake Slack in Socket Mode and in HTTP mode (one with a bad
signature, whose body bolt logs at INFO), and the log must hold neither value anywhere.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging
from bot.slack.transport import SlackTransport
from tests.engine.conftest import paper_rig
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.payloads import VERIFICATION_TOKEN
from tests.slack.test_transport import CHANNEL, VIEWER, dispatcher, said

NOISY = ("httpx", "httpcore", "websockets", "aiosqlite", "alembic", "apscheduler")


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The bot's logging at DEBUG (plain lines), written to a string; restored afterwards."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    levels = {n: logging.getLogger(n).level for n in NOISY}
    stream = io.StringIO()
    setup_logging("DEBUG", json_lines=False, secrets=["xoxb-test", "xapp-test", "shhh"])
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


def leaked(log: str, urls: list[str]) -> list[str]:
    found = [VERIFICATION_TOKEN] if VERIFICATION_TOKEN in log else []
    for url in urls:
        secret = url.rsplit("/", 1)[-1]
        found += [part for part in (url, secret) if part in log]
    found += re.findall(r"/response/[0-9a-f]{8,}", log)
    return found


async def test_socket_mode_at_debug_logs_no_response_url_nor_token(debug_log, store, events):
    rig = await paper_rig(store, events)
    async with FakeSlack() as slack:
        transport = SlackTransport(
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            dispatcher=dispatcher(store, events, rig),
            api_url=slack.api_url,
        )
        await transport.start()
        try:
            await slack.wait_connected()
            await slack.slash_command(VIEWER, CHANNEL, "status")
            await slack.wait_for(lambda: said(slack)[-1])
        finally:
            await transport.stop()
        urls = [
            e.payload["response_url"]
            for e in slack.envelopes.values()
            if "response_url" in e.payload
        ]

    log = debug_log.getvalue()
    assert urls
    assert "Received message" in log  # bolt's DEBUG dump of the envelope was written
    assert "Sending a request - url:" in log  # and slack_sdk's of the POST to response_url
    assert leaked(log, urls) == []


async def test_http_mode_at_debug_logs_no_response_url_nor_token(debug_log, store, events):
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
            good = slack.slash_payload(VIEWER, CHANNEL, "status")
            forged = slack.slash_payload(VIEWER, CHANNEL, "status")
            assert (await slack.post_signed(url, "slash", good)).status == 200
            await slack.wait_for(lambda: said(slack)[-1])
            assert (
                await slack.post_signed(url, "slash", forged, bad_signature=True)
            ).status == 401
        finally:
            await transport.stop()

    log = debug_log.getvalue()
    assert "Invalid request signature detected" in log  # bolt logged the forged body
    assert leaked(log, [good["response_url"], forged["response_url"]]) == []
