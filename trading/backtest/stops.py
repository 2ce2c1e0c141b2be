"""Where a long position's ATR stop or take-profit fires, exactly as paper trading fires it.

Paper replay turns each candle into four prints (open, nearer extreme, other extreme, close;
``trading.marketdata.replay``). The engine checks every print against the live
``TrailingStop`` (``Engine._check_stop``), and trails the stop once per closed candle, before
the next candle's open print is checked. The entry fills on the open print, after the engine
looked at it, so of the entry candle only the prints after the open are judged (the engine
judges a whole candle only if the stop was in place before it began).

The real ``TrailingStop`` decides every hit and every move here. numpy only finds the candles
where something *might* happen, with a tolerance far wider than float error:

* a hit is possible only where the low reaches the float estimate of the stop in force
  (or the high reaches the take-profit);
* the stop can only rise after a candle whose float candidate ``highest close - k * ATR``,
  capped by the minimum distance under the highest close (``TrailingStop.ceiling``), is near
  or above every earlier one (the stop is the tick-rounded maximum of the candidates).

Every other candle is skipped; skipping it cannot change the result because ``update`` would
not move the stop and ``should_exit`` would answer no.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from trading.risk import measures
from trading.risk.stops import TrailingStop
from trading.strategies import CandleFrame
from trading.timeframes import timeframe_seconds

#: When in a candle each synthetic print happens (fractions of its interval), as in replay.
FRACTIONS = (0.0, 0.25, 0.5, 0.99)
REL_TOL = 1e-9


def dec(value: float) -> Decimal:
    """A float read from a decimal file back to that decimal (repr round-trips 15 digits);
    whole numbers (every KRW price from 100 up) take the shorter way, to the same value."""
    x = float(value)
    return Decimal(int(x)) if x.is_integer() else Decimal(repr(x))


@dataclass(frozen=True, slots=True)
class StopHit:
    bar: int
    print_index: int  # 0..3: open, first extreme, second extreme, close
    price: float
    kind: str  # "stop" | "take_profit"


class StopScanner:
    """Per market: float true ranges and ATRs once, then one ``scan`` per holding."""

    def __init__(self, market: str, timeframe: str, frame: CandleFrame, atr_period: int) -> None:
        self.market = market
        self.timeframe = timeframe
        self.frame = frame
        self.period = atr_period
        self.timeframe_s = timeframe_seconds(timeframe)
        h, lo, c = frame.high, frame.low, frame.close
        tr = h - lo
        if len(c) > 1:
            prev = c[:-1]
            tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev)))
        atr = np.full(len(c), np.nan)
        if len(c) >= atr_period:
            atr[atr_period - 1 :] = sliding_window_view(tr, atr_period).mean(axis=-1)
        self.atr_f = atr
        # whole-number prices (every KRW price from 100 up): the true ranges are whole too,
        # and their running total is exact in float up to 2**53, so the engine's Decimal
        # ATR (the same sum, divided) is read off it instead of summed anew per candle
        self._tr_total: NDArray[np.float64] | None = None
        if len(c) >= atr_period and _whole(h, lo, c):
            total = np.empty(len(c) + 1)
            total[0] = 0.0
            np.cumsum(tr, out=total[1:])
            if total[-1] < 2.0**53:
                self._tr_total = total
        self._decimals: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
        self._bands: tuple[list[float], list[float]] | None = None  # tick table, lowest first
        self._shares: dict[Decimal, float] = {}  # min_distance_pct -> its fraction

    def atr(self, bar: int) -> Decimal | None:
        """The engine's Decimal ATR with the history up to and including ``bar``."""
        total = self._tr_total
        if total is not None:
            if bar + 1 < self.period:
                return None
            return Decimal(int(total[bar + 1] - total[bar + 1 - self.period])) / self.period
        rows = [self._hlc(i) for i in range(max(0, bar - self.period), bar + 1)]
        return measures.atr_of(
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], self.period
        )

    def _hlc(self, i: int) -> tuple[Decimal, Decimal, Decimal]:
        """High, low, close of candle ``i`` as Decimals; each candle sits in ``period`` ATR
        windows, so it is converted once."""
        row = self._decimals.get(i)
        if row is None:
            f = self.frame
            row = self._decimals[i] = (dec(f.high[i]), dec(f.low[i]), dec(f.close[i]))
        return row

    def scan(
        self, stop: TrailingStop, entry: int, last: int, *, first_print: int = 1
    ) -> StopHit | None:
        """The first hit in candles ``entry..last`` (entry = the candle whose open filled the
        buy, or whose print ``first_print - 1`` did (an entry trigger); ``last`` = the
        exit-signal candle or the last one). ``stop`` is advanced in place."""
        f = self.frame
        span = slice(entry, last + 1)
        lows, highs = f.low[span], f.high[span]
        count = last - entry + 1
        tp = stop.take_profit
        maybe = np.zeros(count, dtype=bool)
        if tp is not None:
            maybe |= highs >= float(tp)
        trail = stop.atr_mult > 0
        if trail:
            mult = float(stop.atr_mult)
            closes = f.close[span]
            hc = np.maximum.accumulate(np.maximum(closes, float(stop.entry_price)))
            cand = np.minimum(hc - mult * self.atr_f[span], self._ceiling(stop, hc))
            cand = np.where(np.isnan(cand), -np.inf, cand)
            first = float(stop.stop) if stop.stop is not None else -np.inf
            before = np.maximum.accumulate(np.concatenate(([first], cand[:-1])))
            tol = REL_TOL * float(hc[-1]) + 1e-9
            maybe |= lows <= before + tol
            raise_at = cand >= before - tol
            if last + 1 >= len(f):
                raise_at[-1] = False  # the last candle never closes in a replay
            interesting = np.flatnonzero(maybe | raise_at)
        else:
            raise_at = np.zeros(count, dtype=bool)
            interesting = np.flatnonzero(maybe)
        for j in interesting.tolist():
            k = entry + j
            if maybe[j]:
                hit = self._prints(stop, k, first=first_print if k == entry else 0)
                if hit is not None:
                    return hit
            if raise_at[j]:
                high_close = float(hc[j - 1]) if j else float(stop.entry_price)
                stop.highest_close = max(stop.entry_price, dec(high_close))
                atr = self.atr(k)
                if atr is not None:
                    end = datetime.fromtimestamp(int(f.start[k]) + self.timeframe_s, UTC)
                    stop.trail(dec(f.close[k]), end, atr)
        return None

    def _ceiling(self, stop: TrailingStop, high: NDArray[np.float64]) -> NDArray[np.float64]:
        """``TrailingStop.ceiling`` of each highest close, in float (the tick of its band).

        The highest close never falls, so when the first and the last share a band the span
        has one tick, and often one of the two caps wins throughout: one array operation
        (this runs once per position; numpy's fixed costs would dominate).
        """
        if self._bands is None:
            rows = stop.rules.tick_bands(stop.market)[::-1]  # lowest band first
            self._bands = ([float(lo) for lo, _ in rows], [float(tick) for _, tick in rows])
        lowers, ticks = self._bands
        share = self._shares.get(stop.min_distance_pct)
        if share is None:
            share = self._shares[stop.min_distance_pct] = float(stop.min_distance_pct) / 100
        low, top = float(high[0]), float(high[-1])
        first = bisect_right(lowers, low) - 1
        if first != bisect_right(lowers, top) - 1:
            tick = float_array(ticks)[np.searchsorted(lowers, high, side="right") - 1]
            return np.minimum(high * (1 - share), high - tick)
        one = ticks[first]
        if low * share >= one:  # the percentage is the wider everywhere
            return high * (1 - share)
        if top * share <= one:  # the tick is
            return high - one
        return np.minimum(high * (1 - share), high - one)

    def _prints(self, stop: TrailingStop, k: int, *, first: int) -> StopHit | None:
        f = self.frame
        path = print_path(f, k)
        for index in range(first, 4):
            price = path[index]
            hit = stop.should_exit(dec(price))
            if hit is not None:
                return StopHit(k, index, price, hit.kind)
        return None


def print_path(frame: CandleFrame, k: int) -> tuple[float, float, float, float]:
    """The four replay prints of candle ``k``: open, nearer extreme, other extreme, close
    (a rising candle dips first, a falling one spikes first; ``replay.candle_prints``)."""
    o, h, lo, c = (
        float(frame.open[k]),
        float(frame.high[k]),
        float(frame.low[k]),
        float(frame.close[k]),
    )
    return (o, lo, h, c) if c >= o else (o, h, lo, c)


def print_time(start: int, timeframe_s: int, index: int) -> datetime:
    """The time of print ``index`` of the candle starting at ``start`` (as replay stamps it)."""
    base = datetime.fromtimestamp(int(start), UTC)
    return base + timedelta(seconds=timeframe_s * FRACTIONS[index])


def _whole(*columns: NDArray[np.float64]) -> bool:
    return all(bool(np.all(np.floor(col) == col)) for col in columns)


def float_array(values: list[float]) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64)
