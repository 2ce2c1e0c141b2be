"""``ConfigError`` and the translation of pydantic errors into one human line per problem.

Each line names the dotted key, the offending value, where it came from (when an environment
variable) and what is allowed, so a user fixes the file without reading pydantic's jargon.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic_core.core_schema import ErrorType

from bot.config.fields import format_clock, mask_url_password
from bot.config.root import AppConfig
from bot.config.sections import BOUND_NOTES

#: pydantic's own error types; any other is a ``PydanticCustomError`` a model raised
_PYDANTIC_KINDS = frozenset(typing.get_args(ErrorType))

Loc = tuple[str | int, ...]

_KINDS = {
    "must be an integer": ("int_type", "int_parsing", "int_from_float", "int_parsing_size"),
    "must be a number": (
        "float_type",
        "float_parsing",
        "decimal_type",
        "decimal_parsing",
        "finite_number",
        "decimal_max_digits",
        "decimal_max_places",
    ),
    "must be true or false": ("bool_type", "bool_parsing"),
    "must be a string": ("string_type", "string_unicode"),
    "must be a list": ("list_type", "tuple_type", "iterable_type"),
    "must be a table": ("dict_type", "model_type", "model_attributes_type", "mapping_type"),
    "must be a time": ("time_type", "time_parsing", "datetime_type", "datetime_parsing"),
}
_KIND_OF = {t: text for text, types in _KINDS.items() for t in types}
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


class ConfigError(Exception):
    """Invalid configuration; ``str()`` is one human-readable line per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__("\n".join(self.errors))


def render_value(value: object) -> str:
    """A value as TOML-ish text, so messages and dumps read like the file the user wrote."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if '"' in value and "'" not in value and "\n" not in value:
            return f"'{value}'"  # a TOML literal string reads better than escaped JSON
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return json.dumps(value.isoformat())
    if isinstance(value, time):
        return json.dumps(format_clock(value))
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {render_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _key(key: object) -> str:
    text = str(key)
    if text and all(c.isalnum() or c in "_-" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def allowed_keys(loc: Loc) -> list[str]:
    """Field names of the model found at ``loc`` (walking lists and nested models)."""
    model: type[BaseModel] | None = AppConfig
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    if model is None:
        return []
    names = list(model.model_fields)
    return [n for n in names if n != "secrets"] if model is AppConfig else names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def explain(err: ErrorDetails, path: str) -> str:
    """What is allowed, in words, for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx", {})
    if kind in _KIND_OF:
        return _KIND_OF[kind]
    if kind in _BOUNDS:
        op, name = _BOUNDS[kind]
        note = BOUND_NOTES.get(path)
        limit = ctx[name]
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {op} {limit}" + (f" ({note})" if note else "")
    if kind == "literal_error":
        return "must be " + str(ctx["expected"]).replace("'", '"')
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} items"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx['pattern']}"
    if kind not in _PYDANTIC_KINDS:  # a model's own coded rule: its sentence as written
        return str(err["msg"])
    return str(err["msg"]).lower()


def format_errors(exc: ValidationError, origins: Mapping[Loc, str]) -> list[str]:
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        if err["type"] == "config_cross":
            lines.extend(str(err["msg"]).splitlines())
            continue
        loc: Loc = tuple(err["loc"])
        path = dotted(loc)
        if str(err["type"]).startswith("rule_"):  # a settings rule: its message names the key
            lines.append(f"{path}.{err['msg']}")
            continue
        origin = next(
            (f" ({origins[loc[:n]]})" for n in range(len(loc), 0, -1) if loc[:n] in origins), ""
        )
        if err["type"] == "extra_forbidden":
            what = "unknown section" if len(loc) == 1 else "unknown key"
            allowed = ", ".join(allowed_keys(loc[:-1]))
            lines.append(f"{path}{origin}: {what} (allowed: {allowed})")
            continue
        value = err.get("input")
        shown = ""
        if loc[:1] != ("secrets",) and not isinstance(value, Mapping):
            if path == "store.url" and isinstance(value, str):
                value = mask_url_password(value)
            shown = f" = {render_value(value)}"
        lines.append(f"{path}{shown}{origin}: {explain(err, path)}")
    return lines
