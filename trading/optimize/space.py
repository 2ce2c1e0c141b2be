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

from trading.optimize.errors import OptimizeInputError, SpaceError
from trading.optimize.risk_space import GROUPED, is_risk, risk_dimension, risk_fixed
from trading.settings import spec as setting_spec
from trading.strategies.base import Strategy, params_schema
from trading.strategies.params import ParamSpec

__all__ = [
    "Dimension",
    "SearchSpace",
    "TrialLike",
    "build_space",
    "parse_assignments",
    "searches",
    "split_assignments",
]

Choice = None | bool | int | float | str
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class TrialLike(Protocol):
    """The three ``optuna.Trial`` calls the space uses (kept narrow for typing and tests)."""

    def suggest_int(self, name: str, low: int, high: int) -> int: ...
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None
    ) -> float: ...
    def suggest_categorical(self, name: str, choices: Sequence[Choice]) -> Choice: ...


@dataclass(frozen=True, slots=True)
class Dimension:
    """One searched parameter: ``int``/``float`` within ``[low, high]``, or one of ``choices``.

    ``step``: a ``float`` searched on the grid ``low, low + step, ...`` (a Decimal risk
    setting, ``risk_space.grid_step``); None = any float in the range."""

    name: str
    kind: Literal["int", "float", "categorical"]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Choice, ...] = ()
    step: float | None = None

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"{self.name} in {{{', '.join(str(c) for c in self.choices)}}}"
        if self.kind == "int":
            return f"{self.name} in [{int(self.low)}, {int(self.high)}]"
        by = "" if self.step is None else f" by {self.step:g}"
        return f"{self.name} in [{self.low:g}, {self.high:g}]{by}"


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
                values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, step=dim.step)
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


@dataclass(frozen=True, slots=True)
class _Param:
    """A parameter with what its refusals name: the strategy and the allowed values, read from
    the strategy's ``Params`` model (``trading.settings``), never copied."""

    spec: ParamSpec
    strategy: str
    allowed: str

    def bad(self, reason: str, value: str, message: str) -> SpaceError:
        return SpaceError(
            message,
            reason=reason,
            key=self.spec.name,
            value=value,
            allowed=self.allowed,
            strategy=self.strategy,
        )


def _param(strategy_cls: type[Strategy[Any]], spec: ParamSpec) -> _Param:
    allowed = (
        "true|false"
        if spec.type == "bool"
        else setting_spec(strategy_cls.Params, spec.name).range_text()
    )
    return _Param(spec, strategy_cls.name, allowed)


def _number(p: _Param, text: str, what: str, whole: str) -> float:
    spec = p.spec
    try:
        value = int(text) if spec.type == "int" else float(text)
    except ValueError:
        message = f"{what} {spec.name}: {text!r} is not {spec.type}"
        raise p.bad("range", whole, message) from None
    if not math.isfinite(value):
        raise p.bad("range", whole, f"{what} {spec.name}: {text!r} is not a finite number")
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


def _choice(p: _Param, text: str, what: str, whole: str) -> Choice:
    spec = p.spec
    if spec.type == "bool":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise p.bad("choice", whole, f"{what} {spec.name}: {text!r} is not true or false")
    allowed = _choices(spec)
    if not allowed:
        return text
    for choice in allowed:
        if str(choice) == text:
            return choice
    options = ", ".join(str(c) for c in allowed)
    raise p.bad("choice", whole, f"{what} {spec.name}: {text!r} is not one of {options}")


def _fixed_value(p: _Param, text: str) -> Choice:
    spec = p.spec
    if spec.type not in ("int", "float"):
        return _choice(p, text, "--param", text)
    value = _number(p, text, "--param", text)
    low, high = _declared(spec)
    if not low <= value <= high:
        message = f"--param {spec.name}={text} is outside its declared bounds {low:g}..{high:g}"
        raise p.bad("bounds", text, message)
    return int(value) if spec.type == "int" else value


def _number_list(p: _Param, text: str) -> tuple[Choice, ...]:
    """``5,8,13`` of a number: a choice among them, each within the declared bounds. A list
    that reads as one number with its thousands grouped (``10,000``) is refused (``grouped``):
    chat's numbers take commas only as thousands separators, so either reading may be meant."""
    spec = p.spec
    if GROUPED.fullmatch(text.strip()):
        plain = text.strip().replace(",", "")
        message = (
            f"--space {spec.name}={text}: a comma here may group thousands ({plain}) or"
            f" separate choices; write {plain} to pin it, or lo..hi to search"
        )
        raise p.bad("grouped", text, message)
    low, high = _declared(spec)
    picked: list[Choice] = []
    for part in text.split(","):
        value = _number(p, part.strip(), "--space", text)
        if not low <= value <= high:
            message = (
                f"--space {spec.name}={text} is outside its declared bounds {low:g}..{high:g}"
            )
            raise p.bad("bounds", text, message)
        picked.append(int(value) if spec.type == "int" else value)
    return tuple(dict.fromkeys(picked))


