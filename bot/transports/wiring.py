"""The registry: every transport kind the bot can run, in the order they start. The one
module that names the concrete transports (an import-linter contract keeps it so); adding a
transport is one line here."""

from __future__ import annotations

from bot.command_http.kind import COMMAND_API
from bot.slack.kind import SLACK
from bot.telegram.kind import TELEGRAM
from bot.transports.base import TransportKind

TRANSPORTS: tuple[TransportKind, ...] = (TELEGRAM, SLACK, COMMAND_API)
