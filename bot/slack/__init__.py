"""Slack: slack-bolt's AsyncApp in the bot's own event loop, Socket Mode or HTTP
(``transport``); ``kind`` is what the registry reads."""
