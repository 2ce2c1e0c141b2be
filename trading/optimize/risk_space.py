"""Risk settings in the search space: ``risk.NAME=lo..hi``, typed and bounded by the model.

Every risk setting is declared once in ``trading.risk.settings.RiskSettings`` with its type and
bounds (``setting(..., ge=, le=)``); this module reads those (``trading.settings.spec``) so a
new setting is searchable the moment it is declared, and the optimizer can never propose a
value ``/set risk.NAME`` would refuse. A dimension is named ``risk.NAME`` in the study; a
trial's values are split back into strategy parameters and risk settings by ``split_values``
and the risk ones become the trial's ``RiskLimits`` in ``with_risk``.

Ranges are ``lo..hi`` (or ``lo:hi``, as for strategy parameters); ``bool`` and ``Literal``
settings take ``a,b`` choices; one value (``--param``, or a chat word without ``..``, ``:`` or
``,``) is pinned by ``risk_fixed`` against the same bounds. Cross-field rules
(``volatility_resume_pct`` not above ``volatility_halt_pct``) are not bounds: a draw that
breaks one is refused when the trial builds its limits (``ParamError``) and the trial is
pruned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError

from trading.domain import finite_decimal
from trading.optimize.errors import RiskSpaceError
from trading.risk.settings import RiskSettings
from trading.settings import SettingSpec, spec
from trading.strategies.params import ParamError

__all__ = [
    "RISK_PREFIX",
    "is_risk",
    "risk_dimension",
    "risk_fixed",
    "risk_setting_values",
    "split_values",
    "with_risk",
]

RISK_PREFIX = "risk."
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
#: the ``BacktestSpec`` fields that copy a risk setting (the position rules' cooldowns)
_SPEC_COPIES = ("cooldown_candles", "stop_cooldown_candles")

Choice = None | bool | int | float | str
DimensionKind = Literal["int", "float", "categorical"]


def is_risk(key: str) -> bool:
    return key.startswith(RISK_PREFIX)


def _setting(key: str, option: str, whole: str) -> SettingSpec:
    name = key.removeprefix(RISK_PREFIX)
    if name not in RiskSettings.model_fields:
        known = ", ".join(RiskSettings.model_fields)
        raise RiskSpaceError(
            f"{option} {key}: no such risk setting (known: {known})",
            reason="unknown",
            key=key,
            value=whole,
            allowed=known,
        )
    field = spec(RiskSettings, name)
    if field.kind not in ("int", "decimal", "float", "bool", "choice"):
        message = f"{option} {key}: a {field.kind} setting cannot be searched"
        raise _bad(field, key, whole, message, reason="unsearchable")
    return field


def _bad(
    field: SettingSpec, key: str, whole: str, message: str, *, reason: str = ""
) -> RiskSpaceError:
    """A value the setting cannot take: ``message`` for the CLI, the parts for chat;
    ``reason`` by default ``choice`` or ``range`` after the setting's kind."""
    choice = field.kind in ("bool", "choice")
    allowed = "true|false" if field.kind == "bool" else field.range_text()
    reason = reason or ("choice" if choice else "range")
    return RiskSpaceError(message, reason=reason, key=key, value=whole, allowed=allowed)


def _number(field: SettingSpec, key: str, text: str, option: str, whole: str) -> float:
    try:
        value = finite_decimal(text)
    except ValueError as exc:
        raise _bad(field, key, whole, f"{option} {key}: {text!r} is {exc}") from None
    if field.kind == "int" and value != value.to_integral_value():
        raise _bad(field, key, whole, f"{option} {key}: {text!r} is not an integer")
    return float(value)


def _check_bounds(field: SettingSpec, key: str, text: str, low: float, high: float) -> None:
    below = field.low is not None and Decimal(repr(low)) < field.low
    above = field.high is not None and Decimal(repr(high)) > field.high
    if below or above:
        message = f"{key}={text} is outside the setting's bounds {field.range_text()}"
        raise _bad(field, key, text, message, reason="bounds")


