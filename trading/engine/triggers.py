"""Intra-candle entry triggers, live: arm the strategy's level when a candle opens, buy on the
trade print that reaches it.

A strategy may give an ``entry_trigger`` level per candle (``Signals``; the volatility
breakout's day open + k x the previous day's range), computed from the closed candles and the
open of the candle it is for. When a market's candle opens (its first print), the engine
asks the strategy with that candle's open and arms the level, put on the tick grid (rounded
up: the lowest price a trade at or above the target can print at). Every print of the candle
is then compared with it; the first one at or above it buys through the usual risk gate, if
the position may enter (``can_enter(intrabar=True)``: flat, or a cooldown with no candle
left, even in the candle an exit filled in). A level fires at most once per candle; while
the position cannot enter it stays armed for the candle's later prints. The candle in
progress when the engine starts (or a market joins) is not armed: the price it opened at
was not seen (a restart mid-day on day candles waits for the next day).

Paper replays draw each candle as four prints (open, extremes, close) that jump over most
levels. ``crossing`` tells the engine loop that a print jumps over the armed level from below
inside its candle, and the loop shows a print at the level first, so the paper exchange fills
there: what the backtester assumes (``trading.backtest.triggers``). A candle that opens at or
above the level buys at its open (a gap), live, paper and backtest alike.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trading.domain import Bar, TradePrint
from trading.domain.rules import MarketRules, Rounding
from trading.strategies import CandleFrame, Strategy, safe_signals
from trading.timeframes import bucket_start, timeframe_seconds

if TYPE_CHECKING:
    from trading.engine.core import Engine

__all__ = ["Armed", "EntryTriggers", "trigger_level"]

log = logging.getLogger(__name__)


def trigger_level(rules: MarketRules, market: str, value: float) -> Decimal | None:
    """The strategy's float level as a price on the tick grid, rounded up; None if unset."""
    if not math.isfinite(value) or value <= 0:
        return None
    exact = Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    return rules.round_price(market, exact, Rounding.UP)


@dataclass(slots=True)
class Armed:
    """The level armed for one market's candle ``start``; ``level`` None: nothing to buy."""

    start: datetime
    level: Decimal | None = None
    reason: str = ""
    last: Decimal | None = None  # the candle's last print so far


class EntryTriggers:
    """The engine's armed levels, one per market (the candle being built)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._armed: dict[str, Armed] = {}
        self._plain: Strategy[Any] | None = None  # a strategy seen without triggers
        self._short: Strategy[Any] | None = None  # a strategy the history is too short for

    def armed(self, market: str) -> Armed | None:
        return self._armed.get(market)

    def crossing(self, print_: TradePrint) -> Decimal | None:
        """The armed level if ``print_`` jumps over it from below inside its candle and the
        position may enter: a paper replay shows a print at the level first."""
        armed = self._armed.get(print_.market)
        if armed is None or armed.level is None or armed.last is None:
            return None
        if not armed.last < armed.level < print_.price:
            return None
        seconds = timeframe_seconds(self.engine.config.timeframe)
        if bucket_start(print_.at, seconds) != armed.start:
            return None  # the first print of the next candle: a gap fills at its open
        if not self._may_enter(print_.market, armed.start):
            return None
        return armed.level

    async def on_print(self, print_: TradePrint) -> None:
        """Arm on a candle's first print, then buy if this print reaches the level."""
        engine = self.engine
        market = print_.market
        if self._plain is engine.strategy or market not in engine.config.markets:
            return
        forming = engine.market_data.builder(market).open_bar
        if forming is None:
            return
        armed = self._armed.get(market)
        if armed is None:
            # the first print since the start (or since the market joined): the candle may
            # have opened before it, at another price; its open is unknown, so it is skipped
            armed = self._armed[market] = Armed(forming.start)
        elif armed.start != forming.start:
            armed = self._arm(market, forming)
        armed.last = print_.price
        level = armed.level
        if level is None or print_.price < level or not self._may_enter(market, armed.start):
            return
        armed.level = None  # once per candle, approved or not
        engine.signal_raised(market, "enter", level, armed.reason)
        await engine.enter_on_trigger(market, level, print_.at, armed.reason)

    def _may_enter(self, market: str, start: datetime) -> bool:
        return self.engine.positions.can_enter(market, start, intrabar=True)[0]

    def _arm(self, market: str, forming: Bar) -> Armed:
        engine = self.engine
        strategy = engine.strategy
        armed = self._armed[market] = Armed(forming.start)
        seconds = timeframe_seconds(engine.config.timeframe)
        # the candle's signal is valid once the frame up to it is warm (as on_bar's)
        warm = max(strategy.warmup_for(seconds), engine.limits.atr_period + 1)
        history = engine.market_data.history(market)
        if len(history) + 1 < warm:
            keeps = engine.market_data.builder(market).maxlen
            if keeps < warm - 1 and self._short is not strategy:
                self._short = strategy  # said once per strategy
                log.warning(
                    "%s: %s needs %d candles of history, the engine keeps %d: no entry"
                    " trigger is armed (a longer timeframe needs fewer candles)",
                    market,
                    strategy.name,
                    warm - 1,
                    keeps,
                )
            return armed
        frame = CandleFrame.from_bars([*history[len(history) + 1 - warm :], forming])
        signals = safe_signals(strategy, frame)
        if signals.entry_trigger is None:
            self._plain = strategy  # none now, none ever: not asked again
            return armed
        armed.level = trigger_level(
            engine.exchange.rules, market, float(signals.entry_trigger[-1])
        )
        armed.reason = signals.entry_reason or "entry trigger"
        return armed
