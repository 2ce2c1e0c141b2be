"""The venue this bot trades on, for the parts that need its rules without its client.

Paper trading, backtests, the optimizer and the chat's price formatting all use Upbit's price
grid and order limits; this is the one place outside the adapter that names them (a light
import: the backtest CLI starts fast). The live client refreshes its own copy from Upbit.
"""

from __future__ import annotations

from trading.domain.rules import MarketRules
from trading.upbit.market_rules import UpbitMarketRules


def market_rules() -> MarketRules:
    """Upbit's published tick table and limits, without per-market exceptions."""
    return UpbitMarketRules()