def _choice(field: SettingSpec, key: str, text: str, option: str, whole: str) -> Choice:
    lowered = text.strip().lower()
    if field.kind == "bool":
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise _bad(field, key, whole, f"{option} {key}: {text!r} is not true or false")
    for choice in field.choices:
        if choice == text.strip():
            return choice
    choices = ", ".join(field.choices)
    raise _bad(field, key, whole, f"{option} {key}: {text!r} is not one of {choices}")


def risk_dimension(
    key: str, text: str
) -> tuple[str, DimensionKind, float, float, tuple[Choice, ...]]:
    """``(name, kind, low, high, choices)`` of the dimension ``key=text`` asks for.

    ``kind`` is ``int``, ``float`` (a Decimal setting, searched as a float) or
    ``categorical``. Raises ``OptimizeInputError`` naming an unknown setting, a bad value or a
    range outside the model's bounds.
    """
    field = _setting(key, "--space", text)
    if field.kind in ("bool", "choice"):
        parts = text.split(",") if text.strip() else list(field.choices)
        picked = tuple(dict.fromkeys(_choice(field, key, p, "--space", text) for p in parts))
        return key, "categorical", 0.0, 0.0, picked
    low_text, sep, high_text = text.partition("..")
    if not sep:
        low_text, sep, high_text = text.partition(":")
    if not sep:
        raise _bad(field, key, text, f"--space {key}={text}: expected lo..hi")
    low = _number(field, key, low_text.strip(), "--space", text)
    high = _number(field, key, high_text.strip(), "--space", text)
    if low > high:
        raise _bad(field, key, text, f"--space {key}={text}: lo is above hi")
    _check_bounds(field, key, text, low, high)
    return key, "int" if field.kind == "int" else "float", low, high, ()


def risk_fixed(key: str, text: str) -> Choice:
    """The value ``--param risk.NAME=text`` fixes for every trial, checked against bounds."""
    field = _setting(key, "--param", text)
    if field.kind in ("bool", "choice"):
        return _choice(field, key, text, "--param", text)
    value = _number(field, key, text.strip(), "--param", text)
    _check_bounds(field, key, text, value, value)
    return int(value) if field.kind == "int" else value


def split_values(values: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """A trial's values as ``(strategy parameters, risk settings by bare name)``."""
    params = {k: v for k, v in values.items() if not is_risk(k)}
    risk = {k.removeprefix(RISK_PREFIX): v for k, v in values.items() if is_risk(k)}
    return params, risk


def risk_setting_values(risk: Mapping[str, object]) -> dict[str, object]:
    """Searched values in the model's own types: a Decimal setting's float draw becomes the
    Decimal of its shortest repr (``1.5`` -> ``Decimal("1.5")``), never a binary expansion,
    rounded to the digits the setting allows (``decimal_places``): a draw of 97.1234 for a
    two-place setting is 97.12, not a trial the model refuses."""
    out: dict[str, object] = {}
    for name, value in risk.items():
        field = spec(RiskSettings, name)
        if field.kind == "decimal" and isinstance(value, float):
            if not math.isfinite(value):
                raise ParamError(f"risk.{name}: {value!r} is not finite")
            number = Decimal(repr(value))
            if field.places is not None:
                number = number.quantize(Decimal(1).scaleb(-field.places))
            out[name] = number
        else:
            out[name] = value
    return out


def with_risk(fields: Mapping[str, Any], risk: Mapping[str, object]) -> dict[str, Any]:
    """``BacktestSpec`` fields (without the strategy) with ``risk`` applied to the limits.

    Raises ``ParamError`` when the combination breaks a cross-field rule of the model.
    """
    if not risk:
        return dict(fields)
    values = risk_setting_values(risk)
    try:
        limits = fields["limits"].replace(**values)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        raise ParamError(f"risk settings refused: {problems}") from None
    out = dict(fields) | {"limits": limits}
    for name in _SPEC_COPIES:
        if name in values:
            out[name] = int(str(values[name]))
    return out
