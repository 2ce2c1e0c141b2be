"""A long position's exits: the protective stop, trailing, take-profit, the ROI table and
the holding time. One object per position, asked by the engine and by the backtester alike.

* **Initial stop, fixed at the entry** (``atr_mult`` > 0 or ``stop_loss_pct`` > 0):
  ``entry - mult * ATR`` (the ATR of the candles before the entry) and/or
  ``entry * (1 - stop_loss_pct / 100)``; with both on, the higher stop wins (two stops in
  place: the nearer fires first). Until the ATR can be computed (a manual buy before the
  warm-up) the fallback ``entry * (1 - fallback_pct / 100)`` stands in for the ATR stop,
  which takes over, from the entry, once there is an ATR and only if it is higher.
* **Trailing** (``trail``, freqtrade's ``trailing_stop``; off unless asked for): after every
  closed candle the stop may rise to ``highest close - distance``. The distance is the
  initial one (``mult * ATR`` now, or ``stop_loss_pct`` of the highest close; the higher
  stop of the two) until the highest close is above the entry by more than
  ``offset_pct``; from then on ``positive_pct`` of the highest close, if set.
  ``only_offset`` leaves the stop alone until the offset is reached. A hit of a stop the
  trail raised is a ``trailing`` exit (freqtrade's ``trailing_stop_loss``), else ``stop``.
* **Minimum distance**: every stop stays at least ``min_distance_pct`` below the price it is
  placed from (the entry, then the highest close) and at least one tick of that price's band
  below it. Without it a flat market (ATR 0) would put the stop on the entry and sell one
  tick under it with no signal.
* **Take-profit** ``entry * (1 + take_profit_pct / 100)``; **ROI table** ``roi``: rows of
  (minutes held, profit %), the target of the last row whose minutes have passed; **time**:
  held ``max_holding_minutes``. Targets round up onto the tick grid, stops down, so the order
  price Upbit receives is valid and never tighter than computed.

The stop is never loosened: each candidate only counts when it is above the current stop.

Per candle the engine asks ``should_exit(bar)`` only for a candle the stop watched from its
start (``covers``): prints before the fill must not sell the position they preceded; the
holding time is asked at every candle close (``time_up``). Then it calls ``update(bar, atr)``
at the candle's close. Per print it asks ``should_exit(price, at)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from trading.domain import Bar
from trading.domain.rules import MarketRules, Rounding
from trading.events import EventSink, StopMoved, ignore_event
from trading.risk.decision import price as fmt_price
from trading.risk.settings import RiskSettings

ZERO = Decimal(0)


ExitKind = Literal["stop", "trailing", "take_profit", "roi", "time"]


@dataclass(frozen=True, slots=True)
class ExitReason:
    """Why to sell: ``price`` is the trigger, or the open when the bar gapped through it."""

    kind: ExitKind
    price: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Trail:
    """Freqtrade's trailing settings, fixed for a stop's life (percent, 5 = 5 %)."""

    positive_pct: Decimal = ZERO
    offset_pct: Decimal = ZERO
    only_offset: bool = False


class TrailingStop:
    """State of one long position's exits; rebuild it after a restart with the stored values."""

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
        stop_loss_pct: Decimal = ZERO,
        fallback_pct: Decimal = ZERO,
        trail: Trail | None = None,
        trailed: bool = False,
        roi: tuple[tuple[int, Decimal], ...] = (),
        max_holding_minutes: int = 0,
        entered_at: datetime | None = None,
        atr_pending: bool = False,
    ) -> None:
        self.market = market
        self.entry_price = entry_price
        self.atr_mult = atr_mult
        self.stop_loss_pct = stop_loss_pct
        self.fallback_pct = fallback_pct
        self.rules = rules
        self.stop = stop
        self.highest_close = highest_close
        self.min_distance_pct = min_distance_pct  # fixed for the stop's life
        self._keep = 1 - min_distance_pct / 100  # what the minimum distance leaves of a price
        self._band: tuple[Decimal, Decimal, Decimal] | None = None  # lower, upper, tick
        self.take_profit = take_profit
        self.since = since  # market time from which it watches prices (None: always did)
        self._sink = sink
        self.trail = trail  # None: the stop stays where it was set
        self.trailed = trailed  # the trail raised the stop: its hit is a ``trailing`` exit
        self.atr_pending = atr_pending  # on the fallback: the ATR stop takes over once
        self.entered_at = entered_at if entered_at is not None else since
        self.roi_pct = roi  # (minutes held, profit %) rows, in order
        self._roi: tuple[tuple[int, Decimal], ...] | None = None
        self.max_holding_minutes = max_holding_minutes
        self.deadline = (
            self.entered_at + timedelta(minutes=max_holding_minutes)
            if max_holding_minutes > 0 and self.entered_at is not None
            else None
        )

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
        take_profit_pct: Decimal = ZERO,
        highest_close: Decimal | None = None,
        since: datetime | None = None,
        at: datetime | None = None,
        sink: EventSink = ignore_event,
        stop_loss_pct: Decimal = ZERO,
        trail: Trail | None = None,
        roi: tuple[tuple[int, Decimal], ...] = (),
        max_holding_minutes: int = 0,
        entered_at: datetime | None = None,
    ) -> TrailingStop:
        """A position's stop (announced as ``StopMoved(old=None)``) and targets.

        ``atr`` None: not computable yet, the fallback stands in. ``highest_close``: for a
        position open for a while already (stops switched on live, a restart without a
        stored stop), the highest close since its entry, for a trailing stop to trail from
        as it would have.
        """
        stop = cls(
            market=market,
            entry_price=entry_price,
            atr_mult=atr_mult,
            rules=rules,
            stop=None,
            highest_close=max(entry_price, highest_close or entry_price),
            min_distance_pct=min_distance_pct,
            since=since,
            sink=sink,
            stop_loss_pct=stop_loss_pct,
            fallback_pct=fallback_pct,
            trail=trail,
            roi=roi,
            max_holding_minutes=max_holding_minutes,
            entered_at=entered_at,
        )
        if take_profit_pct > 0:
            stop.take_profit = stop._round_up(entry_price * (1 + take_profit_pct / 100))
        if atr_mult > 0:
            if atr is None:
                stop.atr_pending = True
                stop._raise_to(entry_price * (1 - fallback_pct / 100), entry_price, at)
            else:
                stop._raise_to(entry_price - atr_mult * atr, entry_price, at)
        if stop_loss_pct > 0:
            stop._raise_to(entry_price * (1 - stop_loss_pct / 100), entry_price, at)
        if trail is not None and stop.highest_close > entry_price:
            stop._trail(atr, at)
        return stop

    def update(self, bar: Bar, atr: Decimal | None) -> Decimal | None:
        """After a closed candle: the ATR stop takes over from the fallback, a trailing stop
        trails; returns the (possibly unchanged) stop.

        The highest close is tracked even while there is no ATR, so a trailing ATR stop that
        takes over from the fallback trails from the highest close since the entry.
        """
        return self.close_candle(bar.close, bar.end, atr)

    def close_candle(
        self, close: Decimal, end: datetime | None, atr: Decimal | None
    ) -> Decimal | None:
        """``update`` from a candle's close alone (all it reads of the candle); ``end`` dates
        the ``StopMoved`` announcement."""
        self.highest_close = max(self.highest_close, close)
        if self.atr_pending and atr is not None:
            self.atr_pending = False
            entry = self.entry_price
            self._raise_to(entry - self.atr_mult * atr, entry, end)
        if self.trail is not None:
            self._trail(atr, end)
        return self.stop

    def needs_atr(self, close: Decimal) -> bool:
        """Whether a candle closing at ``close`` would read the ATR (``close_candle``): the
        backtester then skips computing one the positive trail would not use."""
        if self.atr_mult == 0:
            return False
        if self.atr_pending:
            return True
        trail = self.trail
        if trail is None:
            return False
        if trail.positive_pct == 0:
            return True
        high = max(self.highest_close, close)
        return not high > self.entry_price * (1 + trail.offset_pct / 100)

    @property
    def offset_reached(self) -> bool:
        """The highest close is more than the trail's offset over the entry: from now on the
        trail runs at ``positive_pct`` (if set), and with ``only_offset`` it runs at all.

        The engine stores the highest close the moment this turns true (and every higher
        close of a trail), not only with the stop's next move: a restart rebuilds the state
        from it (``recovery.resume_stops``)."""
        trail = self.trail
        return trail is not None and self.highest_close > self.entry_price * (
            1 + trail.offset_pct / 100
        )

    def trail_candidate(self, atr: Decimal | None) -> Decimal | None:
        """Where the trail would put the stop now (before the caps), None: nowhere."""
        trail = self.trail
        if trail is None:
            return None
        high = self.highest_close
        reached = self.offset_reached
        if trail.positive_pct > 0 and reached:
            return high * (1 - trail.positive_pct / 100)
        if trail.only_offset and not reached:
            return None
        best: Decimal | None = None
        if self.atr_mult > 0 and atr is not None:  # no ATR yet: the fallback does not trail
            best = high - self.atr_mult * atr
        if self.stop_loss_pct > 0:
            by_pct = high * (1 - self.stop_loss_pct / 100)
            best = by_pct if best is None or by_pct > best else best
        return best

    def _trail(self, atr: Decimal | None, at: datetime | None) -> None:
        candidate = self.trail_candidate(atr)
        if candidate is not None:
            self._raise_to(candidate, self.highest_close, at, trailing=True)

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
            band = self._band = band_of(self.rules.tick_bands(self.market), ref)
        by_share, by_tick = ref * self._keep, ref - band[2]
        return by_share if by_share < by_tick else by_tick

    @property
    def roi(self) -> tuple[tuple[int, Decimal], ...]:
        """The ROI table as (seconds held, target price rounded up onto the grid), worked out
        when first asked (a backtest asks only for the few positions near a target)."""
        if self._roi is None:
            entry = self.entry_price
            self._roi = tuple(
                (minutes * 60, self._round_up(entry * (1 + pct / 100)))
                for minutes, pct in self.roi_pct
            )
        return self._roi

    def _round_up(self, price: Decimal) -> Decimal:
        """``MarketRules.round_price(UP)``, in the band of ``price`` kept from the last look-up
        (targets sit near the entry); a new look-up only when it is another band."""
        if price <= 0:
            return self.rules.round_price(self.market, price, Rounding.UP)  # its refusal
        band = self._band
        if band is None or not band[0] <= price < band[1]:
            band = self._band = band_of(self.rules.tick_bands(self.market), price)
        tick = band[2]
        rounded = (price / tick).to_integral_value(ROUND_CEILING) * tick
        if rounded < band[1]:
            return rounded.quantize(tick)
        return self.rules.round_price(self.market, price, Rounding.UP)

    def _round_down(self, price: Decimal) -> Decimal:
        """``MarketRules.round_price(DOWN)``; inside the band ``ceiling`` just looked up (the
        common case: a stop sits under the price it is placed from) without a new look-up."""
        band = self._band
        if band is not None and band[0] <= price < band[1]:
            tick = band[2]
            rounded = (price / tick).to_integral_value(ROUND_FLOOR) * tick
            if rounded >= band[0] and rounded:
                return rounded.quantize(tick)
        return self.rules.round_price(self.market, price, Rounding.DOWN)

    def roi_target(self, at: datetime | None) -> tuple[Decimal, int] | None:
        """The ROI target in force at ``at`` and its row's minutes (None: no row yet)."""
        if not self.roi_pct or at is None or self.entered_at is None:
            return None
        held = (at - self.entered_at).total_seconds()
        found = None
        for seconds, target in self.roi:
            if held < seconds:
                break
            found = (target, seconds // 60)
        return found

    def time_up(self, at: datetime | None, price: Decimal) -> ExitReason | None:
        """The holding time is over at ``at`` (``max_holding_minutes``)."""
        if self.deadline is None or at is None or at < self.deadline:
            return None
        return ExitReason(
            "time",
            price,
            f"{self.market} held for {self.max_holding_minutes} min, the"
            f" max_holding_minutes limit",
        )

    def should_exit(
        self, bar_or_price: Bar | Decimal, at: datetime | None = None
    ) -> ExitReason | None:
        """Stop when the low reaches it; take-profit, then the ROI target, when the high does;
        then the holding time. The stop wins a tie.

        Within one candle the order of low and high is unknown, so assuming the stop came
        first keeps a backtest from booking profits it might not have made. A whole candle
        is held to the ROI target in force at its start (the highest of the candle) and to
        the holding time at its end; a print to those at ``at``.
        """
        roi_at: datetime | None
        time_at: datetime | None
        if isinstance(bar_or_price, Bar):
            low, high, open_ = bar_or_price.low, bar_or_price.high, bar_or_price.open
            roi_at, time_at, last = bar_or_price.start, bar_or_price.end, bar_or_price.close
        else:
            low = high = open_ = last = bar_or_price
            roi_at = time_at = at
        if self.stop is not None and low <= self.stop:
            fill = min(open_, self.stop)
            kind: ExitKind = "trailing" if self.trailed else "stop"
            what = "the trailing stop" if self.trailed else "the stop"
            return ExitReason(
                kind,
                fill,
                f"{self.market} fell to {fmt_price(low)} KRW, at or below {what}"
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
        roi = self.roi_target(roi_at)
        if roi is not None and high >= roi[0]:
            target, minutes = roi
            return ExitReason(
                "roi",
                max(open_, target),
                f"{self.market} reached {fmt_price(high)} KRW, at or above the ROI target"
                f" {fmt_price(target)} KRW (held {minutes} min or more)",
            )
        return self.time_up(time_at, last)

    def _raise_to(
        self, candidate: Decimal, ref: Decimal, at: datetime | None, *, trailing: bool = False
    ) -> None:
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
        if trailing:
            self.trailed = True
        if self._sink is not ignore_event:
            when = (at or datetime.now(UTC)).astimezone(UTC)
            self._sink(StopMoved(market=self.market, old=old, new=new, at=when))


def band_of(
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


def trail_of(settings: RiskSettings) -> Trail | None:
    """The trailing rule the settings ask for; None: the stop stays where it was set."""
    if not settings.trailing_stop:
        return None
    return Trail(
        positive_pct=settings.trailing_stop_positive_pct,
        offset_pct=settings.trailing_stop_positive_offset_pct,
        only_offset=settings.trailing_only_offset_is_reached,
    )


def stop_on(settings: RiskSettings) -> bool:
    """A protective stop is asked for (ATR or percentage)."""
    return settings.atr_stop_mult > 0 or settings.stop_loss_pct > 0


def exits_on(settings: RiskSettings) -> bool:
    """Any exit a ``TrailingStop`` watches is on: a stop, a take-profit, ROI or time."""
    return (
        stop_on(settings)
        or settings.take_profit_pct > 0
        or bool(settings.minimal_roi)
        or settings.max_holding_minutes > 0
    )


def signal_counts(settings: RiskSettings, entry: Decimal | None, close: Decimal) -> bool:
    """Whether the strategy's exit signal at ``close`` sells a position bought at ``entry``:
    ``use_exit_signal``, and with ``exit_profit_only`` only above the profit offset."""
    if not settings.use_exit_signal:
        return False
    if not settings.exit_profit_only or entry is None:
        return True
    return close > entry * (1 + settings.exit_profit_offset_pct / 100)
