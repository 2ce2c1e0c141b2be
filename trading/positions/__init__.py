"""Per-market positions: flat -> entering -> long -> exiting -> cooldown -> flat.

``apply`` is the pure state machine (one transition table, no I/O, shared by backtest and live);
``PositionBook`` persists each change through the store and restores it on start. Triggers are
in ``trading.positions.triggers``.
"""

from trading.positions.book import PositionBook, PositionStore, from_record, to_extra
from trading.positions.machine import TRANSITIONS, TRIGGER_NAMES, apply, can_enter, is_legal
from trading.positions.model import (
    ExitReason,
    IllegalTransition,
    InvalidTrigger,
    Position,
    PositionError,
    PositionRules,
    PositionState,
)

__all__ = [
    "TRANSITIONS",
    "TRIGGER_NAMES",
    "ExitReason",
    "IllegalTransition",
    "InvalidTrigger",
    "Position",
    "PositionBook",
    "PositionError",
    "PositionRules",
    "PositionState",
    "PositionStore",
    "apply",
    "can_enter",
    "from_record",
    "is_legal",
    "to_extra",
]
