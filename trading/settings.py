"""Settings: each knob is one pydantic field that says its type, bounds and whether it may
change while the bot runs; everything that reads or writes a setting asks the field.

The config file, ``/set``, ``/undo``, the restore of live changes on start, ``check-config``,
the JSON API and ``docs/settings.md`` all go through ``specs`` and ``change``, so none of them
can accept what another refuses (three drifted copies of the risk settings once let ``/set``
store ``max_slippage_bps 1000000``). A refusal is a ``SettingRefused`` carrying a catalog code
and its values, so chat can say it in the user's language.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

import annotated_types
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

from trading.refusal import Refused

M = TypeVar("M", bound=BaseModel)
Kind = Literal["int", "decimal", "float", "bool", "choice", "str", "table", "other"]
#: a value shown back to the user is cut here: ``1E+999999`` must not become a megabyte reply
SHOWN_CHARS = 40
_TYPE_ERRORS = frozenset(
    {
        "int_parsing",
        "int_from_float",
        "int_type",
        "decimal_parsing",
        "decimal_type",
        "float_parsing",
        "float_type",
        "finite_number",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
    }
)
_RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
_CHOICE_ERRORS = frozenset({"literal_error", "enum", "bool_parsing", "bool_type"})


def setting(default: Any, *, description: str, live: bool = True, **constraints: Any) -> Any:
    """A settings field; ``live`` False = read at start only (``/set`` says to restart)."""
    return Field(default, description=description, json_schema_extra={"live": live}, **constraints)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting as chat, the API, the optimizer and the docs see it."""

    name: str
    kind: Kind
    default: object
    low: Decimal | None
    high: Decimal | None
    live: bool
    description: str
    choices: tuple[str, ...] = ()
    optional: bool = False  # ``None`` is allowed (it means "derived", see the description)
    places: int | None = None  # a Decimal's most digits after the point (``decimal_places``)

    def range_text(self) -> str:
        """``5000..1000000000`` or ``refuse|limit``: the allowed values, in one short word."""
        if self.choices:
            return "|".join(self.choices)
        if self.kind == "table":
            return "minutes:pct,..."
        if self.low is None and self.high is None:
            return ""
        low = "" if self.low is None else show(self.low)
        high = "" if self.high is None else show(self.high)
        return f"{low}..{high}"


class SettingRefused(Refused):
    """A setting change was refused; ``code`` is the catalog entry ``refusal.<code>``."""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return annotation, False


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    if typing.get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if annotation is bool:
        return "bool", ("true", "false")
    if annotation is int:
        return "int", ()
    if annotation is Decimal:
        return "decimal", ()
    if annotation is float:
        return "float", ()
    if annotation is str:
        return "str", ()
    if typing.get_origin(annotation) is tuple:
        (row, *_) = typing.get_args(annotation)
        if typing.get_origin(row) is tuple:
            return "table", ()  # rows of numbers, ``0:3,60:1`` in chat (risk.minimal_roi)
    return "other", ()


def _bounds(info: FieldInfo) -> tuple[Decimal | None, Decimal | None]:
    low: Decimal | None = None
    high: Decimal | None = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = Decimal(str(item.ge))
        elif isinstance(item, annotated_types.Gt):
            low = Decimal(str(item.gt))
        elif isinstance(item, annotated_types.Le):
            high = Decimal(str(item.le))
        elif isinstance(item, annotated_types.Lt):
            high = Decimal(str(item.lt))
    return low, high


def _places(info: FieldInfo) -> int | None:
    for item in info.metadata:
        places = getattr(item, "decimal_places", None)
        if isinstance(places, int):
            return places
    return None


def spec(model: type[BaseModel], name: str) -> SettingSpec:
    info = model.model_fields[name]
    annotation, optional = _unwrap(info.annotation)
    kind, choices = _kind(annotation)
    low, high = _bounds(info)
    extra = info.json_schema_extra
    live = bool(extra.get("live", True)) if isinstance(extra, dict) else True
    return SettingSpec(
        name=name,
        kind=kind,
        default=info.default,
        low=low,
        high=high,
        live=live,
        description=info.description or "",
        choices=choices,
        optional=optional,
        places=_places(info),
    )


def specs(model: type[BaseModel]) -> list[SettingSpec]:
    """Every field of ``model`` in declaration order."""
    return [spec(model, name) for name in model.model_fields]


