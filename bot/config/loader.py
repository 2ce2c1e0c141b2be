"""Build the effective ``AppConfig``: defaults < TOML file < .env < environment.

Pure: the caller passes the environment (tests pass a dict). Every problem is collected and
raised once as ``ConfigError`` so a user fixes the whole file in one go.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.config.errors import ConfigError, Loc, allowed_keys, format_errors, render_value
from bot.config.root import SECRET_ENV, AppConfig, Secrets
from bot.transports.wiring import TRANSPORTS

PREFIX = "UPBIT_BOT_"
#: Names under the prefix that are not section overrides.
#: variables with the override prefix that are not overrides: the secrets (a transport's may
#: carry the prefix, e.g. UPBIT_BOT_COMMAND_TOKENS) and where the config comes from
RESERVED_ENV = frozenset({"UPBIT_BOT_CONFIG", "UPBIT_BOT_ENV_FILE", *SECRET_ENV.values()})
#: Keys someone may be tempted to put in the TOML, and the variable to use instead.
SECRET_KEYS: dict[tuple[str, str], str] = {
    ("upbit", "access_key"): "UPBIT_ACCESS_KEY",
    ("upbit", "secret_key"): "UPBIT_SECRET_KEY",
    **{(kind.name, key): env for kind in TRANSPORTS for key, env in kind.file_secrets.items()},
    ("http", "api_token"): "UPBIT_BOT_API_TOKEN",
}
_TOML_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$", re.DOTALL)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALL_SECRETS = ", ".join(SECRET_ENV.values())


def load_config(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = None,
) -> AppConfig:
    """Read ``path`` (None = built-in defaults), then ``dotenv`` (None = ``./.env`` if present),
    then ``environ`` (None = ``os.environ``); raise ``ConfigError`` listing every problem."""
    env = os.environ if environ is None else environ
    errors: list[str] = []
    data = read_toml(path) if path is not None else {}
    dot = read_dotenv(dotenv, errors)
    errors.extend(_pop_toml_secrets(data))
    overrides: dict[str, tuple[str, str]] = {}
    dot_label = f"in {dotenv if dotenv is not None else '.env'}"
    for name, value in dot.items():
        if name.startswith(PREFIX) and name not in RESERVED_ENV:
            overrides[name] = (value, f"from {name} {dot_label}")
    for name, value in env.items():
        if name.startswith(PREFIX) and name not in RESERVED_ENV:
            overrides[name] = (value, f"from {name}")
    origins: dict[Loc, str] = {}
    for name in sorted(overrides):
        value, label = overrides[name]
        errors.extend(_apply_env(data, name, value, label, origins))
    data["secrets"] = Secrets.from_env({**dot, **env})
    return _validate(data, origins, errors)


def apply_overrides(cfg: AppConfig, changes: Mapping[str, object]) -> AppConfig:
    """A new config with dotted keys changed (live ``/set``); validated exactly like a file.

    String values are read like environment overrides (``"50000"``, ``'["KRW-BTC"]'``).
    """
    data: dict[str, Any] = cfg.model_dump(exclude={"secrets"})
    errors: list[str] = []
    for dotted_key, value in changes.items():
        parts = dotted_key.split(".")
        err = _set(data, parts, value, None, {})
        if err:
            errors.append(err)
    data["secrets"] = cfg.secrets
    return _validate(data, {}, errors)


def _validate(data: dict[str, Any], origins: Mapping[Loc, str], errors: list[str]) -> AppConfig:
    try:
        cfg = AppConfig.model_validate(data)
    except ValidationError as exc:
        errors.extend(format_errors(exc, origins))
    if errors:
        raise ConfigError(errors)
    return cfg


def read_toml(path: Path) -> dict[str, Any]:
    """Parse the file with floats as Decimal, so ``0.1`` KRW stays exactly 0.1."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config file ({exc.strerror})"]) from None
    try:
        return tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: invalid TOML: the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        match = _TOML_POS.match(text)
        if match:
            msg, line, col = match.groups()
            where = f"at line {line}, column {col}"
        else:
            msg, where = text.replace(" (at end of document)", ""), "at end of document"
        raise ConfigError([f"{path}: invalid TOML {where}: {msg}"]) from None


