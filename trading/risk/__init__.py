"""The risk layer: pre-trade checks, scheduled and market halts, ATR stops.

Pure of chat and of ``bot``: the bot builds ``RiskLimits`` from its config, the engine calls
``RiskGate.check_entry`` before every buy and keeps a ``TrailingStop`` per position; denials
and halts leave as events (``RiskBreached``, ``HaltChanged``, ``StopMoved``).
"""

from trading.risk.breakers import (
    DailyLossBreaker,
    DrawdownBreaker,
    ScheduleGuard,
    VolatilityFilter,
)
from trading.risk.decision import Approved, Decision, Denied, LimitUsage, krw, trading_day
from trading.risk.gate import (
    ORDER,
    EntryRequest,
    FillEstimator,
    RiskContext,
    RiskGate,
    RiskState,
)
from trading.risk.halts import WEEKDAYS, HaltSchedule, HaltWindow, Weekday
from trading.risk.limits import RiskLimits
from trading.risk.measures import atr, atr_pct, fill_price_from_asks, realized_vol_pct
from trading.risk.stops import ExitReason, TrailingStop

__all__ = [
    "ORDER",
    "WEEKDAYS",
    "Approved",
    "DailyLossBreaker",
    "Decision",
    "Denied",
    "DrawdownBreaker",
    "EntryRequest",
    "ExitReason",
    "FillEstimator",
    "HaltSchedule",
    "HaltWindow",
    "LimitUsage",
    "RiskContext",
    "RiskGate",
    "RiskLimits",
    "RiskState",
    "ScheduleGuard",
    "TrailingStop",
    "VolatilityFilter",
    "Weekday",
    "atr",
    "atr_pct",
    "fill_price_from_asks",
    "krw",
    "realized_vol_pct",
    "trading_day",
]