def show(value: object) -> str:
    """A setting's value as text: Decimals without exponent (``100000``, not ``1E+5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = f"{value:f}" if value.is_finite() else str(value)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if value is None:
        return "none"
    if isinstance(value, tuple) and all(isinstance(row, tuple) for row in value):
        # a table of pairs (``risk.minimal_roi``): ``0:3,60:1``, what ``/set`` reads back
        return ",".join(":".join(show(x) for x in row) for row in value) or "none"
    return str(value)


def shown(text: str) -> str:
    """User input echoed in a refusal, cut to ``SHOWN_CHARS``."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def change(
    current: M, name: str, text: str, *, key: str | None = None, live_only: bool = True
) -> M:
    """A validated copy of ``current`` with ``name`` set from chat ``text``.

    Cross-field rules run too (the whole model is validated), and every refusal names the
    key, the value and the allowed range. ``key`` is the name users type (``risk.x``).
    """
    model = type(current)
    label = key or name
    if name not in model.model_fields:
        raise unknown(label, model.model_fields)
    field = spec(model, name)
    if live_only and not field.live:
        raise SettingRefused(
            "setting_not_live",
            f"{label} cannot change while the bot runs: set it in config.toml and restart",
            key=label,
        )
    value: object = text
    if field.optional and text.strip().lower() in ("none", "auto", "default"):
        value = None
    data = current.model_dump()
    data[name] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:  # the cause: chat re-words its reason in its language
        raise refusal(model, exc, label, name, text) from exc


def unknown(key: str, known: Iterable[str]) -> SettingRefused:
    """``key`` is no setting; the refusal lists the ones there are."""
    names = ", ".join(known)
    return SettingRefused(
        "setting_unknown", f"unknown setting {key!r} (known: {names})", key=key, known=names
    )


def refusal(
    model: type[BaseModel], exc: ValidationError, label: str, name: str, text: str
) -> SettingRefused:
    """The first problem of ``exc`` as one sentence with the allowed range."""
    errors = exc.errors(include_url=False)
    mine = [e for e in errors if e.get("loc", ())[:1] == (name,)] or errors
    return _one(model, mine[0], label, name, text)


def problems(model: type[BaseModel], exc: ValidationError) -> list[SettingRefused]:
    """Every problem of a whole-model validation (config-shaped data), one refusal each."""
    out = []
    for error in exc.errors(include_url=False):
        loc: Sequence[object] = error.get("loc", ())
        name = str(loc[0]) if loc else ""
        if error.get("type") == "extra_forbidden":
            out.append(unknown(name, model.model_fields))
            continue
        if not loc:  # a rule across fields: its message names them
            message = str(error.get("msg", "invalid"))
            context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
            out.append(
                SettingRefused(str(error.get("type")), message, key="", value="", **context)
            )
            continue
        out.append(_one(model, error, name, name, _text(error.get("input"))))
    return out


def _text(value: object) -> str:
    return show(value) if isinstance(value, Decimal | bool) or value is None else str(value)


def _one(
    model: type[BaseModel], error: Mapping[str, Any], label: str, name: str, text: str
) -> SettingRefused:
    kind = str(error.get("type", ""))
    loc: Sequence[object] = error.get("loc", ())
    field = spec(model, str(loc[0])) if loc and str(loc[0]) in model.model_fields else None
    value = shown(text)
    if field is not None and kind in _CHOICE_ERRORS:
        choices = ", ".join(field.choices)
        return SettingRefused(
            "setting_choice",
            f"{label} = {value}: must be one of {choices}",
            key=label,
            value=value,
            choices=choices,
        )
    if field is not None and (kind in _TYPE_ERRORS or kind in _RANGE_ERRORS):
        whole = field.kind == "int"
        low = "-" if field.low is None else _number(field.low)
        high = "-" if field.high is None else _number(field.high)
        code = "setting_range_int" if whole else "setting_range"
        noun = "a whole number" if whole else "a number"
        return SettingRefused(
            code,
            f"{label} = {value}: must be {noun} from {low} to {high}",
            key=label,
            value=value,
            min=low,
            max=high,
        )
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items() if k != "error"}
    if kind.startswith("rule_"):  # a model rule with its own catalog entry
        text = f"{label} = {value}: {message}"
        return SettingRefused(kind, text, key=label, value=value, **context)
    return SettingRefused(
        "setting_invalid",
        f"{label} = {value}: {message}",
        key=label,
        value=value,
        reason=message,
    )


def _number(value: Decimal) -> str:
    """``5,000`` or ``0.1``: bounds read like the numbers around them."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return show(value)
