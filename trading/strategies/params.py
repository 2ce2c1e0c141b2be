"""Strategy parameters: the pydantic base model, their schema and readable validation errors.

One model per strategy is the single source of truth for ``/set``, the config file and the
optimizer: bounds and descriptions live on the fields, so the chat help, the optimizer's
search space and the error messages can never disagree with what the strategy accepts.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "ParamError",
    "ParamSpec",
    "StrategyParams",
    "check_params_model",
    "parse_params",
    "specs",
]


class StrategyParams(BaseModel):
    """Base for a strategy's ``Params``: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ParamError(ValueError):
    """A parameter value was refused; the message names the key, the value and the bounds."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter as chat and the optimizer see it.

    ``type`` is ``"int"``, ``"float"``, ``"bool"`` or ``"str"``; a ``Literal`` field is
    ``"str"`` with its ``choices``.
    """

    name: str
    type: str
    default: object
    ge: float | None
    le: float | None
    description: str
    choices: tuple[object, ...] = ()


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    ge: float | None = None
    le: float | None = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            ge = cast(float, item.ge)
        elif isinstance(item, annotated_types.Le):
            le = cast(float, item.le)
    return ge, le


def _kind(annotation: Any) -> tuple[str, tuple[object, ...]]:
    if typing.get_origin(annotation) is Literal:
        return "str", typing.get_args(annotation)
    if annotation in (int, float, bool, str):
        return str(annotation.__name__), ()
    raise TypeError(
        f"unsupported parameter type {annotation!r}; use int, float, bool, str or a Literal"
    )


def specs(model: type[BaseModel]) -> list[ParamSpec]:
    """The fields of ``model`` as ``ParamSpec``s, in declaration order."""
    out = []
    for name, info in model.model_fields.items():
        kind, choices = _kind(info.annotation)
        ge, le = _bounds(info)
        out.append(ParamSpec(name, kind, info.default, ge, le, info.description or "", choices))
    return out


def check_params_model(model: object, owner: str) -> None:
    """Refuse a ``Params`` model that chat and the optimizer could not drive safely."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{owner}.Params must be a pydantic BaseModel subclass")
    config = model.model_config
    if not config.get("frozen") or config.get("extra") != "forbid":
        raise TypeError(
            f"{owner}.Params must be frozen with extra='forbid' (subclass StrategyParams)"
        )
    for spec in specs(model):
        if not spec.description:
            raise TypeError(f"{owner}.Params.{spec.name} needs a description")
        if spec.type in ("int", "float") and (spec.ge is None or spec.le is None):
            raise TypeError(f"{owner}.Params.{spec.name} needs bounds: Field(ge=..., le=...)")
        if model.model_fields[spec.name].is_required():
            raise TypeError(f"{owner}.Params.{spec.name} needs a default")


def _describe(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    loc = error.get("loc", ())
    message = str(error.get("msg", "invalid"))
    if not loc:  # a model validator: its message is the whole story
        return message.removeprefix("Value error, ")
    key = str(loc[0])
    if error.get("type") == "extra_forbidden":
        known = ", ".join(model.model_fields)
        return f"{key}: unknown parameter (known: {known})"
    text = f"{key} = {error.get('input')!r}: {message[:1].lower()}{message[1:]}"
    info = model.model_fields.get(key)
    if info is not None:
        ge, le = _bounds(info)
        if ge is not None or le is not None:
            low = "" if ge is None else f"{ge:g}"
            high = "" if le is None else f"{le:g}"
            text += f" (allowed {low}..{high})"
    return text


def parse_params(model: type[M], values: Mapping[str, object]) -> M:
    """Validate ``values`` through ``model``; a refusal is a ``ParamError`` naming each key."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = "; ".join(_describe(model, e) for e in exc.errors(include_url=False))
        raise ParamError(f"invalid parameters: {problems}") from None
