"""The strategy template: candles in, entry/exit signals out, one vectorized call for every mode.

Live trading, paper trading and the backtester all call ``safe_signals(strategy, frame)``:
live on the rolling window after each candle close (the last element decides), the
backtester once over the whole history. A strategy is pure: it sees read-only views of the
candles and returns boolean arrays; it never touches the network, the store or chat, and
whatever it raises reaches the engine as a ``StrategyError`` (freqtrade's
``strategy_safe_wrapper``).

Contract for authors: ``signals(frame)[i]`` may use bars ``<= i`` only, and once ``i + 1 >=
warmup()`` it must not depend on how many older bars the frame holds. The tests check the
built-in strategies against both rules; it is what makes a backtest predict live trading.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from trading.domain.candle import BarLike
from trading.strategies.params import ParamSpec, check_params_model, parse_params, specs

__all__ = [
    "INTERFACE_VERSION",
    "BarLike",
    "CandleFrame",
    "Signals",
    "Strategy",
    "StrategyError",
    "params_schema",
    "safe_signals",
    "with_params",
]

INTERFACE_VERSION = 1
"""The ``Strategy`` interface this engine speaks; a strategy declares it as ``version``."""

_PRICES = ("open", "high", "low", "close", "volume")


class StrategyError(Exception):
    """User strategy code failed or broke the contract; the engine skips the candle and alerts."""

    def __init__(self, strategy: str, message: str) -> None:
        super().__init__(f"strategy {strategy!r}: {message}")
        self.strategy = strategy
        self.message = message


@dataclass(frozen=True, slots=True)
class CandleFrame:
    """Closed candles oldest first, as columns. ``start`` is int64 UTC epoch seconds.

    Prices are float64: indicators need vector arithmetic, while orders and PnL stay Decimal.
    """

    start: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", np.asarray(self.start, dtype=np.int64))
        for name in _PRICES:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        shapes = {name: getattr(self, name).shape for name in ("start", *_PRICES)}
        if any(len(shape) != 1 for shape in shapes.values()) or len(set(shapes.values())) > 1:
            raise ValueError(f"candle columns must be 1-D and of equal length, got {shapes}")
        if len(self.start) > 1 and not bool(np.all(np.diff(self.start) > 0)):
            raise ValueError("candle starts must be strictly increasing")

    @classmethod
    def from_bars(cls, bars: Sequence[BarLike]) -> CandleFrame:
        """Columns from candles; starts must be timezone-aware."""
        if any(bar.start.tzinfo is None for bar in bars):
            raise ValueError("candle starts must be timezone-aware datetimes")
        count = len(bars)
        start = np.fromiter((int(b.start.timestamp()) for b in bars), np.int64, count)
        columns = {
            name: np.fromiter((getattr(b, name) for b in bars), np.float64, count)
            for name in _PRICES
        }
        return cls(start=start, **columns)

    def __len__(self) -> int:
        return len(self.start)

    def __getitem__(self, index: slice) -> CandleFrame:
        """A contiguous sub-frame (views, no copy): ``frame[:i]`` is the history up to bar i."""
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("a CandleFrame can only be sliced contiguously, like frame[a:b]")
        return CandleFrame(**{f.name: getattr(self, f.name)[index] for f in _FIELDS})

    def tail(self, n: int) -> CandleFrame:
        """The last ``n`` candles (all of them when fewer): the live rolling window."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self[len(self) - min(n, len(self)) :]

    def frozen_copy(self) -> CandleFrame:
        """A copy whose arrays are read-only and own their memory."""
        copies = {}
        for field in _FIELDS:
            array = getattr(self, field.name).copy()
            array.flags.writeable = False
            copies[field.name] = array
        return CandleFrame(**copies)

    def read_only(self) -> CandleFrame:
        """Read-only views of the same memory (no copy): what user code is given.

        A write through a view raises ``ValueError: assignment destination is read-only``,
        which guards against accidental mutation. It is not a sandbox: code that sets
        ``flags.writeable = True`` on a view of a writeable array can write through it; a
        strategy is trusted code (see ``registry``), copying every column on every call would
        cost more than the strategy itself on long histories.
        """
        views = {}
        for field in _FIELDS:
            view = getattr(self, field.name).view()
            view.flags.writeable = False
            views[field.name] = view
        return _trusted(views)


_FIELDS = dataclasses.fields(CandleFrame)


def _trusted(columns: dict[str, Any]) -> CandleFrame:
    """A ``CandleFrame`` of columns taken from a valid frame: no dtype, shape or order checks
    again (they are full passes over every column)."""
    frame = object.__new__(CandleFrame)
    for name, array in columns.items():
        object.__setattr__(frame, name, array)
    return frame


@dataclass(frozen=True, slots=True)
class Signals:
    """Per-bar booleans aligned with the frame, and one reason text per kind for the alerts.

    Signals are levels, not orders: the engine enters on ``entry`` when flat and exits on
    ``exit`` when holding. ``safe_signals`` clears ``entry`` where ``exit`` is also set.

    ``entry_trigger`` (optional, float64, NaN = none) is an intra-candle entry: a price level
    at which to buy *during* bar i, on the first trade print at or above it (the level put
    on the tick grid, rounded up). ``entry_trigger[i]`` may use the bars before i and the
    open of bar i only: live, the engine arms it when bar i opens (``trading.engine.triggers``);
    the backtester finds the crossing inside the candles (``trading.backtest.triggers``).
    """

    entry: NDArray[np.bool_]
    exit: NDArray[np.bool_]
    entry_reason: str = ""
    exit_reason: str = ""
    entry_trigger: NDArray[np.float64] | None = None


