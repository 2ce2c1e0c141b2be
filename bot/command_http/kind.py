"""The HTTP command API as a transport kind: its ``[command_api]`` section and its tokens.

It answers on the bot's HTTP server (``[http]``) and only answers: no pushes, no pace, no chat
allow-lists (a token names its principal and role itself), nothing to ask a platform at start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from bot.command_http.tokens import VARIABLE, parse_tokens
from bot.config.sections import NotifyBase, Section
from bot.notify.pacing import CONSOLE_LIMITS, Limits
from bot.transports.base import BuildContext, Credential, Secrets, Transport, secret
from handlers.auth import Policy

NO_PACE = CONSOLE_LIMITS  # replies are HTTP responses: no platform pace


class CommandApiConfig(Section):
    """HTTP command API under /api/v1 (on the [http] server); tokens: UPBIT_BOT_COMMAND_TOKENS."""

    enabled: bool = Field(
        False,
        description="take commands over HTTP (needs UPBIT_BOT_COMMAND_TOKENS and [http] on)",
    )


def _section(section: BaseModel) -> CommandApiConfig:
    if not isinstance(section, CommandApiConfig):
        raise TypeError(f"expected a CommandApiConfig, got {type(section).__name__}")
    return section


class CommandApiKind:
    name = "command_api"
    title = "HTTP command API"
    config = CommandApiConfig
    secrets: ClassVar[Mapping[str, str]] = {"command_tokens": VARIABLE}
    file_secrets: ClassVar[Mapping[str, str]] = {"tokens": VARIABLE}
    notify_fields: ClassVar[Mapping[str, Any]] = {}
    limits = NO_PACE

    def paced(self, notify: NotifyBase) -> Limits:
        return NO_PACE

    def enabled(self, section: BaseModel, secrets: Secrets) -> bool:
        return _section(section).enabled and secrets.get("command_tokens") is not None

    def problems(self, section: BaseModel, secrets: Secrets) -> list[str]:
        if not _section(section).enabled:
            return []
        if secrets.get("command_tokens") is None:
            return [f"command_api.enabled = true: requires {VARIABLE} in the environment or .env"]
        return parse_tokens(secret(secrets, "command_tokens"))[1]

    def policy(self, section: BaseModel) -> Policy:
        return Policy.of()  # nobody by chat id: each request's token names its role

    def targets(self, section: BaseModel) -> Sequence[str]:
        return []

    def credentials(self, section: BaseModel, secrets: Secrets) -> list[Credential]:
        return []

    def build(self, section: BaseModel, secrets: Secrets, context: BuildContext) -> Transport:
        from bot.command_http.transport import CommandHttpTransport

        tokens, _ = parse_tokens(secret(secrets, "command_tokens"))
        return CommandHttpTransport(self.name, tokens, context.dispatcher, context.http)


COMMAND_API = CommandApiKind()
