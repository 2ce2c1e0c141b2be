"""The position value, its states, the re-entry rules and the errors of the state machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class PositionState(StrEnum):
    FLAT = "flat"
    ENTERING = "entering"
    LONG = "long"
    EXITING = "exiting"
    COOLDOWN = "cooldown"


class ExitReason(StrEnum):
    """Why a position is being closed; the stop exits (``STOP_EXITS``) earn the longer stop
    cooldown. ``TRAILING``: a stop the trailing rule had raised; ``ROI``: the time-based
    take-profit table; ``TIME``: held ``max_holding_minutes``."""

    STOP = "stop"
    TRAILING = "trailing"
    TAKE_PROFIT = "take_profit"
    ROI = "roi"
    TIME = "time"
    SIGNAL = "signal"
    MANUAL = "manual"
    RISK = "risk"


#: Exit reasons the stoploss guard counts, by value: a string set rather than members, so
#: it holds for reasons added later (``trailing``) and for reasons read back from the store.
STOP_EXITS: frozenset[str] = frozenset({"stop", "trailing"})


class PositionError(Exception):
    """Base of the state machine's errors; all of them name the market."""

    def __init__(self, market: str, message: str) -> None:
        super().__init__(f"{market}: {message}")
        self.market = market


class IllegalTransition(PositionError):
    """The transition table has no row for this trigger in this state."""

    def __init__(self, market: str, state: PositionState, trigger: str) -> None:
        super().__init__(market, f"illegal trigger {trigger!r} in state {state.value!r}")
        self.state = state
        self.trigger = trigger


class InvalidTrigger(PositionError, ValueError):
    """The trigger's data cannot be true: a non-positive fill, an overfill, a foreign intent."""


@dataclass(frozen=True, slots=True)
class PositionRules:
    """Re-entry rules and candle length; cooldowns count whole candles after the exit candle.

    ``same_candle_reentry`` lifts the guard that keeps a signal on the candle an exit filled in
    from re-entering at once (after a manual sell, say). The bot keeps the guard; a backtest
    drops it to follow a plain strategy trade by trade, like other backtesters do.
    """

    timeframe_s: int
    cooldown_candles: int = 0
    stop_cooldown_candles: int = 0
    same_candle_reentry: bool = False

    def __post_init__(self) -> None:
        if self.timeframe_s <= 0:
            raise ValueError("timeframe_s must be positive")
        if self.cooldown_candles < 0 or self.stop_cooldown_candles < 0:
            raise ValueError("cooldowns cannot be negative")


@dataclass(frozen=True, slots=True)
class Position:
    """One market's position; replaced, never mutated, and changed only by ``apply``.

    Money is kept as exact sums (``entry_cost`` = Σ price × volume) rather than averages, so
    any split of partial fills gives the same PnL to the last digit; ``avg_entry_price`` is
    derived for display. ``intent_id`` is the one order in flight: set exactly while
    ``entering`` or ``exiting``. ``exit_bar`` is the start of the candle of the last exit.
    ``dust`` is coin worth less than the minimum order, held apart from the position (it
    blocks nothing) and sold with the next exit; ``dust_cost`` what it cost, buy fees included.
    """

    market: str
    state: PositionState = PositionState.FLAT
    volume: Decimal = ZERO
    entry_volume: Decimal = ZERO
    entry_cost: Decimal = ZERO
    entry_fees: Decimal = ZERO
    exit_volume: Decimal = ZERO
    exit_proceeds: Decimal = ZERO
    exit_fees: Decimal = ZERO
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    #: the trailing rule raised the stop (its hit is a ``trailing`` exit), and the highest
    #: close it trailed from when it last moved: both survive a restart
    stop_trailing: bool = False
    high_water: Decimal | None = None
    #: the stop is still the fallback the ATR stop takes over from at the first candle close
    #: with an ATR (a buy before the warm-up); None: not known, a row stored before it was
    #: kept (``recovery.resume_stops`` derives it)
    stop_atr_pending: bool | None = None
    intent_id: str | None = None
    opened_at: datetime | None = None
    exit_reason: ExitReason | None = None
    exit_bar: datetime | None = None
    cooldown_bars: int = 0
    cooldown_remaining: int = 0
    dust: Decimal = ZERO
    dust_cost: Decimal = ZERO

    @property
    def holding(self) -> Decimal:
        return self.volume + self.dust

    @property
    def avg_entry_price(self) -> Decimal | None:
        if not self.entry_volume:
            return None
        return self.entry_cost / self.entry_volume

    @property
    def avg_exit_price(self) -> Decimal | None:
        if not self.exit_volume:
            return None
        return self.exit_proceeds / self.exit_volume

    @property
    def fees(self) -> Decimal:
        return self.entry_fees + self.exit_fees

    @property
    def in_flight(self) -> bool:
        return self.intent_id is not None
