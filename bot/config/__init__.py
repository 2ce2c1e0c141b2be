"""Configuration: one TOML file, ``UPBIT_BOT_<SECTION>__<KEY>`` overrides, secrets from env.

``load_config`` builds a frozen, validated ``AppConfig``; every problem becomes one line of a
``ConfigError`` naming the key, the bad value and what is allowed.

The names below are loaded on first use (PEP 562): the root config reads the transports'
registry, whose kinds define their sections with ``bot.config.fields`` and
``bot.config.sections``; importing those must not load the root first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config.errors import ConfigError
    from bot.config.loader import apply_overrides, load_config
    from bot.config.render import redacted_dump, render_example, render_settings_doc
    from bot.config.risk import HaltWindow, RiskConfig
    from bot.config.root import SECRET_ENV, AppConfig, NotifyConfig, Secrets
    from bot.config.sections import (
        BotConfig,
        HttpConfig,
        PaperConfig,
        ReportConfig,
        RetentionConfig,
        StoreConfig,
        StrategyConfig,
        UpbitConfig,
    )

_HOMES = {
    "ConfigError": "errors",
    "apply_overrides": "loader",
    "load_config": "loader",
    "redacted_dump": "render",
    "render_example": "render",
    "render_settings_doc": "render",
    "HaltWindow": "risk",
    "RiskConfig": "risk",
    "SECRET_ENV": "root",
    "AppConfig": "root",
    "NotifyConfig": "root",
    "Secrets": "root",
    "BotConfig": "sections",
    "HttpConfig": "sections",
    "PaperConfig": "sections",
    "ReportConfig": "sections",
    "RetentionConfig": "sections",
    "StoreConfig": "sections",
    "StrategyConfig": "sections",
    "UpbitConfig": "sections",
}

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
    "StoreConfig",
    "StrategyConfig",
    "UpbitConfig",
    "apply_overrides",
    "load_config",
    "redacted_dump",
    "render_example",
    "render_settings_doc",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.config' has no attribute {name!r}")
    return getattr(import_module(f"bot.config.{home}"), name)
