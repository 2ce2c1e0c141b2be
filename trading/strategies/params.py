"""Strategy parameters: the pydantic base model, their schema and readable validation errors.

One model per strategy is the single source of truth for ``/set``, the config file and the
optimizer: bounds and descriptions live on the fields, so the chat help, the optimizer's
search space and the error messages can never disagree with what the strategy accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from trading import settings

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
    """A parameter value was refused; the message names the key, the value and the bounds.
    ``validation`` is pydantic's error it came from, if any: chat renders its problems in the
    reader's language from it."""

    def __init__(self, message: str, validation: ValidationError | None = None) -> None:
        super().__init__(message)
        self.validation = validation


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


_TYPES = {"int": "int", "float": "float", "bool": "bool", "str": "str", "choice": "str"}


def specs(model: type[BaseModel]) -> list[ParamSpec]:
    """The fields of ``model`` as ``ParamSpec``s, in declaration order (read through the one
    settings reader, so chat, the optimizer and the API see the same bounds)."""
    out = []
    for setting in settings.specs(model):
        kind = _TYPES.get(setting.kind)
        if kind is None:
            raise TypeError(
                f"unsupported parameter type of {setting.name!r};"
                " use int, float, bool, str or a Literal"
            )
        out.append(
            ParamSpec(
                setting.name,
                kind,
                setting.default,
                None if setting.low is None else float(setting.low),
                None if setting.high is None else float(setting.high),
                setting.description,
                tuple(setting.choices) if setting.kind == "choice" else (),
            )
        )
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
    if key in model.model_fields:
        allowed = settings.spec(model, key).range_text()
        if allowed and settings.spec(model, key).kind != "choice":
            text += f" (allowed {allowed})"
    return text


def parse_params(model: type[M], values: Mapping[str, object]) -> M:
    """Validate ``values`` through ``model``; a refusal is a ``ParamError`` naming each key."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = "; ".join(_describe(model, e) for e in exc.errors(include_url=False))
        raise ParamError(f"invalid parameters: {problems}", exc) from None
