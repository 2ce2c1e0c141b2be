"""The ``risk`` section: the one ``RiskSettings`` model of ``trading.risk.settings``.

The file, ``/set``, the restore on start and the engine share that model, so a value the
file refuses is one chat refuses too, with the same bounds. ``HaltWindow`` is the model
``/schedule`` validates windows with.
"""

from __future__ import annotations

from trading.risk.halts import WEEKDAYS, HaltWindow, Weekday
from trading.risk.settings import RiskSettings

__all__ = ["WEEKDAYS", "HaltWindow", "RiskConfig", "Weekday"]


class RiskConfig(RiskSettings):
    """Pre-trade checks, loss limits, ATR stops, take profit, cooldowns and halts."""