P = TypeVar("P", bound=BaseModel)


class Strategy(ABC, Generic[P]):
    """Base of every strategy. Subclasses set ``name``, ``version``, ``Params``; write ``signals``.

    ``Params`` is a frozen pydantic model (subclass ``StrategyParams``) whose every numeric field
    has ``Field(ge=..., le=..., description=...)``; it is checked when the class is defined.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    Params: ClassVar[type[BaseModel]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls.signals, "__isabstractmethod__", False):
            return  # an intermediate base; checked when made concrete
        owner = cls.__qualname__
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{owner} must set a class attribute name: ClassVar[str]")
        if getattr(cls, "version", None) != INTERFACE_VERSION:
            raise TypeError(f"{owner}.version must be {INTERFACE_VERSION} (the interface version)")
        check_params_model(getattr(cls, "Params", None), owner)

    def __init__(self, params: P | None = None) -> None:
        if params is None:
            params = cast(P, self.Params())
        if type(params) is not self.Params:
            raise TypeError(f"{self.name} needs {self.Params.__name__}, got {type(params)!r}")
        self.params: P = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    @abstractmethod
    def warmup(self) -> int:
        """Bars the frame needs, up to and including bar i, before ``signals()[i]`` is valid."""

    def warmup_for(self, timeframe_s: int) -> int:
        """``warmup()`` for candles of ``timeframe_s`` seconds: a strategy whose window is
        counted in days (the volatility breakout's "previous day") needs more bars on
        shorter candles. The engine and the backtester ask this one."""
        del timeframe_s
        return self.warmup()

    @abstractmethod
    def signals(self, frame: CandleFrame) -> Signals:
        """Entry/exit booleans of ``len(frame)``; bar i may use bars <= i only."""


def safe_signals(strategy: Strategy[Any], frame: CandleFrame) -> Signals:
    """Run ``strategy.signals`` on read-only views of the frame; any failure becomes a
    ``StrategyError``.

    The views (``CandleFrame.read_only``) share the caller's memory: an accidental write in
    strategy code raises (and becomes a ``StrategyError``) instead of corrupting the engine's
    or the backtester's candles, at no cost; a deliberate ``flags.writeable = True`` is not
    stopped (strategies are trusted code, not sandboxed). A full copy per call was the
    single largest cost of a backtest over a long history. The returned signals are copied,
    so a strategy keeping a reference to them cannot change them later.

    Floating-point warnings are silenced inside strategy code (NaN warm-ups are the norm).
    Only ``Exception`` is caught: cancellation and interrupts pass through.
    """
    name = getattr(strategy, "name", type(strategy).__name__)
    try:
        with np.errstate(all="ignore"):
            result = strategy.signals(frame.read_only())
    except Exception as exc:
        raise StrategyError(name, f"signals() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, Signals):
        raise StrategyError(name, f"signals() returned {type(result).__name__}, not Signals")
    arrays = {}
    for kind in ("entry", "exit"):
        array = getattr(result, kind)
        if not isinstance(array, np.ndarray) or array.dtype != np.bool_:
            got = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
            raise StrategyError(name, f"signals().{kind} must be a bool numpy array, got {got}")
        if array.shape != (len(frame),):
            raise StrategyError(
                name, f"signals().{kind} has shape {array.shape}, expected ({len(frame)},)"
            )
        arrays[kind] = array.copy()
    arrays["entry"] &= ~arrays["exit"]
    for array in arrays.values():
        array.flags.writeable = False
    trigger = _checked_trigger(name, result.entry_trigger, len(frame))
    return Signals(
        arrays["entry"], arrays["exit"], result.entry_reason, result.exit_reason, trigger
    )


def _checked_trigger(name: str, trigger: object, length: int) -> NDArray[np.float64] | None:
    """A read-only copy of ``entry_trigger`` (float64 of the frame's length), or None."""
    if trigger is None:
        return None
    if not isinstance(trigger, np.ndarray) or trigger.dtype != np.float64:
        got = trigger.dtype if isinstance(trigger, np.ndarray) else type(trigger).__name__
        raise StrategyError(name, f"signals().entry_trigger must be a float64 array, got {got}")
    if trigger.shape != (length,):
        raise StrategyError(
            name, f"signals().entry_trigger has shape {trigger.shape}, expected ({length},)"
        )
    out = trigger.copy()
    out.flags.writeable = False
    return out


def params_schema(strategy_cls: type[Strategy[Any]]) -> list[ParamSpec]:
    """The strategy's parameters (name, type, default, bounds, description) for chat/optimizer."""
    return specs(strategy_cls.Params)


S = TypeVar("S", bound=Strategy[Any])


def with_params(strategy: S, **changes: object) -> S:
    """A new strategy of the same class with ``changes`` applied and validated.

    Raises ``ParamError`` (a ``ValueError``) naming the key, the value and the bounds.
    """
    values = {**strategy.params.model_dump(), **changes}
    return type(strategy)(parse_params(strategy.Params, values))
