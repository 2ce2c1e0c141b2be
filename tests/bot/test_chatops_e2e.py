"""The whole bot with Telegram and Slack on: start-up pushes, commands both ways, clean stop."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.bot.test_run_e2e import Bot
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow
CHAT, ADMIN, CHANNEL, SLACK_ADMIN = 100, 7, "C0100CHAN", "U07ADMIN"


async def test_bot_talks_on_telegram_and_slack(tmp_path, base_env):
    async with FakeTelegram() as tg, FakeSlack() as slack:
        env = {
            **base_env,
            "UPBIT_BOT_BOT__LANGUAGE": "en",
            "UPBIT_BOT_BOT__REPLAY_SPEED": "60x",  # slow enough to talk while it trades
            "TELEGRAM_BOT_TOKEN": tg.token,
            "UPBIT_BOT_TELEGRAM__ENABLED": "true",
            "UPBIT_BOT_TELEGRAM__BASE_URL": tg.base_url,
            "UPBIT_BOT_TELEGRAM__ALLOWED_CHAT_IDS": f"[{CHAT}]",
            "UPBIT_BOT_TELEGRAM__ADMIN_IDS": f"[{ADMIN}]",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "UPBIT_BOT_SLACK__ENABLED": "true",
            "UPBIT_BOT_SLACK__API_URL": slack.api_url,
            "UPBIT_BOT_SLACK__ALLOWED_CHANNEL_IDS": f'["{CHANNEL}"]',
            "UPBIT_BOT_SLACK__ADMIN_IDS": f'["{SLACK_ADMIN}"]',
        }
        bot = await Bot.start(tmp_path, env)
        try:
            await bot.wait_for("chat-ops ready: telegram, slack", within_s=30)
            # start-up pushes reach both platforms
            await tg.wait_for(method="sendMessage", chat_id=CHAT, timeout=15)
            await slack.wait_for(lambda: slack.messages(CHANNEL), timeout=15)
            # a command on each
            tg.user_sends(CHAT, ADMIN, "/status")
            status = await tg.wait_for(
                lambda c: c.method == "sendMessage" and "KRW-BTC" in (c.text or ""), timeout=15
            )
            await slack.wait_connected(timeout=10)
            await slack.slash_command(SLACK_ADMIN, CHANNEL, "version")
            await slack.wait_for(lambda: slack.responses, timeout=15)
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)
    assert status.parse_mode == "HTML"
    assert "stopped cleanly" in bot.output
    # the shutdown notice reaches both platforms: the notifier drains before the transports
    # stop (issue #12.3: it was dropped with "telegram transport is not running")
    assert any("Bot stopping" in (m.get("text") or "") for m in tg.messages(CHAT))
    assert any("Bot stopping" in (m.text or "") for m in slack.messages(CHANNEL))
    assert "transport is not running" not in bot.output
    assert tg.token not in bot.output
    assert slack.bot_token not in bot.output
