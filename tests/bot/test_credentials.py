"""The start-up check of chat tokens, with the real clients against the fakes: what counts as
refused, what is tried again and how long it waits (the waits are recorded, never slept)."""

from __future__ import annotations

import pytest

from bot.config import load_config
from bot.credentials import (
    CredentialsRefused,
    PlatformUnreachable,
    check_credentials,
)
from bot.slack.probe import slack_call
from bot.telegram.probe import telegram_get_me
from bot.token_watch import TokenWatch
from bot.transports.base import Credential
from bot.transports.registry import credentials_of
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from trading.events import Event


class Waits:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def tg_cred(tg: FakeTelegram, token: str | None = None) -> Credential:
    value = token or tg.token
    return Credential(
        "telegram",
        "TELEGRAM_BOT_TOKEN",
        tg.base_url,
        lambda: telegram_get_me(value, tg.base_url, timeout_s=5),
    )


def slack_cred(slack: FakeSlack, variable: str, token: str, method: str) -> Credential:
    return Credential(
        "slack", variable, slack.api_url, lambda: slack_call(token, slack.api_url, method, 5)
    )


async def test_accepted_tokens_pass_without_waiting() -> None:
    waits = Waits()
    async with FakeTelegram() as tg, FakeSlack() as slack:
        await check_credentials(
            [
                tg_cred(tg),
                slack_cred(slack, "SLACK_BOT_TOKEN", slack.bot_token, "auth.test"),
                slack_cred(slack, "SLACK_APP_TOKEN", slack.app_token, "apps.connections.open"),
            ],
            sleep=waits,
        )
        assert [c.method for c in tg.requests] == ["getMe"]
        assert [r.method for r in slack.requests] == ["auth.test", "apps.connections.open"]
    assert waits.waits == []


async def test_every_refused_token_is_named_on_its_own_line() -> None:
    async with FakeTelegram() as tg, FakeSlack() as slack:
        with pytest.raises(CredentialsRefused) as caught:
            await check_credentials(
                [
                    tg_cred(tg, "not-a-token"),  # malformed: Telegram answers 404
                    slack_cred(slack, "SLACK_BOT_TOKEN", slack.app_token, "auth.test"),
                    slack_cred(slack, "SLACK_APP_TOKEN", "xapp-other", "apps.connections.open"),
                ],
                sleep=Waits(),
            )
    assert caught.value.lines == (
        "telegram: TELEGRAM_BOT_TOKEN was refused by Telegram (404 Not Found)",
        "slack: SLACK_BOT_TOKEN was refused by Slack (not_allowed_token_type)",
        "slack: SLACK_APP_TOKEN was refused by Slack (invalid_auth)",
    )


async def test_a_platform_that_does_not_answer_is_tried_four_times_then_fails() -> None:
    waits = Waits()
    async with FakeTelegram() as tg:
        tg.faults.down(mode="502")
        with pytest.raises(PlatformUnreachable) as caught:
            await check_credentials([tg_cred(tg)], sleep=waits)
        assert len(tg.requests) == 0  # the down fake answers before recording
    assert waits.waits == [1.0, 2.0, 4.0]
    assert str(caught.value).startswith(
        f"telegram: Telegram unreachable at {tg.base_url} after 4 tries over "
    )
    assert str(caught.value).endswith("(HTTP 502)")


async def test_a_rate_limit_waits_as_long_as_asked_and_then_answers() -> None:
    waits = Waits()
    async with FakeTelegram() as tg, FakeSlack() as slack:
        tg.faults.fail_next("getMe", 429, retry_after=7)
        slack.faults.fail_next("auth.test", status=429, retry_after=3)
        slack.faults.fail_next("auth.test", status=503)
        await check_credentials(
            [tg_cred(tg), slack_cred(slack, "SLACK_BOT_TOKEN", slack.bot_token, "auth.test")],
            sleep=waits,
        )
    assert sorted(waits.waits) == [2.0, 3.0, 7.0]  # Retry-After when longer than the step


async def test_a_refusal_is_reported_even_when_another_platform_is_away() -> None:
    async with FakeTelegram() as tg, FakeSlack() as slack:
        slack.faults.down(None)
        with pytest.raises(CredentialsRefused) as caught:
            await check_credentials(
                [
                    tg_cred(tg, "123:WRONGWRONGWRONG"),
                    slack_cred(slack, "SLACK_BOT_TOKEN", slack.bot_token, "auth.test"),
                ],
                sleep=Waits(),
            )
    assert caught.value.lines == (
        "telegram: TELEGRAM_BOT_TOKEN was refused by Telegram (401 Unauthorized)",
    )


def test_what_is_checked_follows_the_enabled_transports() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:ABCDEFGHIJ",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_SIGNING_SECRET": "s",
        "UPBIT_BOT_SLACK__ENABLED": "true",
    }
    socket = credentials_of(load_config(None, environ=env))
    http = credentials_of(
        load_config(None, environ={**env, "UPBIT_BOT_SLACK__SOCKET_MODE": "false"})
    )
    both = credentials_of(load_config(None, environ={**env, "UPBIT_BOT_TELEGRAM__ENABLED": "1"}))

    assert [c.variable for c in socket] == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]
    assert [c.variable for c in http] == ["SLACK_BOT_TOKEN"]  # no app token in HTTP mode
    assert [c.platform for c in both] == ["telegram", "slack", "slack"]


def test_a_refusal_while_running_is_told_once_per_platform() -> None:
    published: list[Event] = []
    watch = TokenWatch(["telegram", "slack"], published.append)
    report = watch.reporter("slack")

    report("SLACK_BOT_TOKEN", "token_revoked")
    report("SLACK_BOT_TOKEN", "token_revoked")  # every later push meets it too
    report("SLACK_APP_TOKEN", "invalid_auth")

    assert len(published) == 1
    assert watch.ready() == {"telegram": True, "slack": False}
    refusal = watch.refusal("slack")
    assert refusal is not None
    assert refusal.line("slack") == "slack: SLACK_BOT_TOKEN was refused by Slack (token_revoked)"
