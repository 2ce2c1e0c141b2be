"""Configuration: one TOML file, ``UPBIT_BOT_<SECTION>__<KEY>`` overrides, secrets from env.

``load_config`` builds a frozen, validated ``AppConfig``; every problem becomes one line of a
``ConfigError`` naming the key, the bad value and what is allowed.
"""

from bot.config.errors import ConfigError
from bot.config.loader import apply_overrides, load_config
from bot.config.render import redacted_dump, render_example, render_settings_doc
from bot.config.risk import HaltWindow, RiskConfig
from bot.config.root import SECRET_ENV, AppConfig, Secrets
from bot.config.sections import (
    BotConfig,
    HttpConfig,
    NotifyConfig,
    PaperConfig,
    ReportConfig,
    RetentionConfig,
    SlackConfig,
    StoreConfig,
    StrategyConfig,
    TelegramConfig,
    UpbitConfig,
)

__all__ = [
    "SECRET_ENV",
    "AppConfig",
    "BotConfig",
    "ConfigError",
    "HaltWindow",
    "HttpConfig",
    "NotifyConfig",
    "PaperConfig",
    "ReportConfig",
    "RetentionConfig",
    "RiskConfig",
    "Secrets",
    "SlackConfig",
    "StoreConfig",
    "StrategyConfig",
    "TelegramConfig",
    "UpbitConfig",
    "apply_overrides",
    "load_config",
    "redacted_dump",
    "render_example",
    "render_settings_doc",
]