def _narrowed(p: _Param, text: str) -> Dimension:
    """``lo:hi`` (or ``lo..hi``, as chat writes it) of a number, or ``a,b`` of numbers
    (``_number_list``); ``a,b`` of choices."""
    spec = p.spec
    if spec.type not in ("int", "float"):
        allowed = _choices(spec)
        if not allowed:
            message = f"--space {spec.name}: free text cannot be searched; fix it with --param"
            raise p.bad("unsearchable", text, message)
        picked = tuple(
            dict.fromkeys(_choice(p, t.strip(), "--space", text) for t in text.split(","))
        )
        return Dimension(spec.name, "categorical", choices=picked)
    low_text, sep, high_text = text.partition("..")
    if not sep:
        low_text, sep, high_text = text.partition(":")
    if not sep and "," in text:
        return Dimension(spec.name, "categorical", choices=_number_list(p, text))
    if not sep:
        raise p.bad("range", text, f"--space {spec.name}={text}: expected lo:hi or a,b")
    low = _number(p, low_text.strip(), "--space", text)
    high = _number(p, high_text.strip(), "--space", text)
    ge, le = _declared(spec)
    if low > high:
        raise p.bad("range", text, f"--space {spec.name}={text}: lo is above hi")
    if low < ge or high > le:
        message = f"--space {spec.name}={text} is outside its declared bounds {ge:g}..{le:g}"
        raise p.bad("bounds", text, message)
    return Dimension(spec.name, "int" if spec.type == "int" else "float", low, high)


def _declared_dimension(spec: ParamSpec) -> Dimension | None:
    if spec.type in ("int", "float"):
        low, high = _declared(spec)
        return Dimension(spec.name, "int" if spec.type == "int" else "float", low, high)
    choices = _choices(spec)
    return Dimension(spec.name, "categorical", choices=choices) if choices else None


def searches(text: str) -> bool:
    """Whether chat's ``NAME=text`` searches (``lo..hi``, ``lo:hi``, ``a,b``) rather than pins
    one value (``2.5``, ``-3``, ``ema``, ``true``): by the words alone, so the same rule holds
    for a strategy parameter and a risk setting of any kind."""
    return ".." in text or ":" in text or "," in text


def split_assignments(words: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Chat's ``NAME=...`` words as ``build_space``'s ``(fixed, narrow)``: one value pins,
    a range or a list searches (``searches``)."""
    fixed = {key: text for key, text in words.items() if not searches(text)}
    narrow = {key: text for key, text in words.items() if searches(text)}
    return fixed, narrow


def build_space(
    strategy_cls: type[Strategy[Any]],
    fixed: Mapping[str, str] | None = None,
    narrow: Mapping[str, str] | None = None,
) -> SearchSpace:
    """The space for ``strategy_cls``: declared bounds, ``fixed`` values, ``narrow``\\ed ranges.

    Free-text ``str`` parameters (no ``Literal`` choices) cannot be searched: they keep their
    default unless fixed. A ``risk.NAME`` key searches (``narrow``) or fixes a risk setting
    instead, typed and bounded by ``RiskSettings`` (``trading.optimize.risk_space``); risk
    settings not named keep the backtest's limits. Raises ``SpaceError`` (an
    ``OptimizeInputError``) with one line and its parts on any bad key or value. Chat writes
    both kinds as ``NAME=...`` words; ``split_assignments`` sorts them into pins and searches.
    """
    fixed, narrow = dict(fixed or {}), dict(narrow or {})
    risk_fixed_keys = {k: fixed.pop(k) for k in list(fixed) if is_risk(k)}
    risk_narrow_keys = {k: narrow.pop(k) for k in list(narrow) if is_risk(k)}
    owner = strategy_cls.name
    schema = {spec.name: spec for spec in params_schema(strategy_cls)}
    known = ", ".join(schema)
    for option, keys in (("--param", fixed), ("--space", narrow)):
        for key, text in keys.items():
            if key not in schema:
                raise SpaceError(
                    f"{option} {key}: {owner} has no such parameter (known: {known})",
                    reason="unknown",
                    key=key,
                    value=text,
                    allowed=known,
                    strategy=owner,
                )
    both = sorted(set(fixed) & set(narrow) | set(risk_fixed_keys) & set(risk_narrow_keys))
    if both:
        raise SpaceError(
            f"{both[0]} is both fixed (--param) and searched (--space)",
            reason="twice",
            key=both[0],
            value="",
            allowed="",
            strategy=owner,
        )
    values: dict[str, Choice] = {}
    dimensions: list[Dimension] = []
    for name, spec in schema.items():
        p = _param(strategy_cls, spec)
        if name in fixed:
            values[name] = _fixed_value(p, fixed[name])
            continue
        dim = _narrowed(p, narrow[name]) if name in narrow else _declared_dimension(spec)
        if dim is not None:
            dimensions.append(dim)
    for key, text in risk_fixed_keys.items():
        values[key] = risk_fixed(key, text)
    for key, text in risk_narrow_keys.items():
        name, kind, low, high, choices, step = risk_dimension(key, text)
        dimensions.append(Dimension(name, kind, low, high, choices, step))
    if not dimensions:
        raise SpaceError(
            f"nothing to search: every {owner} parameter is fixed",
            reason="empty",
            key="",
            value="",
            allowed="",
            strategy=owner,
        )
    return SearchSpace(strategy_cls.name, tuple(dimensions), values)
