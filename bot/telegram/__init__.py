"""Telegram: python-telegram-bot v22 run inside the bot's own event loop."""

from bot.telegram.transport import TelegramTransport

__all__ = ["TelegramTransport"]
