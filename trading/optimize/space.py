"""The search space: each strategy parameter's declared bounds, narrowed or fixed by the user.

The bounds come from the strategy's ``Params`` model (``ParamSpec``), the same source ``/set``
and the config loader validate against, so the optimizer can never propose a value the bot
would refuse at runtime. Cross-field rules (``fast < slow``) are not bounds: a combination that
breaks one is refused by the model when the trial builds it, and the trial is pruned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from trading.optimize.errors import OptimizeInputError
from trading.optimize.risk_space import is_risk, risk_dimension, risk_fixed
from trading.strategies.base import Strategy, params_schema
from trading.strategies.params import ParamSpec

__all__ = [
    "Dimension",
    "SearchSpace",
    "TrialLike",
    "build_space",
    "parse_assignments",
]

Choice = None | bool | int | float | str
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class TrialLike(Protocol):
    """The three ``optuna.Trial`` calls the space uses (kept narrow for typing and tests)."""

    def suggest_int(self, name: str, low: int, high: int) -> int: ...
    def suggest_float(self, name: str, low: float, high: float) -> float: ...
    def suggest_categorical(self, name: str, choices: Sequence[Choice]) -> Choice: ...


@dataclass(frozen=True, slots=True)
class Dimension:
    """One searched parameter: ``int``/``float`` within ``[low, high]``, or one of ``choices``."""

    name: str
    kind: Literal["int", "float", "categorical"]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Choice, ...] = ()

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"{self.name} in {{{', '.join(str(c) for c in self.choices)}}}"
        if self.kind == "int":
            return f"{self.name} in [{int(self.low)}, {int(self.high)}]"
        return f"{self.name} in [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """What a trial draws (``dimensions``) and what every trial shares (``fixed``)."""

    strategy: str
    dimensions: tuple[Dimension, ...]
    fixed: Mapping[str, Choice] = field(default_factory=dict)

    def suggest(self, trial: TrialLike) -> dict[str, Choice]:
        """The trial's parameter values: the fixed ones plus one draw per dimension."""
        values: dict[str, Choice] = dict(self.fixed)
        for dim in self.dimensions:
            if dim.kind == "int":
                values[dim.name] = trial.suggest_int(dim.name, int(dim.low), int(dim.high))
            elif dim.kind == "float":
                values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high)
            else:
                values[dim.name] = trial.suggest_categorical(dim.name, dim.choices)
        return values

    def describe(self) -> list[str]:
        lines = [dim.describe() for dim in self.dimensions]
        lines += [f"{name} = {value} (fixed)" for name, value in self.fixed.items()]
        return lines


