"""The root ``AppConfig``, the ``Secrets`` it carries and the checks that span sections.

The core sections are declared here; each transport kind of the registry
(``bot.transports.wiring``) adds its own section (``[<name>]``), its secrets and its
``[notify]`` keys, so the models are completed with ``pydantic.create_model``: the TOML shape,
the environment overrides and the error messages are those of a declared field. To the type
checker the three models are their core bases; a transport reads its own section with
``section_of``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    create_model,
    field_validator,
    model_validator,
)

from bot.config.research import ResearchConfig
from bot.config.risk import RiskConfig
from bot.config.sections import (
    BotConfig,
    HttpConfig,
    Levels,
    NotifyBase,
    PaperConfig,
    ReportConfig,
    RetentionConfig,
    StoreConfig,
    StrategyConfig,
    UpbitConfig,
    cross_error,
)
from bot.transports.base import TransportKind
from bot.transports.wiring import TRANSPORTS

_CORE_SECRETS = {
    "upbit_access_key": "UPBIT_ACCESS_KEY",
    "upbit_secret_key": "UPBIT_SECRET_KEY",
    "api_token": "UPBIT_BOT_API_TOKEN",
}
#: Secrets field -> the only environment variable it is read from (the transports' after
#: Upbit's keys and the API token).
SECRET_ENV: dict[str, str] = {
    **_CORE_SECRETS,
    **{field: env for kind in TRANSPORTS for field, env in kind.secrets.items()},
}


class SecretsBase(BaseModel):
    """Credentials, only ever from the environment or .env; SecretStr keeps them out of logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upbit_access_key: SecretStr | None = None
    upbit_secret_key: SecretStr | None = None
    api_token: SecretStr | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # a stray newline from a .env editor must not become part of a signature key
        if isinstance(value, str):
            return value.strip() or None
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecretsBase:
        return cls.model_validate({field: env.get(name) for field, name in SECRET_ENV.items()})

    def of(self, kind: TransportKind) -> dict[str, SecretStr | None]:
        """The secrets of one transport kind, by field."""
        return {field: getattr(self, field) for field in kind.secrets}


def _transport_levels(kind: TransportKind) -> Any:
    return Field(
        default_factory=dict,
        description=f"per event kind for {kind.title} only (over notify.events)",
    )


if TYPE_CHECKING:
    Secrets = SecretsBase
    NotifyConfig = NotifyBase
else:
    Secrets = create_model(
        "Secrets",
        __base__=SecretsBase,
        **{field: (SecretStr | None, None) for kind in TRANSPORTS for field in kind.secrets},
    )
    NotifyConfig = create_model(
        "NotifyConfig",
        __base__=NotifyBase,
        __doc__=NotifyBase.__doc__,
        **{kind.name: (Levels, _transport_levels(kind)) for kind in TRANSPORTS},
        **{key: spec for kind in TRANSPORTS for key, spec in kind.notify_fields.items()},
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CoreConfig(BaseModel):
    """The whole effective configuration; build it with ``bot.config.load_config``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bot: BotConfig = Field(default_factory=BotConfig)
    upbit: UpbitConfig = Field(default_factory=UpbitConfig)
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

    def section_of(self, kind: TransportKind) -> BaseModel:
        """A transport kind's own section (``[<name>]``)."""
        section: BaseModel = getattr(self, kind.name)
        return section

    @model_validator(mode="after")
    def _cross_section(self) -> CoreConfig:
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
        for kind in TRANSPORTS:
            out += kind.problems(self.section_of(kind), s.of(kind))
        if self.http.enabled and not _is_loopback(self.http.host) and s.api_token is None:
            out.append(
                f'http.host = "{self.http.host}": a non-loopback address requires'
                f" UPBIT_BOT_API_TOKEN {where} (the JSON API must not be open)"
            )
        if self.http.enabled and self.http.metrics_auth and s.api_token is None:
            out.append(f"http.metrics_auth = true: requires UPBIT_BOT_API_TOKEN {where}")
        return out


def _section_field(kind: TransportKind) -> Any:
    return (kind.config, Field(default_factory=kind.config))


if TYPE_CHECKING:
    AppConfig = CoreConfig
else:
    AppConfig = create_model(
        "AppConfig",
        __base__=CoreConfig,
        __doc__=CoreConfig.__doc__,
        **{kind.name: _section_field(kind) for kind in TRANSPORTS},
    )
