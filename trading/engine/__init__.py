"""The trading engine: candles -> signals -> risk -> orders -> positions, in the bot's loop."""

from trading.engine.account import Account, AccountView
from trading.engine.core import Engine, EngineConfig

__all__ = ["Account", "AccountView", "Engine", "EngineConfig"]
