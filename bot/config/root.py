"""The root ``AppConfig``, the ``Secrets`` it carries and the checks that span sections."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from bot.config.research import ResearchConfig
from bot.config.risk import RiskConfig
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
    cross_error,
)

#: Secrets field -> the only environment variable it is read from.
SECRET_ENV: dict[str, str] = {
    "upbit_access_key": "UPBIT_ACCESS_KEY",
    "upbit_secret_key": "UPBIT_SECRET_KEY",
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "api_token": "UPBIT_BOT_API_TOKEN",
}


class Secrets(BaseModel):
    """Credentials, only ever from the environment or .env; SecretStr keeps them out of logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upbit_access_key: SecretStr | None = None
    upbit_secret_key: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    api_token: SecretStr | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # a stray newline from a .env editor must not become part of a signature key
        if isinstance(value, str):
            return value.strip() or None
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        return cls.model_validate({field: env.get(name) for field, name in SECRET_ENV.items()})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AppConfig(BaseModel):
    """The whole effective configuration; build it with ``bot.config.load_config``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bot: BotConfig = Field(default_factory=BotConfig)
    upbit: UpbitConfig = Field(default_factory=UpbitConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    paper: PaperConfig = Field(default_factory=PaperConfig)
    research: ResearchConfig = Field(default_factory=ResearchConfig)
    secrets: Secrets = Field(default_factory=Secrets)

    @model_validator(mode="after")
    def _cross_section(self) -> AppConfig:
        problems = self._problems()
        if problems:
            raise cross_error("\n".join(problems))
        return self

    def _problems(self) -> list[str]:
        s = self.secrets

        def need(names: list[tuple[str, SecretStr | None]]) -> str:
            missing = [env for env, value in names if value is None]
            return " and ".join(missing) if missing else ""

        out: list[str] = []
        where = "in the environment or .env"
        if self.bot.mode == "live":
            miss = need(
                [
                    ("UPBIT_ACCESS_KEY", s.upbit_access_key),
                    ("UPBIT_SECRET_KEY", s.upbit_secret_key),
                ]
            )
            if miss:
                out.append(f'bot.mode = "live": requires {miss} {where}')
            if self.bot.feed != "upbit":
                out.append(
                    f'bot.mode = "live": requires bot.feed = "upbit" (not "{self.bot.feed}")'
                )
        if self.bot.top_n is not None and self.bot.feed != "upbit":
            out.append(
                f'bot.markets = "{self.bot.markets[0]}": needs bot.feed = "upbit" (Upbit\'s'
                " 24-hour traded values choose the markets); a replay trades the markets of its"
                " file: list them instead"
            )
        if self.telegram.enabled and s.telegram_bot_token is None:
            out.append(f"telegram.enabled = true: requires TELEGRAM_BOT_TOKEN {where}")
        if self.slack.enabled:
            if s.slack_bot_token is None:
                out.append(f"slack.enabled = true: requires SLACK_BOT_TOKEN {where}")
            if self.slack.socket_mode and s.slack_app_token is None:
                out.append(f"slack.socket_mode = true: requires SLACK_APP_TOKEN {where}")
            if not self.slack.socket_mode and s.slack_signing_secret is None:
                out.append(f"slack.socket_mode = false: requires SLACK_SIGNING_SECRET {where}")
        if self.http.enabled and not _is_loopback(self.http.host) and s.api_token is None:
            out.append(
                f'http.host = "{self.http.host}": a non-loopback address requires'
                f" UPBIT_BOT_API_TOKEN {where} (the JSON API must not be open)"
            )
        if self.http.enabled and self.http.metrics_auth and s.api_token is None:
            out.append(f"http.metrics_auth = true: requires UPBIT_BOT_API_TOKEN {where}")
        return out
