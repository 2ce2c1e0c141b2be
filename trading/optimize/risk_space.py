"""Risk settings in the search space: ``risk.NAME=lo..hi``, typed and bounded by the model.

Every risk setting is declared once in ``trading.risk.settings.RiskSettings`` with its type and
bounds (``setting(..., ge=, le=)``); this module reads those (``trading.settings.spec``) so a
new setting is searchable the moment it is declared, and the optimizer can never propose a
value ``/set risk.NAME`` would refuse. A dimension is named ``risk.NAME`` in the study; a
trial's values are split back into strategy parameters and risk settings by ``split_values``
and the risk ones become the trial's ``RiskLimits`` in ``with_risk``.

Ranges are ``lo..hi`` (or ``lo:hi``, as for strategy parameters); ``bool`` and ``Literal``
settings take ``a,b`` choices, and so does a number (``2,3``: a choice among those numbers,
each within the bounds; ``50,000``, which could be one number with its thousands grouped, is
refused as ambiguous); one value (``--param``, or a chat word without ``..``, ``:`` or
``,``) is pinned by ``risk_fixed`` against the same bounds. Cross-field rules
(``volatility_resume_pct`` not above ``volatility_halt_pct``) are not bounds: a draw that
breaks one is refused when the trial builds its limits (``ParamError``) and the trial is
pruned.

A Decimal setting's range is searched on a grid (``grid_step``): a power of ten giving 20 to
200 steps across ``lo..hi``, never finer than the digits of ``lo`` and ``hi`` need nor than
the setting's ``decimal_places``. A float draw (``2.3000000000000003`` from optuna's step
arithmetic) is read back as the short Decimal it stands for (``risk_setting_values``), so the
value a trial ran with is the one ``/set`` takes and prints (``2.3``), not 16 digits no
trader would type.
"""

from __future__ import annotations

import math
import re
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
    "GRID_STEPS",
    "GROUPED",
    "RISK_PREFIX",
    "drawn_decimal",
    "grid_step",
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
#: a number list that reads as one number with its thousands grouped (``50,000``)
GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
#: a searched Decimal range has at least this many grid steps (and fewer than ten times it)
GRID_STEPS = 20
#: significant digits a float draw keeps when read back as a Decimal: float steps err in the
#: 16th, a grid value never needs more than these
_DRAW_DIGITS = 12
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


def _last_digit(value: Decimal) -> int | None:
    """The power of ten of ``value``'s last non-zero digit (``2.55`` -> -2, ``50000`` -> 4);
    None for zero, which lies on every grid."""
    if not value:
        return None
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return exponent


def grid_step(low: Decimal, high: Decimal, places: int | None = None) -> Decimal:
    """The step a Decimal setting's ``low..high`` is searched by: the power of ten that cuts
    the range into ``GRID_STEPS`` to ten times as many steps, finer only where ``low`` or
    ``high`` has more digits (both stay on the grid), never finer than ``places``.

    Why: a float search proposes ``3.5986584841970366``, which no trader types and ``/set``
    echoes at full length; ``2..5`` searched by 0.1 proposes ``3.6``."""
    span = high - low
    exponent = (span / GRID_STEPS).adjusted() if span > 0 else 0
    for bound in (low, high):
        digit = _last_digit(bound)
        if digit is not None:
            exponent = min(exponent, digit)
    if places is not None:
        exponent = max(exponent, -places)
    return Decimal(1).scaleb(exponent)


def drawn_decimal(value: float) -> Decimal:
    """A float draw of a Decimal setting as the short Decimal it stands for: optuna's grid
    arithmetic gives ``2.3000000000000003`` for 2.3; ``_DRAW_DIGITS`` significant digits,
    trailing zeros dropped, give back ``2.3``."""
    number = Decimal(repr(value))
    if number:
        number = number.quantize(Decimal(1).scaleb(number.adjusted() - _DRAW_DIGITS + 1))
    return number.normalize() if number != number.to_integral_value() else number.quantize(1)


def _number_choices(field: SettingSpec, key: str, text: str) -> tuple[Choice, ...]:
    """``2,3`` of a number setting: each a value within the bounds, in the setting's type."""
    if GROUPED.fullmatch(text.strip()):
        plain = text.strip().replace(",", "")
        message = (
            f"--space {key}={text}: a comma here may group thousands ({plain}) or separate"
            f" choices; write {plain} to pin it, or lo..hi to search"
        )
        raise _bad(field, key, text, message, reason="grouped")
    picked: list[Choice] = []
    for part in text.split(","):
        value = _number(field, key, part.strip(), "--space", text)
        _check_bounds(field, key, text, value, value)
        picked.append(int(value) if field.kind == "int" else value)
    return tuple(dict.fromkeys(picked))


def risk_dimension(
    key: str, text: str
) -> tuple[str, DimensionKind, float, float, tuple[Choice, ...], float | None]:
    """``(name, kind, low, high, choices, step)`` of the dimension ``key=text`` asks for.

    ``kind`` is ``int``, ``float`` (a Decimal setting, searched as a float on the grid of
    ``step``, see ``grid_step``) or ``categorical`` (``a,b``: a bool's or choice's values, or
    numbers). Raises ``OptimizeInputError`` naming an unknown setting, a bad value or a range
    outside the model's bounds.
    """
    field = _setting(key, "--space", text)
    if field.kind in ("bool", "choice"):
        parts = text.split(",") if text.strip() else list(field.choices)
        picked = tuple(dict.fromkeys(_choice(field, key, p, "--space", text) for p in parts))
        return key, "categorical", 0.0, 0.0, picked, None
    low_text, sep, high_text = text.partition("..")
    if not sep:
        low_text, sep, high_text = text.partition(":")
    if not sep and "," in text:
        return key, "categorical", 0.0, 0.0, _number_choices(field, key, text), None
    if not sep:
        raise _bad(field, key, text, f"--space {key}={text}: expected lo..hi or a,b")
    low = _number(field, key, low_text.strip(), "--space", text)
    high = _number(field, key, high_text.strip(), "--space", text)
    if low > high:
        raise _bad(field, key, text, f"--space {key}={text}: lo is above hi")
    _check_bounds(field, key, text, low, high)
    if field.kind == "int":
        return key, "int", low, high, (), None
    step = grid_step(
        finite_decimal(low_text.strip()), finite_decimal(high_text.strip()), field.places
    )
    return key, "float", low, high, (), float(step)


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
    short Decimal it stands for (``drawn_decimal``: ``1.5`` -> ``Decimal("1.5")``, optuna's
    ``2.3000000000000003`` -> ``2.3``), never a binary expansion, rounded to the digits the
    setting allows (``decimal_places``): a draw of 97.1234 for a two-place setting is 97.12,
    not a trial the model refuses."""
    out: dict[str, object] = {}
    for name, value in risk.items():
        field = spec(RiskSettings, name)
        if field.kind == "decimal" and isinstance(value, float):
            if not math.isfinite(value):
                raise ParamError(f"risk.{name}: {value!r} is not finite")
            number = drawn_decimal(value)
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
