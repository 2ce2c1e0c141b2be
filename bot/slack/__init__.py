"""Slack: slack-bolt's AsyncApp in the bot's own event loop (Socket Mode or HTTP)."""

from bot.slack.transport import SlackTransport

__all__ = ["SlackTransport"]
