"""Chat tokens, as an operator meets them: a wrong one stops the start with one line and exit
code 2; a platform that cannot be reached fails the start after a few tries; a token revoked
while running is told on the other platform and in ``/readyz`` and the metrics."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import free_port
from tests.bot.test_run_e2e import Bot
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow
CHAT, ADMIN, CHANNEL, SLACK_ADMIN = 100, 7, "C0100CHAN", "U07ADMIN"


def chat_env(base_env: dict[str, str], tg: FakeTelegram, slack: FakeSlack) -> dict[str, str]:
    return {
        **base_env,
        "UPBIT_BOT_BOT__LANGUAGE": "en",
        "UPBIT_BOT_BOT__REPLAY_SPEED": "60x",
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


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if " ERROR " in line or "Traceback" in line]


def orders_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


@pytest.mark.parametrize(
    ("variable", "wrong", "line"),
    [
        (
            "SLACK_BOT_TOKEN",
            "xoxb-wrong",
            "slack: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)",
        ),
        (
            "SLACK_APP_TOKEN",
            "xapp-wrong",
            "slack: SLACK_APP_TOKEN was refused by Slack (invalid_auth)",
        ),
        (
            "TELEGRAM_BOT_TOKEN",
            "123:WRONGWRONGWRONG",
            "telegram: TELEGRAM_BOT_TOKEN was refused by Telegram (401 Unauthorized)",
        ),
    ],
)
async def test_a_wrong_token_stops_the_start_with_one_line_and_exit_code_2(
    tmp_path, base_env, variable, wrong, line
):
    async with FakeTelegram() as tg, FakeSlack() as slack:
        env = {**chat_env(base_env, tg, slack), variable: wrong}
        bot = await Bot.start(tmp_path, env)
        try:
            code = await bot.finish(within_s=60)
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)

    assert code == 2
    errors = error_lines(bot.output)
    assert len(errors) == 1, bot.output
    assert errors[0].endswith(line)
    assert wrong not in bot.output
    # nothing was started that needs cleaning up: no trading, no chat, a clean stop
    assert "chat-ops ready" not in bot.output
    assert "reconcil" not in bot.output.lower()
    assert not tg.calls("getUpdates")
    assert not tg.sent
    assert slack.total_connections == 0
    assert not slack.all_messages()
    assert orders_in(tmp_path / "bot.db") == 0
    assert "stopped cleanly" in bot.output


async def test_an_unreachable_platform_fails_the_start_after_a_few_tries(tmp_path, base_env):
    closed = free_port()  # nothing listens there
    async with FakeTelegram() as tg, FakeSlack() as slack:
        env = {
            **chat_env(base_env, tg, slack),
            "UPBIT_BOT_SLACK__API_URL": f"http://127.0.0.1:{closed}/api/",
        }
        bot = await Bot.start(tmp_path, env)
        try:
            code = await bot.finish(within_s=120)
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)

    assert code == 1
    errors = error_lines(bot.output)
    assert len(errors) == 1, bot.output
    assert f"slack: Slack unreachable at http://127.0.0.1:{closed}/api/ after 4 tries" in errors[0]
    assert bot.output.count("slack: Slack unreachable") == 4  # three warnings, then the error
    assert "chat-ops ready" not in bot.output
    assert "stopped cleanly" in bot.output


async def readiness(port: str) -> tuple[int, dict[str, object], str]:
    async with httpx.AsyncClient() as http:
        ready = await http.get(f"http://127.0.0.1:{port}/readyz")
        metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
    return ready.status_code, ready.json(), metrics.text


async def test_a_slack_token_revoked_while_running_is_told_on_telegram(tmp_path, base_env):
    async with FakeTelegram() as tg, FakeSlack() as slack:
        bot = await Bot.start(tmp_path, chat_env(base_env, tg, slack))
        try:
            await bot.wait_for("chat-ops ready: telegram, slack", within_s=30)
            await slack.wait_for(lambda: slack.messages(CHANNEL), timeout=15)  # start-up push
            _, before, metrics_before = await readiness(base_env["UPBIT_BOT_HTTP__PORT"])

            slack.revoke(slack.bot_token)
            tg.user_sends(CHAT, ADMIN, "/pause")  # its push to Slack meets the revoked token
            alert = await tg.wait_for(
                lambda c: c.method == "sendMessage" and "SLACK_BOT_TOKEN" in (c.text or ""),
                timeout=30,
            )
            status, after, metrics_after = await readiness(base_env["UPBIT_BOT_HTTP__PORT"])
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)

    assert "Slack refused the bot's token" in (alert.plain_text or "")
    assert "token_revoked" in (alert.plain_text or "")
    assert before["checks"]["slack"]["ok"] is True  # type: ignore[index]
    assert status == 503
    slack_check = after["checks"]["slack"]  # type: ignore[index]
    assert slack_check["ok"] is False
    assert "SLACK_BOT_TOKEN was refused by Slack (token_revoked)" in slack_check["detail"]
    assert after["checks"]["telegram"]["ok"] is True  # type: ignore[index]
    assert 'upbit_bot_chat_ready{platform="slack"} 1.0' in metrics_before
    assert 'upbit_bot_chat_ready{platform="slack"} 0.0' in metrics_after
    assert 'upbit_bot_chat_ready{platform="telegram"} 1.0' in metrics_after
    # the alert is not queued for the platform that refused it
    assert not any("SLACK_BOT_TOKEN" in (m.text or "") for m in slack.messages(CHANNEL))
    assert "stopped cleanly" in bot.output


async def test_a_telegram_token_revoked_while_running_is_told_on_slack(tmp_path, base_env):
    async with FakeTelegram() as tg, FakeSlack() as slack:
        bot = await Bot.start(tmp_path, chat_env(base_env, tg, slack))
        try:
            await bot.wait_for("chat-ops ready: telegram, slack", within_s=30)
            await tg.wait_for(method="sendMessage", chat_id=CHAT, timeout=15)

            tg.revoke_token()  # the next long poll is refused: no push needed to notice
            alert = await slack.wait_for(
                lambda: [
                    m for m in slack.messages(CHANNEL) if "TELEGRAM_BOT_TOKEN" in (m.text or "")
                ],
                timeout=40,
            )
            status, after, metrics = await readiness(base_env["UPBIT_BOT_HTTP__PORT"])
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)

    assert "Telegram refused the bot's token" in (alert[0].text or "")
    assert "401 Unauthorized" in (alert[0].text or "")
    assert status == 503
    assert after["checks"]["telegram"]["ok"] is False  # type: ignore[index]
    assert "TELEGRAM_BOT_TOKEN" in after["checks"]["telegram"]["detail"]  # type: ignore[index]
    assert 'upbit_bot_chat_ready{platform="telegram"} 0.0' in metrics
    assert "stopped cleanly" in bot.output
    assert tg.token not in bot.output


async def test_a_slack_app_token_revoked_while_running_is_named_at_the_reconnect(
    tmp_path, base_env
):
    async with FakeTelegram() as tg, FakeSlack() as slack:
        bot = await Bot.start(tmp_path, chat_env(base_env, tg, slack))
        try:
            await bot.wait_for("chat-ops ready: telegram, slack", within_s=30)
            await slack.wait_connected(timeout=10)

            slack.revoke(slack.app_token)
            await slack.send_disconnect()  # Slack asks for a reconnect: a new URL is refused
            alert = await tg.wait_for(
                lambda c: c.method == "sendMessage" and "SLACK_APP_TOKEN" in (c.text or ""),
                timeout=30,
            )
            status, after, _ = await readiness(base_env["UPBIT_BOT_HTTP__PORT"])
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)

    assert "token_revoked" in (alert.plain_text or "")
    assert status == 503
    assert "SLACK_APP_TOKEN was refused by Slack (token_revoked)" in str(after["checks"])
    assert "stopped cleanly" in bot.output