def read_dotenv(path: Path | None, errors: list[str]) -> dict[str, str]:
    """``NAME=value`` lines (``export``, quotes and ``#`` comments allowed); a missing default
    ``.env`` is fine, a missing explicit one is an error. Lines are never echoed: secrets."""
    target = path if path is not None else Path(".env")
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is not None:
            errors.append(f"{path}: .env file not found")
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{target}: cannot read .env file ({exc})")
        return {}
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").lstrip()
        name, sep, value = stripped.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _ENV_NAME.match(name):
            errors.append(f"{target}: line {number}: expected NAME=value")
            continue
        if value[:1] in ('"', "'"):
            end = value.find(value[0], 1)
            if end < 0:
                errors.append(f"{target}: line {number}: unterminated quote in {name}")
                continue
            value = value[1:end]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[name] = value
    return out


def _pop_toml_secrets(data: dict[str, Any]) -> list[str]:
    errors = []
    if "secrets" in data:
        del data["secrets"]
        errors.append(
            f"secrets: secrets are never read from the config file; set {_ALL_SECRETS}"
            " in the environment or .env"
        )
    for (section, key), env_name in SECRET_KEYS.items():
        table = data.get(section)
        if isinstance(table, dict) and key in table:
            del table[key]
            errors.append(
                f"{section}.{key}: secrets are never read from the config file;"
                f" set the environment variable {env_name} (or put it in .env)"
            )
    return errors


def _apply_env(
    data: dict[str, Any], name: str, value: str, label: str, origins: dict[Loc, str]
) -> list[str]:
    parts = name[len(PREFIX) :].lower().split("__")
    if len(parts) < 2 or not all(parts):
        return [
            f"{name}: not a config override; use UPBIT_BOT_<SECTION>__<KEY>"
            " (e.g. UPBIT_BOT_RISK__POSITION_SIZE_KRW)"
        ]
    if parts[0] == "secrets" or (parts[0], parts[1]) in SECRET_KEYS:
        wanted = SECRET_KEYS.get((parts[0], parts[1]), _ALL_SECRETS)
        return [f"{name}: secrets are read under their own names; set {wanted} instead"]
    err = _set(data, parts, value, label, origins)
    return [err] if err else []


def _set(
    data: dict[str, Any],
    parts: list[str],
    value: object,
    label: str | None,
    origins: dict[Loc, str],
) -> str | None:
    """Put one override into the raw data; return an error line if it cannot go there."""
    suffix = f" ({label})" if label else ""
    section, key, sub = parts[0], parts[1] if len(parts) > 1 else "", parts[2:]
    model = _section_model(section)
    if model is None:
        allowed = ", ".join(allowed_keys(()))
        return f"{section}{suffix}: unknown section (allowed: {allowed})"
    field = model.model_fields.get(key)
    if field is None:
        allowed = ", ".join(model.model_fields)
        return f"{section}.{key}{suffix}: unknown key (allowed: {allowed})"
    table = data.setdefault(section, {})
    if not isinstance(table, dict):
        return None  # the file's own error ("must be a table") is reported by validation
    shown = f"{section}.{key}" + "".join(f".{s}" for s in sub)
    if sub:
        if typing.get_origin(field.annotation) is not dict or len(sub) != 1:
            return f"{shown}{suffix}: {section}.{key} has no sub-keys"
        params = table.get(key)
        table[key] = params = dict(params) if isinstance(params, dict) else {}
        params[sub[0]] = _scalar(value) if isinstance(value, str) else value
        if label:
            origins[(section, key, sub[0])] = label
        return None
    if isinstance(value, str):
        try:
            value = _coerce(value, field.annotation)
        except ValueError as exc:
            return f"{shown} = {render_value(value)}{suffix}: {exc}"
    table[key] = value
    if label:
        origins[(section, key)] = label
    return None


def _section_model(section: str) -> type[BaseModel] | None:
    field = AppConfig.model_fields.get(section)
    if field is None or section == "secrets":
        return None
    annotation = field.annotation
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _coerce(raw: str, annotation: Any) -> object:
    """Text -> raw value: JSON (or comma-separated) for lists, JSON for tables, else the text
    itself, which pydantic then converts like any other input."""
    origin = typing.get_origin(annotation)
    if origin not in (list, tuple, dict):
        return raw
    text = raw.strip()
    if origin is not dict and not text.startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        parsed = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        kind = "table" if origin is dict else "list"
        raise ValueError(f"must be a JSON {kind} (invalid JSON at column {exc.colno})") from None
    return parsed


def _scalar(raw: str) -> object:
    try:
        parsed = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError:
        return raw
    return parsed if isinstance(parsed, bool | int | Decimal | str) else raw
