"""``make run``'s replay ends with a summary: on the console and as a push to the chat."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.bot.test_run_e2e import Bot
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.slow
BUNDLED = Path(__file__).resolve().parents[2] / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
CHAT, ADMIN = 100, 7
MINUTES = 600


async def test_replay_ends_with_a_summary_on_the_console_and_in_chat(tmp_path, base_env):
    # Arrange: the first 10 hours of the bundled minutes (January 2018)
    lines = BUNDLED.read_text(encoding="utf-8").splitlines()
    data = tmp_path / "upbit_KRW-BTC_1m.csv"
    data.write_text("\n".join(lines[: MINUTES + 1]) + "\n", encoding="utf-8")
    async with FakeTelegram() as tg:
        env = {
            **base_env,
            "UPBIT_BOT_BOT__LANGUAGE": "en",
            "UPBIT_BOT_BOT__REPLAY_FILE": str(data),
            "TELEGRAM_BOT_TOKEN": tg.token,
            "UPBIT_BOT_TELEGRAM__ENABLED": "true",
            "UPBIT_BOT_TELEGRAM__BASE_URL": tg.base_url,
            "UPBIT_BOT_TELEGRAM__ALLOWED_CHAT_IDS": f"[{CHAT}]",
            "UPBIT_BOT_TELEGRAM__ADMIN_IDS": f"[{ADMIN}]",
        }
        # Act
        bot = await Bot.start(tmp_path, env)
        try:
            await bot.wait_for("replay finished: KRW-BTC", within_s=120)
            push = await tg.wait_for(
                lambda c: c.method == "sendMessage" and "Replay finished" in (c.text or ""),
                timeout=30,
            )
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await asyncio.sleep(0)
    # Assert: the console says what happened in plain words, the chat got the same report
    console = bot.output
    assert f"feed finished after {MINUTES * 4} prints" in console
    assert "2018-01-22 14:08 .. 2018-01-23 00:07 UTC" in console
    assert "the bot lost " in console or "the bot made " in console
    assert "buy-and-hold over the same data" in console
    assert "exits by reason:" in console
    text = push.text or ""
    assert "The bot lost " in text or "The bot made " in text
    assert "Holding the market over the same data" in text
    assert "Win rate" in text
    assert "Max drawdown" in text