def parse_assignments(items: Sequence[str], option: str) -> dict[str, str]:
    """``["fast=20", "slow=60"]`` -> ``{"fast": "20", "slow": "60"}``; a repeat is an error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise OptimizeInputError(f"{option} {item!r}: expected key=value")
        if key in out:
            raise OptimizeInputError(f"{option} {key} given twice")
        out[key] = value
    return out


def _number(spec: ParamSpec, text: str, what: str) -> float:
    try:
        value = int(text) if spec.type == "int" else float(text)
    except ValueError:
        raise OptimizeInputError(f"{what} {spec.name}: {text!r} is not {spec.type}") from None
    if not math.isfinite(value):
        raise OptimizeInputError(f"{what} {spec.name}: {text!r} is not a finite number")
    return float(value)


def _declared(spec: ParamSpec) -> tuple[float, float]:
    # check_params_model guarantees numeric fields have both bounds
    assert spec.ge is not None
    assert spec.le is not None
    return float(spec.ge), float(spec.le)


def _choices(spec: ParamSpec) -> tuple[Choice, ...]:
    if spec.type == "bool":
        return (True, False)
    return tuple(c for c in spec.choices if isinstance(c, bool | int | float | str))


def _choice(spec: ParamSpec, text: str, what: str) -> Choice:
    if spec.type == "bool":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise OptimizeInputError(f"{what} {spec.name}: {text!r} is not true or false")
    allowed = _choices(spec)
    if not allowed:
        return text
    for choice in allowed:
        if str(choice) == text:
            return choice
    options = ", ".join(str(c) for c in allowed)
    raise OptimizeInputError(f"{what} {spec.name}: {text!r} is not one of {options}")


def _fixed_value(spec: ParamSpec, text: str) -> Choice:
    if spec.type not in ("int", "float"):
        return _choice(spec, text, "--param")
    value = _number(spec, text, "--param")
    low, high = _declared(spec)
    if not low <= value <= high:
        raise OptimizeInputError(
            f"--param {spec.name}={text} is outside its declared bounds {low:g}..{high:g}"
        )
    return int(value) if spec.type == "int" else value


def _narrowed(spec: ParamSpec, text: str) -> Dimension:
    if spec.type not in ("int", "float"):
        allowed = _choices(spec)
        if not allowed:
            raise OptimizeInputError(
                f"--space {spec.name}: free text cannot be searched; fix it with --param"
            )
        picked = tuple(dict.fromkeys(_choice(spec, t.strip(), "--space") for t in text.split(",")))
        return Dimension(spec.name, "categorical", choices=picked)
    low_text, sep, high_text = text.partition(":")
    if not sep:
        raise OptimizeInputError(f"--space {spec.name}={text}: expected lo:hi")
    low = _number(spec, low_text.strip(), "--space")
    high = _number(spec, high_text.strip(), "--space")
    ge, le = _declared(spec)
    if low > high:
        raise OptimizeInputError(f"--space {spec.name}={text}: lo is above hi")
    if low < ge or high > le:
        raise OptimizeInputError(
            f"--space {spec.name}={text} is outside its declared bounds {ge:g}..{le:g}"
        )
    return Dimension(spec.name, "int" if spec.type == "int" else "float", low, high)


def _declared_dimension(spec: ParamSpec) -> Dimension | None:
    if spec.type in ("int", "float"):
        low, high = _declared(spec)
        return Dimension(spec.name, "int" if spec.type == "int" else "float", low, high)
    choices = _choices(spec)
    return Dimension(spec.name, "categorical", choices=choices) if choices else None


def build_space(
    strategy_cls: type[Strategy[Any]],
    fixed: Mapping[str, str] | None = None,
    narrow: Mapping[str, str] | None = None,
) -> SearchSpace:
    """The space for ``strategy_cls``: declared bounds, ``fixed`` values, ``narrow``\\ed ranges.

    Free-text ``str`` parameters (no ``Literal`` choices) cannot be searched: they keep their
    default unless fixed. A ``risk.NAME`` key searches (``narrow``) or fixes a risk setting
    instead, typed and bounded by ``RiskSettings`` (``trading.optimize.risk_space``); risk
    settings not named keep the backtest's limits. Raises ``OptimizeInputError`` with one line
    on any bad key or value.
    """
    fixed, narrow = dict(fixed or {}), dict(narrow or {})
    risk_fixed_keys = {k: fixed.pop(k) for k in list(fixed) if is_risk(k)}
    risk_narrow_keys = {k: narrow.pop(k) for k in list(narrow) if is_risk(k)}
    schema = {spec.name: spec for spec in params_schema(strategy_cls)}
    known = ", ".join(schema)
    for option, keys in (("--param", fixed), ("--space", narrow)):
        for key in keys:
            if key not in schema:
                raise OptimizeInputError(
                    f"{option} {key}: {strategy_cls.name} has no such parameter (known: {known})"
                )
    both = sorted(set(fixed) & set(narrow) | set(risk_fixed_keys) & set(risk_narrow_keys))
    if both:
        raise OptimizeInputError(f"{both[0]} is both fixed (--param) and searched (--space)")
    values: dict[str, Choice] = {}
    dimensions: list[Dimension] = []
    for name, spec in schema.items():
        if name in fixed:
            values[name] = _fixed_value(spec, fixed[name])
            continue
        dim = _narrowed(spec, narrow[name]) if name in narrow else _declared_dimension(spec)
        if dim is not None:
            dimensions.append(dim)
    for key, text in risk_fixed_keys.items():
        values[key] = risk_fixed(key, text)
    for key, text in risk_narrow_keys.items():
        name, kind, low, high, choices = risk_dimension(key, text)
        dimensions.append(Dimension(name, kind, low, high, choices))
    if not dimensions:
        raise OptimizeInputError(
            f"nothing to search: every {strategy_cls.name} parameter is fixed"
        )
    return SearchSpace(strategy_cls.name, tuple(dimensions), values)
