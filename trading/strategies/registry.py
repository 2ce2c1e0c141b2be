"""Finding strategies: the built-ins by name, or a user's own ``.py`` file.

``REGISTRY`` is a read-only mapping built at import, so nothing can register a strategy
behind the engine's back. A user file is ordinary trusted Python run in-process (like a
freqtrade strategy file), not a security sandbox: the isolation is ``safe_signals``. It runs
with every secret of the bot in reach, so it is loaded only from a path its owner controls
(``trust.untrusted_reason``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trading.strategies.base import Strategy
from trading.strategies.ma_cross import MaCross
from trading.strategies.momentum import Momentum
from trading.strategies.params import parse_params
from trading.strategies.trust import untrusted_reason
from trading.strategies.volatility_breakout import VolatilityBreakout

__all__ = [
    "REGISTRY",
    "StrategyLoadError",
    "UntrustedStrategyFile",
    "build_strategy",
    "get_strategy",
    "load_strategy_file",
]

REGISTRY: Mapping[str, type[Strategy[Any]]] = MappingProxyType(
    {cls.name: cls for cls in (MaCross, Momentum, VolatilityBreakout)}
)


class StrategyLoadError(ValueError):
    """No strategy could be found by that name or loaded from that file."""


class UntrustedStrategyFile(StrategyLoadError):
    """A strategy file someone other than its owner could have written: never imported."""


def get_strategy(name: str) -> type[Strategy[Any]]:
    """The built-in strategy class called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise StrategyLoadError(f"unknown strategy {name!r} (known: {known})") from None


def _is_concrete_strategy(obj: object) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, Strategy)
        and not getattr(obj.signals, "__isabstractmethod__", False)
    )


def load_strategy_file(path: Path) -> type[Strategy[Any]]:
    """Import ``path`` and return the one concrete ``Strategy`` subclass it defines.

    Classes imported into the file (``from trading.strategies import MaCross``) do not count.
    The module is kept in ``sys.modules`` under a name derived from the resolved path (pydantic
    resolves postponed annotations there); loading the file again replaces it.
    """
    path = Path(path)
    if path.suffix != ".py":
        raise StrategyLoadError(f"{path}: a strategy file must be a .py file")
    if not path.is_file():
        raise StrategyLoadError(f"{path}: no such strategy file")
    reason = untrusted_reason(path)
    if reason is not None:
        raise UntrustedStrategyFile(f"{path}: refused to run this strategy file: {reason}")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"_user_strategy_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user file may fail in any way; say which file and why
        del sys.modules[module_name]
        raise StrategyLoadError(f"{path}: failed to import: {type(exc).__name__}: {exc}") from exc
    found: list[type[Strategy[Any]]] = [
        obj
        for obj in vars(module).values()
        if _is_concrete_strategy(obj) and obj.__module__ == module_name
    ]
    if len(found) != 1:
        del sys.modules[module_name]
        names = ", ".join(cls.__name__ for cls in found) or "none"
        raise StrategyLoadError(
            f"{path}: must define exactly one Strategy subclass, found {len(found)} ({names})"
        )
    return found[0]


def build_strategy(name: str, file: str, params: Mapping[str, object]) -> Strategy[Any]:
    """The configured strategy: from ``file`` when it is non-empty, else the built-in ``name``.

    ``params`` are validated by the strategy's model; a refusal is a ``ParamError``
    (a ``ValueError``) naming the key, the value and the bounds.
    """
    cls = load_strategy_file(Path(file)) if file else get_strategy(name)
    return cls(parse_params(cls.Params, params))
