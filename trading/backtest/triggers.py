"""Intra-candle entry triggers in the backtest: where the live engine's ``EntryTriggers`` buys.

A strategy's ``entry_trigger`` level for candle i is armed when the candle opens; paper replay
draws the candle as four prints (open, nearer extreme, other extreme, close;
``trading.marketdata.replay``) and the engine buys on the first print at or above the level
(the level on the tick grid, rounded up) while the position may enter. A print that jumps
over the level from below inside the candle is preceded by a print at the level
(``EngineLoop``), so the buy fills at the level; a candle that opens at or above it fills at
its open. Over whole arrays that is: the first candle whose high reaches the level
(vectorised), filled at ``max(level, open)``, and exited by the strategy's own exit signal
(the volatility breakout's: the last candle of the UTC day, so the next day's open).

After an exit the position may enter again as the engine's position machine allows an
intra-candle entry (``can_enter(intrabar=True)``): later in the exit's own candle when no
cooldown candle is left, else after the cooldown (``trigger_delay``). A level fires once per
candle: a refused entry waits for the next candle's level.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from trading.backtest.rules import after_exit
from trading.backtest.stops import FRACTIONS, dec, print_path
from trading.domain.rules import MarketRules
from trading.engine.triggers import trigger_level
from trading.positions import ExitReason, PositionRules
from trading.strategies import CandleFrame

__all__ = ["TriggerFill", "TriggerPlan", "trigger_delay"]


@dataclass(frozen=True, slots=True)
class TriggerFill:
    """Where a trigger buys: candle ``bar``, its print ``print_index`` (0..3) at ``price``."""

    bar: int
    print_index: int
    price: float  # the level, or the print that reached it first (an open above it)
    level: Decimal  # the signal price the risk gate sees
    judge_from: int  # the first print of the candle the stop judges after the buy


class TriggerPlan:
    """One market's trigger candles, and the next fill from a given candle and print on."""

    def __init__(
        self,
        market: str,
        frame: CandleFrame,
        levels: NDArray[np.float64],
        first: int,
        rules: MarketRules,
        delays: dict[ExitReason, int],
    ) -> None:
        self.market = market
        self.frame = frame
        self.levels = levels
        self.rules = rules
        self.delays = delays
        with np.errstate(invalid="ignore"):
            reached = frame.high >= levels  # NaN: not armed
        reached[:first] = False
        self.bars: list[int] = np.flatnonzero(reached).tolist()
        self.allowed = (0, 0)  # (candle, print) from which the position may enter again
        self.pending: TriggerFill | None = None  # the fill queued in the backtest's heap

    def exited(self, bar: int, print_index: int, reason: ExitReason) -> int:
        """The position exited at ``print_index`` of candle ``bar``: the candle from which a
        trigger may buy again (its print in ``allowed``)."""
        delay = self.delays[reason]
        self.allowed = (bar, print_index + 1) if delay == 0 else (bar + delay, 0)
        if self.allowed[1] > 3:
            self.allowed = (bar + 1, 0)
        return self.allowed[0]

    def next(self, after: int) -> TriggerFill | None:
        """The first fill in candles >= ``after`` and at or after ``allowed``; kept pending."""
        bar0, print0 = self.allowed
        after = max(after, bar0)
        k = bisect_left(self.bars, after)
        fill = None
        while fill is None and k < len(self.bars):
            bar = self.bars[k]
            fill = self._fill(bar, print0 if bar == bar0 else 0)
            k += 1
        self.pending = fill
        return fill

    def _fill(self, bar: int, start: int) -> TriggerFill | None:
        level = trigger_level(self.rules, self.market, float(self.levels[bar]))
        if level is None:
            return None
        path = print_path(self.frame, bar)
        for index in range(start, 4):
            price = dec(path[index])
            if price < level:
                continue
            if index > 0 and dec(path[index - 1]) < level < price:
                # the replay's print at the level goes first; this print is judged after it
                return TriggerFill(bar, index, float(level), level, index)
            return TriggerFill(bar, index, path[index], level, index + 1)
        return None


def trigger_delay(rules: PositionRules, reason: ExitReason) -> int:
    """Candles after the exit candle until a trigger may buy again (0: later in the exit
    candle itself), from the real position machine (as ``rules.reentry_delay``)."""
    return after_exit(rules, reason, intrabar=True)


def trigger_plan(
    market: str,
    frame: CandleFrame,
    levels: NDArray[np.float64] | None,
    first: int,
    market_rules: MarketRules,
    rules: PositionRules,
) -> TriggerPlan | None:
    """The market's ``TriggerPlan`` if the strategy gave entry triggers, else None."""
    if levels is None:
        return None
    delays = {reason: trigger_delay(rules, reason) for reason in ExitReason}
    return TriggerPlan(market, frame, levels, first, market_rules, delays)


def print_price(frame: CandleFrame, start0: int, tf: int, at_us: int, before_me: bool) -> float:
    """The last print of a contiguous ``frame`` at ``at_us`` (µs) in a replay (markets merged
    by time, ties in market order: a print at ``at_us`` counts if its market comes first)."""
    span = tf * 1_000_000
    offset = at_us - start0 * 1_000_000
    k = offset // span
    if k < 0:
        return float(frame.close[0])
    if k >= len(frame):
        return float(frame.close[-1])
    into = offset - k * span
    seen = [i for i, us in enumerate(print_offsets(tf)) if us < into or (us == into and before_me)]
    if not seen:
        return float(frame.close[max(k - 1, 0)])
    return print_path(frame, k)[seen[-1]]


def print_offsets(tf: int) -> tuple[int, ...]:
    """When in a candle of ``tf`` seconds each replay print comes, in µs."""
    return tuple(int(tf * 1_000_000 * f) for f in FRACTIONS)
