"""ATR trailing stop and take-profit for a long position.

While the ATR stop is on (``atr_mult`` > 0) a position has a stop from the moment it is long:

* **ATR stop**: ``highest close since entry - mult * ATR`` (at the entry, the entry itself is
  the highest close), recomputed at every closed candle.
* **Fallback**: until the ATR can be computed (a manual buy before the warm-up, a longer
  ``atr_period`` set live), ``entry * (1 - fallback_pct / 100)``. The ATR stop takes over as
  soon as there is an ATR, from the highest close since the entry, like any later move: only
  when it is higher. A stop a trader has seen is never lowered, so the fallback is the floor
  until the ATR trail passes it (and the position book refuses a lower stop anyway).
* **Minimum distance**: every stop stays at least ``min_distance_pct`` below the price it
  trails from (the entry at first, then the highest close) and at least one tick of that
  price's band below it. Without it a flat market (ATR 0) would put the stop on the highest
  close and sell one tick under the entry with no signal.

The stop is never loosened: a wider ATR after a spike must not move risk back up, so each
candidate only counts when it is above the current stop. Stops round down and take-profits up
onto the tick grid, so the order price Upbit receives is valid and never tighter than computed.

``atr_mult`` 0 means no ATR stop: only the take-profit (if any) is watched.

Per candle the engine asks ``should_exit(bar)`` only for a candle the stop watched from its
start (``covers``): prints before the fill must not sell the position they preceded. Then it
calls ``update(bar, atr)`` at the candle's close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from trading.domain import Bar
from trading.events import EventSink, StopMoved, ignore_event
from trading.risk.decision import price as fmt_price
from trading.upbit.market_rules import MarketRules, Rounding


@dataclass(frozen=True, slots=True)
class ExitReason:
    """Why to sell: ``price`` is the trigger, or the open when the bar gapped through it."""

    kind: Literal["stop", "take_profit"]
    price: Decimal
    text: str


class TrailingStop:
    """State of one long position's stop; rebuild it after a restart with the stored values."""

    def __init__(
        self,
        *,
        market: str,
        entry_price: Decimal,
        atr_mult: Decimal,
        rules: MarketRules,
        stop: Decimal | None,
        highest_close: Decimal,
        min_distance_pct: Decimal,
        take_profit: Decimal | None = None,
        since: datetime | None = None,
        sink: EventSink = ignore_event,
    ) -> None:
        self.market = market
        self.entry_price = entry_price
        self.atr_mult = atr_mult
        self.rules = rules
        self.stop = stop
        self.highest_close = highest_close
        self.min_distance_pct = min_distance_pct  # fixed for the stop's life
        self._keep = 1 - min_distance_pct / 100  # what the minimum distance leaves of a price
        self._band: tuple[Decimal, Decimal, Decimal] | None = None  # lower, upper, tick
        self.take_profit = take_profit
        self.since = since  # market time from which it watches prices (None: always did)
        self._sink = sink

    @classmethod
    def open(
        cls,
        *,
        market: str,
        entry_price: Decimal,
        atr: Decimal | None,
        atr_mult: Decimal,
        rules: MarketRules,
        fallback_pct: Decimal,
        min_distance_pct: Decimal,
        take_profit_pct: Decimal = Decimal(0),
        highest_close: Decimal | None = None,
        since: datetime | None = None,
        at: datetime | None = None,
        sink: EventSink = ignore_event,
    ) -> TrailingStop:
        """A position's stop (announced as ``StopMoved(old=None)``) and take-profit.

        ``atr`` None: not computable yet, the fallback stands in. ``highest_close``: for a
        position open for a while already (stops switched on live, a restart without a
        stored stop), the highest close since its entry, to trail from as it would have.
        """
        tp = None
        if take_profit_pct > 0:
            target = entry_price * (1 + take_profit_pct / 100)
            tp = rules.round_price(market, target, Rounding.UP)
        stop = cls(
            market=market,
            entry_price=entry_price,
            atr_mult=atr_mult,
            rules=rules,
            stop=None,
            highest_close=max(entry_price, highest_close or entry_price),
            min_distance_pct=min_distance_pct,
            take_profit=tp,
            since=since,
            sink=sink,
        )
        if atr_mult > 0:
            if atr is None:
                stop._raise_to(entry_price * (1 - fallback_pct / 100), entry_price, at)
            else:
                high = stop.highest_close
                stop._raise_to(high - atr_mult * atr, high, at)
        return stop

    def update(self, bar: Bar, atr: Decimal | None) -> Decimal | None:
        """Trail after a closed candle; returns the (possibly unchanged) stop.

        The highest close is tracked even while there is no ATR, so the ATR stop that takes
        over from the fallback trails from the highest close since the entry.
        """
        return self.trail(bar.close, bar.end, atr)

    def trail(self, close: Decimal, at: datetime, atr: Decimal | None) -> Decimal | None:
        """``update`` from a candle's close and end time alone (the backtester has columns,
        not ``Bar`` objects)."""
        if close > self.highest_close:
            self.highest_close = close
        if self.atr_mult > 0 and atr is not None:
            high = self.highest_close
            self._raise_to(high - self.atr_mult * atr, high, at)
        return self.stop

    def covers(self, bar: Bar) -> bool:
        """Whether the stop watched all of ``bar``: it was in place before the candle began.

        Only then may the whole candle be judged (a candle closed without its prints passing
        the stop: a quiet candle closed on time, a gap filled flat). A candle the position
        was bought in is judged by its prints after the fill, each as it comes.
        """
        return self.since is None or self.since < bar.start

    def ceiling(self, ref: Decimal) -> Decimal:
        """The highest stop allowed under ``ref`` (the price it trails from): the minimum
        distance below it, and at least one tick of ``ref``'s band below it."""
        band = self._band
        if band is None or not band[0] <= ref < band[1]:
            band = self._band = _band_of(self.rules.tick_bands(self.market), ref)
        by_share, by_tick = ref * self._keep, ref - band[2]
        return by_share if by_share < by_tick else by_tick

    def _round_down(self, price: Decimal) -> Decimal:
        """The stop's price on the tick grid, rounded down. The band ``ceiling`` just looked
        up usually holds it: then one division instead of ``round_price``'s look-ups (a
        backtest trails thousands of times)."""
        band = self._band
        if band is not None:
            new = _floor_in(band, price)
            if new is not None:
                return new
        return self.rules.round_price(self.market, price, Rounding.DOWN)

    def should_exit(self, bar_or_price: Bar | Decimal) -> ExitReason | None:
        """Stop hit when the low reaches it; take-profit when the high does. Stop wins a tie.

        Within one candle the order of low and high is unknown, so assuming the stop came
        first keeps a backtest from booking profits it might not have made.
        """
        if isinstance(bar_or_price, Bar):
            low, high, open_ = bar_or_price.low, bar_or_price.high, bar_or_price.open
        else:
            low = high = open_ = bar_or_price
        if self.stop is not None and low <= self.stop:
            fill = min(open_, self.stop)
            return ExitReason(
                "stop",
                fill,
                f"{self.market} fell to {fmt_price(low)} KRW, at or below the stop"
                f" {fmt_price(self.stop)} KRW",
            )
        if self.take_profit is not None and high >= self.take_profit:
            fill = max(open_, self.take_profit)
            return ExitReason(
                "take_profit",
                fill,
                f"{self.market} reached {fmt_price(high)} KRW, at or above the take-profit"
                f" {fmt_price(self.take_profit)} KRW",
            )
        return None

    def _raise_to(self, candidate: Decimal, ref: Decimal, at: datetime | None) -> None:
        if self.stop is not None and candidate <= self.stop:
            return  # capping and rounding down only lower it: no raise (and no tick look-up)
        cap = self.ceiling(ref)
        if candidate > cap:
            candidate = cap
        if candidate <= 0:
            return  # ATR wider than the price: no meaningful stop yet
        new = self._round_down(candidate)
        if self.stop is not None and new <= self.stop:
            return
        old, self.stop = self.stop, new
        when = (at or datetime.now(UTC)).astimezone(UTC)
        self._sink(StopMoved(market=self.market, old=old, new=new, at=when))


def _floor_in(band: tuple[Decimal, Decimal, Decimal], price: Decimal) -> Decimal | None:
    """``MarketRules.round_price(price, DOWN)`` when ``price`` lies in ``band`` (whose lower
    bound is on its tick grid): the floor stays in the band, so its tick is the band's and
    the rounding is one division; None where the general rule must decide."""
    lower, upper, tick = band
    if not lower <= price < upper or lower % tick:
        return None
    rounded = (price / tick).to_integral_value(ROUND_FLOOR) * tick
    return rounded.quantize(tick) if rounded else None


def _band_of(
    rows: tuple[tuple[Decimal, Decimal], ...], price: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """The tick band ``price`` is in: (lower, upper, tick), as ``MarketRules.tick_size`` reads
    the table. A stop trails a price that seldom leaves its band, so it keeps the band and
    looks the tick up again only when the price does (the backtester calls this a lot)."""
    upper = Decimal("Infinity")
    for lower, tick in rows:
        if price >= lower:
            return lower, upper, tick
        upper = lower
    raise ValueError(f"no tick band for {price}")
