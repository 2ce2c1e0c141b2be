"""Telegram: python-telegram-bot v22 run inside the bot's own event loop (``transport``);
``kind`` is what the registry reads."""
