"""The config as TOML text: the redacted dump of ``check-config`` and ``config.example.toml``.

Both come from the models, so the example file and the dump cannot disagree with the code.
"""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config.errors import render_value
from bot.config.fields import mask_url_password
from bot.config.root import SECRET_ENV, AppConfig
from bot.transports.wiring import TRANSPORTS

_SECTION_SECRETS = {
    "upbit": ("UPBIT_ACCESS_KEY", "UPBIT_SECRET_KEY"),
    **{kind.name: tuple(kind.secrets.values()) for kind in TRANSPORTS},
    "http": ("UPBIT_BOT_API_TOKEN",),
}
_HALT_EXAMPLE = (
    "# halt_windows = [",
    '#   { name = "maintenance", start = "03:50", end = "04:10" },',
    '#   { name = "weekend-night", start = "23:00", end = "01:00", days = ["fri", "sat"] },',
    '#   { name = "fomc", start = "2025-06-19T02:30", end = "2025-06-19T04:00" },',
    "# ]",
)


def _sections(cfg: AppConfig) -> list[tuple[str, BaseModel]]:
    return [(name, getattr(cfg, name)) for name in AppConfig.model_fields if name != "secrets"]


def _value(section: str, key: str, value: object) -> str:
    if section == "store" and key == "url" and isinstance(value, str):
        value = mask_url_password(value)
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        value = [item.model_dump(exclude_defaults=True) for item in value]
    return render_value(value)


def _line(section: str, key: str, value: object) -> str:
    """``key = value``; an unset optional key (TOML has no null) is a comment."""
    if value is None:
        return f"# {key} =  (not set)"
    return f"{key} = {_value(section, key, value)}"


def _bounds(info: FieldInfo) -> str:
    parts = [
        f"{op} {getattr(meta, attr)}"
        for meta in info.metadata
        for attr, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
        if getattr(meta, attr, None) is not None
    ]
    return f" ({', '.join(parts)})" if parts else ""


def redacted_dump(cfg: AppConfig) -> str:
    """The effective config as TOML; each secret is ``"***"`` if set, ``"(not set)"`` if not."""
    lines: list[str] = []
    for name, section in _sections(cfg):
        lines.append(f"[{name}]")
        for key in type(section).model_fields:
            lines.append(_line(name, key, getattr(section, key)))
        lines.append("")
    lines.append("[secrets]  # from the environment or .env only")
    for field, env_name in SECRET_ENV.items():
        state = "***" if getattr(cfg.secrets, field) is not None else "(not set)"
        lines.append(f'{env_name} = "{state}"')
    return "\n".join(lines) + "\n"


def render_example() -> str:
    """``config.example.toml``: every key with its default and a one-line comment."""
    cfg = AppConfig()
    lines = [
        "# upbit-bot configuration: every key with its default value.",
        "# Override any key with UPBIT_BOT_<SECTION>__<KEY>,",
        "# e.g. UPBIT_BOT_RISK__POSITION_SIZE_KRW=50000",
        '# (lists as JSON: UPBIT_BOT_BOT__MARKETS=\'["KRW-BTC","KRW-ETH"]\'). Precedence:',
        "# environment > .env > this file > defaults.",
        "#",
        "# Secrets are read ONLY from the environment or .env, never from this file:",
        *(f"#   {env_name}" for env_name in SECRET_ENV.values()),
        "",
    ]
    for name, section in _sections(cfg):
        doc = (type(section).__doc__ or "").strip().splitlines()[0]
        lines += [f"# {doc}", f"[{name}]"]
        for env_name in _SECTION_SECRETS.get(name, ()):
            lines.append(f"# secret: {env_name} (environment or .env only)")
        for key, info in type(section).model_fields.items():
            lines.append(f"# {info.description}{_bounds(info)}")
            if key == "halt_windows":
                lines += _HALT_EXAMPLE
            lines.append(_line(name, key, getattr(section, key)))
        lines.append("")
    return "\n".join(lines)


def render_settings_doc() -> str:
    """``docs/settings.md``: every setting ``/set`` knows, from the models themselves."""
    from trading.risk.settings import RiskSettings
    from trading.settings import SettingSpec, show, specs
    from trading.strategies import REGISTRY

    def rows(prefix: str, items: list[SettingSpec]) -> list[str]:
        out = ["| key | default | allowed | live | what |", "|---|---|---|---|---|"]
        for spec in items:
            if spec.kind == "other":
                continue
            default = "none" if spec.default is None else show(spec.default)
            live = "yes" if spec.live else "restart"
            allowed = ", ".join(spec.choices) if spec.choices else spec.range_text()
            allowed += " or none" if spec.optional else ""
            out.append(
                f"| `{prefix}.{spec.name}` | {default} | {allowed} | {live} | {spec.description} |"
            )
        return out

    lines = [
        "# Settings",
        "",
        "<!-- generated by bot.config.render.render_settings_doc; a test keeps it current -->",
        "",
        "Every setting has one definition (type, bounds, live or not) that the config file,",
        "`/set`, `/undo`, the restore of live changes on start, `check-config` and the JSON API",
        "(`GET /api/v1/settings`) all use, so none of them accepts what another refuses.",
        "",
        "- **live = yes**: `/set <key> <value>` changes it at once (operators, with a",
        "  confirmation); the change is stored and re-applied on every start, and `/undo`",
        "  reverts it. A refused value changes nothing; the reply names the key, the value and",
        "  the allowed range, in Korean or English.",
        "- **live = restart**: set it in `config.toml` (or the environment) and restart;",
        "  `/set` says so. `risk.manual_buy_max_krw` is one on purpose: raising it from chat",
        "  would defeat it.",
        "- A stored live change that no longer validates at start (bounds tightened by a new",
        "  release, a different strategy) is dropped with an alert in chat and the config value",
        "  applies; `check-config` lists the stored changes and how the next start will treat",
        "  them.",
        "",
        "## Risk (`[risk]`)",
        "",
        *rows("risk", specs(RiskSettings)),
        "",
        "Halt windows (`risk.halt_windows`) change live with `/schedule add|remove`.",
    ]
    for name, strategy in sorted(REGISTRY.items()):
        lines += [
            "",
            f"## Strategy `{name}` (`[strategy.params]`)",
            "",
            *rows("strategy", specs(strategy.Params)),
        ]
    return "\n".join(lines) + "\n"
