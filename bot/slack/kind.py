"""Slack as a transport kind: its ``[slack]`` section, its limits, its secrets and how it is
built. slack-bolt is imported only by ``build`` (through ``transport``), so reading the config
never loads it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, field_validator

from bot.chat_kind import paced_limits, role_policy, section_of
from bot.config import fields as f
from bot.config.sections import NotifyBase, Section
from bot.notify.pacing import Limits
from bot.transports.base import BuildContext, Credential, Secrets, Transport, secret
from handlers.auth import Policy

#: Slack ``chat.postMessage``: about one message a second per channel, no global cap.
SLACK_LIMITS = Limits(1.0, 60, 60.0, 0, 1.0)
BOT_TOKEN, APP_TOKEN, SIGNING_SECRET = "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{2,}$")
_WHERE = "in the environment or .env"


def check_slack_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError('must be a Slack id like "U012AB3CD" or "C0123ABCD"')
    return value


SlackId = Annotated[str, AfterValidator(check_slack_id)]


class SlackConfig(Section):
    """Slack transport; tokens are SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET."""

    enabled: bool = Field(False, description="run the Slack bot (needs SLACK_BOT_TOKEN)")
    socket_mode: bool = Field(
        True, description="Socket Mode (SLACK_APP_TOKEN) or HTTP events (SLACK_SIGNING_SECRET)"
    )
    command: str = Field("/upbit", description="slash command the bot answers")
    http_listen: str = Field(
        "127.0.0.1", min_length=1, description="HTTP events mode: address to listen on"
    )
    http_port: int = Field(3000, ge=1, le=65535, description="HTTP events mode: port to listen on")

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        return f.check_pattern(
            value, r"/[a-z0-9_-]{1,31}", 'must be a slash command like "/upbit"'
        )

    api_url: str = Field("https://slack.com/api/", description="Web API base (slack_sdk base_url)")
    allowed_channel_ids: tuple[SlackId, ...] = Field((), description="channels the bot listens in")
    notify_channel_ids: tuple[SlackId, ...] = Field(
        (), description="channels that receive alerts and reports; empty = allowed_channel_ids"
    )
    admin_ids: tuple[SlackId, ...] = Field((), description="user ids (U...) with every command")
    operator_ids: tuple[SlackId, ...] = Field((), description="user ids that may trade and pause")
    viewer_ids: tuple[SlackId, ...] = Field((), description="user ids with read-only commands")

    @field_validator("api_url")
    @classmethod
    def _api(cls, value: str) -> str:
        url = f.check_url(value, f.HTTP_SCHEMES)
        return url if url.endswith("/") else url + "/"  # slack_sdk appends method names


def _section(section: BaseModel) -> SlackConfig:
    return section_of(section, SlackConfig)


class SlackKind:
    name = "slack"
    title = "Slack"
    config = SlackConfig
    secrets: ClassVar[Mapping[str, str]] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
    }
    file_secrets: ClassVar[Mapping[str, str]] = {
        "bot_token": BOT_TOKEN,
        "app_token": APP_TOKEN,
        "signing_secret": SIGNING_SECRET,
    }
    notify_fields: ClassVar[Mapping[str, Any]] = {}
    limits = SLACK_LIMITS

    def paced(self, notify: NotifyBase) -> Limits:
        return paced_limits(SLACK_LIMITS, notify)

    def enabled(self, section: BaseModel, secrets: Secrets) -> bool:
        return _section(section).enabled and secrets.get("slack_bot_token") is not None

    def problems(self, section: BaseModel, secrets: Secrets) -> list[str]:
        sl, out = _section(section), []
        if not sl.enabled:
            return []
        if secrets.get("slack_bot_token") is None:
            out.append(f"slack.enabled = true: requires {BOT_TOKEN} {_WHERE}")
        if sl.socket_mode and secrets.get("slack_app_token") is None:
            out.append(f"slack.socket_mode = true: requires {APP_TOKEN} {_WHERE}")
        if not sl.socket_mode and secrets.get("slack_signing_secret") is None:
            out.append(f"slack.socket_mode = false: requires {SIGNING_SECRET} {_WHERE}")
        return out

    def policy(self, section: BaseModel) -> Policy:
        sl = _section(section)
        return role_policy(sl.allowed_channel_ids, sl)

    def targets(self, section: BaseModel) -> Sequence[str]:
        sl = _section(section)
        return list(sl.notify_channel_ids or sl.allowed_channel_ids)

    def credentials(self, section: BaseModel, secrets: Secrets) -> list[Credential]:
        if not self.enabled(section, secrets):
            return []
        api = _section(section).api_url
        bot = secret(secrets, "slack_bot_token")
        found = [Credential(self.name, BOT_TOKEN, api, lambda: _call(bot, api, "auth"))]
        app = secret(secrets, "slack_app_token")
        if _section(section).socket_mode and app:
            probe = Credential(
                self.name, APP_TOKEN, api, lambda: _call(app, api, "apps.connections.open")
            )
            found.append(probe)
        return found

    def build(self, section: BaseModel, secrets: Secrets, context: BuildContext) -> Transport:
        from bot.slack.transport import SlackTransport  # slack-bolt: only when it runs

        sl = _section(section)
        return SlackTransport(
            bot_token=secret(secrets, "slack_bot_token"),
            app_token=secret(secrets, "slack_app_token"),
            signing_secret=secret(secrets, "slack_signing_secret"),
            dispatcher=context.dispatcher,
            pacer=context.pacer,
            api_url=sl.api_url,
            socket_mode=sl.socket_mode,
            command=sl.command,
            listen=sl.http_listen,
            port=sl.http_port,
            on_refused=context.on_refused,
        )


async def _call(token: str, api_url: str, method: str) -> None:
    from bot.slack.probe import slack_call

    await slack_call(token, api_url, method)


SLACK = SlackKind()
