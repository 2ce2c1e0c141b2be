"""Telegram as a transport kind: its ``[telegram]`` section, its limits, its secrets and how
it is built. python-telegram-bot is imported only by ``build`` (through ``transport``), so
reading the config never loads it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from bot.chat_kind import paced_limits, role_policy, section_of
from bot.config import fields as f
from bot.config.sections import NotifyBase, Section, cross_error
from bot.notify.pacing import Limits
from bot.transports.base import BuildContext, Credential, Secrets, Transport, secret
from handlers.auth import Policy
from handlers.registry import Role

#: Telegram's published pace: one message a second in a chat, 20 a minute in a group, about
#: 30 a second across all chats of one bot.
TELEGRAM_LIMITS = Limits(1.0, 20, 60.0, 30, 1.0)
TOKEN = "TELEGRAM_BOT_TOKEN"


class TelegramConfig(Section):
    """Telegram transport; the token is TELEGRAM_BOT_TOKEN (environment or .env only)."""

    enabled: bool = Field(False, description="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    mode: Literal["polling", "webhook"] = Field("polling", description="polling or webhook")
    webhook_url: str = Field("", description='public https URL for mode = "webhook"')
    webhook_listen: str = Field(
        "127.0.0.1", min_length=1, description="webhook mode: address to listen on"
    )
    webhook_port: int = Field(8443, ge=1, le=65535, description="webhook mode: port to listen on")
    base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base (token appended)"
    )
    allowed_chat_ids: tuple[int, ...] = Field((), description="chats that may talk to the bot")
    notify_chat_ids: tuple[int, ...] = Field(
        (), description="chats that receive alerts and reports; empty = allowed_chat_ids"
    )
    admin_ids: tuple[int, ...] = Field((), description="user ids with every command")
    operator_ids: tuple[int, ...] = Field((), description="user ids that may trade and pause")
    viewer_ids: tuple[int, ...] = Field((), description="user ids with read-only commands")

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return f.check_url(value, f.HTTP_SCHEMES)

    @field_validator("webhook_url")
    @classmethod
    def _hook(cls, value: str) -> str:
        return value and f.check_url(value, f.HTTP_SCHEMES)

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url:
            raise cross_error('telegram.mode = "webhook": requires telegram.webhook_url')
        return self


def _section(section: BaseModel) -> TelegramConfig:
    return section_of(section, TelegramConfig)


def file_url(base_url: str) -> str | None:
    """The Bot API's file base for ``base_url`` (``.../bot`` -> ``.../file/bot``), so a local
    Bot API server or a fake serves files too; None (PTB's default) for other shapes."""
    stripped = base_url.rstrip("/")
    return stripped.removesuffix("/bot") + "/file/bot" if stripped.endswith("/bot") else None


class TelegramKind:
    name = "telegram"
    title = "Telegram"
    config = TelegramConfig
    secrets: ClassVar[Mapping[str, str]] = {"telegram_bot_token": TOKEN}
    file_secrets: ClassVar[Mapping[str, str]] = {"bot_token": TOKEN, "token": TOKEN}
    notify_fields: ClassVar[Mapping[str, Any]] = {
        "telegram_per_s": (
            int,
            Field(30, ge=1, le=30, description="Telegram messages per second across all chats"),
        )
    }
    limits = TELEGRAM_LIMITS

    def paced(self, notify: NotifyBase) -> Limits:
        return paced_limits(
            TELEGRAM_LIMITS, notify, global_max=notify.transport_key("telegram_per_s")
        )

    def enabled(self, section: BaseModel, secrets: Secrets) -> bool:
        return _section(section).enabled and secrets.get("telegram_bot_token") is not None

    def problems(self, section: BaseModel, secrets: Secrets) -> list[str]:
        if _section(section).enabled and secrets.get("telegram_bot_token") is None:
            return [f"telegram.enabled = true: requires {TOKEN} in the environment or .env"]
        return []

    def policy(self, section: BaseModel) -> Policy:
        tg = _section(section)
        return role_policy(tg.allowed_chat_ids, tg)

    def targets(self, section: BaseModel) -> Sequence[str]:
        tg = _section(section)
        return [str(c) for c in (tg.notify_chat_ids or tg.allowed_chat_ids)]

    def credentials(self, section: BaseModel, secrets: Secrets) -> list[Credential]:
        if not self.enabled(section, secrets):
            return []
        token, url = secret(secrets, "telegram_bot_token"), _section(section).base_url
        return [Credential(self.name, TOKEN, url, lambda: _get_me(token, url))]

    def build(self, section: BaseModel, secrets: Secrets, context: BuildContext) -> Transport:
        from bot.telegram.transport import TelegramTransport  # PTB: only when it runs

        tg = _section(section)
        members = [
            (chat, user, role)
            for chat in tg.allowed_chat_ids
            for role, users in ((Role.ADMIN, tg.admin_ids), (Role.OPERATOR, tg.operator_ids))
            for user in users
        ]
        return TelegramTransport(
            token=secret(secrets, "telegram_bot_token"),
            dispatcher=context.dispatcher,
            pacer=context.pacer,
            base_url=tg.base_url,
            base_file_url=file_url(tg.base_url),
            mode=tg.mode,
            webhook_url=tg.webhook_url,
            listen=tg.webhook_listen,
            port=tg.webhook_port,
            member_roles=members,
            on_refused=context.on_refused,
        )


async def _get_me(token: str, url: str) -> None:
    from bot.telegram.probe import telegram_get_me

    await telegram_get_me(token, url)


TELEGRAM = TelegramKind()
