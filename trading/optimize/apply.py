"""Putting the best parameters to use: a config TOML snippet and the ``/set`` commands.

``/set`` changes one parameter at a time and validates the whole parameter set after each
change, so order matters: moving ma_cross from 10/30 to 50/120 must raise ``slow`` before
``fast``. ``set_commands`` finds an order in which every intermediate set is valid.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

from trading.strategies.base import Strategy
from trading.strategies.params import ParamError, parse_params

__all__ = ["set_commands", "toml_snippet", "toml_value"]

_MAX_PERMUTED = 7  # 7! = 5040 orders at most; beyond that, try the given order only


def toml_value(value: object) -> str:
    """One TOML value: bool, int, float (round-trip exact) or a basic string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no TOML form the config accepts")
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid TOML


def toml_snippet(
    strategy: str,
    timeframe: str,
    params: Mapping[str, object],
    comments: tuple[str, ...] = (),
    file: str = "",
) -> str:
    """``[strategy]`` with ``name``/``timeframe`` (and ``file`` for a user strategy) and
    ``[strategy.params]``, ready to paste into the config."""
    lines = [f"# {line}" for line in comments]
    lines += [
        "[strategy]",
        f"name = {toml_value(strategy)}",
        f"timeframe = {toml_value(timeframe)}",
    ]
    if file:
        lines.append(f"file = {toml_value(file)}")
    lines += ["", "[strategy.params]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in params.items()]
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _valid(cls: type[Strategy[Any]], values: Mapping[str, object]) -> bool:
    try:
        parse_params(cls.Params, values)
    except ParamError:
        return False
    return True


def set_commands(
    cls: type[Strategy[Any]],
    best: Mapping[str, object],
    current: Mapping[str, object] | None = None,
) -> tuple[list[str], bool]:
    """``/set strategy.KEY VALUE`` lines taking ``current`` (default: the strategy's defaults)
    to ``best``, in an order where each step is valid; ``(lines, ordered)``. ``ordered`` is
    False when no such order exists (then the lines are in declaration order)."""
    start: dict[str, object] = cls.Params().model_dump()
    if current:
        start.update(current)
    changes = [key for key, value in best.items() if start.get(key) != value]
    orders: Any = (
        itertools.permutations(changes) if len(changes) <= _MAX_PERMUTED else iter([changes])
    )
    chosen: tuple[str, ...] | None = None
    for order in orders:
        values = dict(start)
        for key in order:
            values[key] = best[key]
            if not _valid(cls, values):
                break
        else:
            chosen = tuple(order)
            break
    keys = chosen if chosen is not None else tuple(changes)
    return [f"/set strategy.{key} {_text(best[key])}" for key in keys], chosen is not None
