"""How the Telegram transport is pointed at its server from the config."""

from __future__ import annotations

import pytest

from bot.telegram.kind import file_url


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/custom", None),  # unknown shape: PTB's default
    ],
)
def test_the_file_url_follows_the_bot_api_base(base: str, expected: str | None) -> None:
    assert file_url(base) == expected
