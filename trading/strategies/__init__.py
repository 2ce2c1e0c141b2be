"""Trading strategies: pure functions of closed candles that return entry/exit signals.

Write one by subclassing ``Strategy`` with a ``StrategyParams`` model; run it only through
``safe_signals``. Built-ins: ``ma_cross``, ``momentum``, ``volatility_breakout``.
"""

from trading.strategies.base import (
    INTERFACE_VERSION,
    BarLike,
    CandleFrame,
    Signals,
    Strategy,
    StrategyError,
    params_schema,
    safe_signals,
    with_params,
)
from trading.strategies.ma_cross import MaCross, MaCrossParams
from trading.strategies.momentum import Momentum, MomentumParams
from trading.strategies.params import ParamError, ParamSpec, StrategyParams
from trading.strategies.registry import (
    REGISTRY,
    StrategyLoadError,
    UntrustedStrategyFile,
    build_strategy,
    get_strategy,
    load_strategy_file,
)
from trading.strategies.volatility_breakout import VolatilityBreakout, VolatilityBreakoutParams

__all__ = (
    "INTERFACE_VERSION",
    "REGISTRY",
    "BarLike",
    "CandleFrame",
    "MaCross",
    "MaCrossParams",
    "Momentum",
    "MomentumParams",
    "ParamError",
    "ParamSpec",
    "Signals",
    "Strategy",
    "StrategyError",
    "StrategyLoadError",
    "StrategyParams",
    "UntrustedStrategyFile",
    "VolatilityBreakout",
    "VolatilityBreakoutParams",
    "build_strategy",
    "get_strategy",
    "load_strategy_file",
    "params_schema",
    "safe_signals",
    "with_params",
)
