"""Where a long position's stop, trailing stop, take-profit, ROI target or holding time
fires, exactly as paper trading fires it.

Paper replay turns each candle into four prints (open, nearer extreme, other extreme, close;
``trading.marketdata.replay``). The engine checks every print against the live
``TrailingStop`` (``Engine._check_stop``), and trails the stop once per closed candle, before
the next candle's open print is checked. The entry fills on the open print, after the engine
looked at it, so of the entry candle only the prints after the open are judged (the engine
judges a whole candle only if the stop was in place before it began).

The real ``TrailingStop`` decides every hit and every move here. numpy only finds the candles
where something *might* happen, with a tolerance far wider than float error:

* a stop hit is possible only where the low reaches a float estimate of the stop in force
  (the fixed stop, or the highest trail candidate so far); a take-profit or ROI hit only
  where the high reaches the target (for the ROI table, the lowest target of the candle: the
  one at its last print, targets never rise with time);
* a trailing stop can only rise after a candle whose float candidate (``highest close -
  k * ATR``, ``stop_loss_pct`` or ``trailing_stop_positive_pct`` below the highest close,
  depending on the offset), capped by the minimum distance (``TrailingStop.ceiling``), is
  near or above every earlier one (the stop is the tick-rounded maximum of the candidates);
  where the offset is too close to call in float, both candidates count;
* the candle in which the holding time runs out is judged print by print.

Every other candle is skipped; skipping it cannot change the result because ``update`` would
not move the stop and ``should_exit`` would answer no. A fixed stop (no trailing) moves only
once, when the ATR stop takes over from the fallback (an entry before the ATR warm-up, which
signals never make): those first candles are walked one by one.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from trading.domain import Bar
from trading.risk import measures
from trading.risk.stops import Trail, TrailingStop
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


class _Moves(NamedTuple):
    """Where a trailing stop may rise, per candle of a scanned span."""

    raise_at: NDArray[np.bool_]  # the candidate may be above the stop in force
    low: NDArray[np.float64]  # float estimates of the capped candidate (-inf: none)
    high: NDArray[np.float64]
    highest_close: NDArray[np.float64]
    tol: float


@dataclass(frozen=True, slots=True)
class StopHit:
    bar: int
    print_index: int  # 0..3: open, first extreme, second extreme, close
    price: float
    kind: str  # "stop" | "trailing" | "take_profit" | "roi" | "time"


class StopScanner:
    """Per market: float true ranges and ATRs once, then one ``scan`` per holding."""

    def __init__(self, market: str, timeframe: str, frame: CandleFrame, atr_period: int) -> None:
        self.market = market
        self.timeframe = timeframe
        self.timeframe_s = timeframe_seconds(timeframe)
        self.frame = frame
        self.period = atr_period
        self._atr_f: NDArray[np.float64] | None = None
        self._decimals: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
        self._bands: tuple[list[float], list[float]] | None = None  # tick table, lowest first
        self._shares: dict[Decimal, float] = {}  # min_distance_pct -> its fraction
        #: exact window sums of the true ranges, once asked (False: no exact integer form)
        self._tr_sums: tuple[NDArray[np.int64], int] | Literal[False] | None = None
        self._whole = False  # those sums are of the float prices themselves (scale 0)
        self._roi_cache: dict[tuple[tuple[int, Decimal], ...], NDArray[np.float64]] = {}

    @property
    def atr_f(self) -> NDArray[np.float64]:
        """Float ATRs per candle (NaN before the warm-up), for the scan's estimates; from the
        exact integer sums when there are some, worked out when first needed."""
        atr = self._atr_f
        if atr is not None:
            return atr
        sums = self._tr_sums
        if sums is None:
            sums = self._tr_sums = self._integer_tr_sums()
        n, period = len(self.frame), self.period
        if sums is not False:
            window, scale = sums
            atr = window / float(period)
            if scale:
                atr /= 10.0**scale
            atr[: period - 1] = np.nan
        else:
            f = self.frame
            h, lo, c = f.high, f.low, f.close
            tr = h - lo
            if n > 1:
                prev = c[:-1]
                tr[1:] = np.maximum(
                    tr[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev))
                )
            atr = np.full(n, np.nan)
            if n >= period:
                atr[period - 1 :] = sliding_window_view(tr, period).mean(axis=-1)
        self._atr_f = atr
        return atr

    def whole_tr_sums(self) -> NDArray[np.int64] | None:
        """The exact window sums of the true ranges when every price is a whole number
        (scale 0, KRW prices), else None; what ``atr`` reads, worked out when first asked.
        The volatility filter's ATR levels are these sums as floats (``levels_of``)."""
        sums = self._tr_sums
        if sums is None:
            sums = self._tr_sums = self._integer_tr_sums()
        return sums[0] if sums is not False and self._whole else None

    def atr(self, bar: int) -> Decimal | None:
        """The engine's Decimal ATR with the history up to and including ``bar``.

        When every price of the frame is a whole number of 10^-d (KRW prices are), the sum of
        the window's true ranges is an exact integer sum in numpy, and the ATR that sum over
        ``period`` (``measures.atr_of`` divides the same exact sum the same way); otherwise it
        is built from Decimals as the engine does."""
        sums = self._tr_sums
        if sums is None:
            sums = self._tr_sums = self._integer_tr_sums()
        if sums is not False:
            if bar < self.period - 1:
                return None
            window, scale = sums
            total = int(window[bar])
            return (Decimal(total).scaleb(-scale) if scale else Decimal(total)) / self.period
        rows = [self._hlc(i) for i in range(max(0, bar - self.period), bar + 1)]
        return measures.atr_of(
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], self.period
        )

    def _integer_tr_sums(self) -> tuple[NDArray[np.int64], int] | Literal[False]:
        """Per candle, the sum of the ``period`` true ranges ending there, in units of
        10^-scale (exact int64); False when the prices are not all such whole units."""
        f = self.frame
        for scale in range(0, 9):
            unit = 10.0**scale
            if scale:
                cols = [np.asarray(x, dtype=np.float64) * unit for x in (f.high, f.low, f.close)]
            else:
                cols = [np.asarray(x, dtype=np.float64) for x in (f.high, f.low, f.close)]
            ends = [(float(c.min()), float(c.max())) for c in cols] if len(f) else [(0.0, 0.0)]
            top = max(max(hi, -lo) for lo, hi in ends)
            if not all(np.isfinite(lo) and np.isfinite(hi) for lo, hi in ends):
                return False  # NaN or inf: no whole units at any scale
            if top * len(f) >= 2.0**52:
                return False  # the sums might not be exact in int64 / float conversions
            ints = [c.astype(np.int64) for c in cols]
            # whole numbers exactly (KRW prices): the rounding below would not change them
            exact = all(np.array_equal(i, c) for i, c in zip(ints, cols, strict=True))
            if exact or all(bool(np.all(np.abs(c - np.round(c)) <= 1e-6)) for c in cols):
                if not exact:
                    ints = [np.round(x).astype(np.int64) for x in cols]
                h, lo, c = ints
                self._whole = exact and scale == 0
                return _window_sums(h, lo, c, self.period), scale
        return False

    def _hlc(self, i: int) -> tuple[Decimal, Decimal, Decimal]:
        """High, low, close of candle ``i`` as Decimals; each candle sits in ``period`` ATR
        windows, so it is converted once."""
        row = self._decimals.get(i)
        if row is None:
            f = self.frame
            row = self._decimals[i] = (dec(f.high[i]), dec(f.low[i]), dec(f.close[i]))
        return row

    def _bar(self, i: int) -> Bar:
        f = self.frame
        start = datetime.fromtimestamp(int(f.start[i]), UTC)
        return Bar(
            self.market,
            self.timeframe,
            start,
            dec(f.open[i]),
            dec(f.high[i]),
            dec(f.low[i]),
            dec(f.close[i]),
            dec(f.volume[i]),
        )

    def scan(
        self,
        stop: TrailingStop,
        entry: int,
        last: int,
        time_bar: int | None = None,
        *,
        first_print: int = 1,
        held: int = 0,
    ) -> StopHit | None:
        """The first hit in candles ``entry..last`` (entry = the candle whose open filled the
        buy, or whose print ``first_print - 1`` did (an entry trigger); ``last`` = the
        exit-signal candle or the last one). ``stop`` is advanced in place. ``held``: the
        candles the position was held before ``entry`` (its ROI targets count from its own
        entry candle).

        ``time_bar``: the candle (within the span) in which the holding time runs out at a
        print after its open; it is judged print by print like a possible hit.
        """
        f = self.frame
        if stop.atr_pending:
            # a stop still on its fallback (an entry before the ATR warm-up): candle by
            # candle until the ATR stop has taken over (at most ``period`` candles); the
            # estimates below do not see that move
            k = entry
            while k <= last and stop.atr_pending:
                hit = self._prints(stop, k, first=first_print if k == entry else 0)
                if hit is not None:
                    return hit
                if k + 1 < len(f):
                    stop.update(self._bar(k), self.atr(k))
                k += 1
            if k > last:
                return None
            return self.scan(stop, k, last, time_bar, first_print=0, held=held + k - entry)
        trail = stop.trail
        if trail is None or (trail.only_offset and stop.highest_close == stop.entry_price):
            return self._scan_until_trail(stop, entry, last, time_bar, first_print, held)
        return self._scan_trailing(stop, entry, last, time_bar, first_print, held)

    def _scan_until_trail(
        self,
        stop: TrailingStop,
        entry: int,
        last: int,
        time_bar: int | None,
        first_print: int,
        held: int,
    ) -> StopHit | None:
        """``scan`` while the stop cannot move: a fixed stop, or a trail that waits for its
        offset (``only_offset``). A few array operations find the candles where a stop or
        target might be hit and the first close that might reach the offset; the candles
        before that close are judged here, the rest by ``_scan_trailing`` from it (the
        highest close of the candles before it is below it, so the trail starts the same)."""
        f = self.frame
        end = last + 1
        count = end - entry
        maybe: NDArray[np.bool_] | None = None
        if stop.stop is not None:
            maybe = f.low[entry:end] <= float(stop.stop) * (1 + REL_TOL) + 1e-9
        floor = self._target_floor(stop, count, held)
        if floor is not None:
            high = f.high[entry:end] >= floor
            maybe = high if maybe is None else np.logical_or(maybe, high, out=maybe)
        reach = count  # the first candle whose close may reach the trail's offset
        trail = stop.trail
        if trail is not None:
            offset = float(stop.entry_price) * (1 + float(trail.offset_pct) / 100)
            above = f.close[entry:end] > offset * (1 - REL_TOL)
            first_above = int(above.argmax())
            if above[first_above]:
                reach = first_above
        judged: list[int] = _nonzero(maybe[:reach]).tolist() if maybe is not None and reach else []
        if time_bar is not None and entry <= time_bar < entry + reach:
            at = time_bar - entry
            if at not in judged:
                insort(judged, at)
        for j in judged:
            k = entry + j
            targets = None
            if k != time_bar:
                targets = np.inf if floor is None else float(floor[j])
            hit = self._prints(stop, k, first=first_print if j == 0 else 0, targets=targets)
            if hit is not None:
                return hit
        if reach == count:
            return None
        return self._scan_trailing(
            stop,
            entry + reach,
            last,
            time_bar,
            first_print if reach == 0 else 0,
            held + reach,
            None if maybe is None else maybe[reach:],
            None if floor is None else floor[reach:],
        )

    def _target_floor(
        self, stop: TrailingStop, count: int, held: int
    ) -> NDArray[np.float64] | None:
        """Per candle, below every take-profit and ROI target of its prints (None: none)."""
        tp = stop.take_profit
        if not stop.roi_pct:
            return None if tp is None else np.full(count, float(tp))
        floor = self._roi_floor(stop, count, held)
        if tp is not None:
            np.minimum(floor, float(tp), out=floor)
        return floor

    # Long on purpose: one vectorised pass; its steps share the span's arrays and masks.
    def _scan_trailing(
        self,
        stop: TrailingStop,
        entry: int,
        last: int,
        time_bar: int | None,
        first_print: int,
        held: int,
        reached: NDArray[np.bool_] | None = None,
        targets: NDArray[np.float64] | None = None,
    ) -> StopHit | None:
        """``scan`` of a stop that may trail from the first candle on. ``reached``: where
        the stop in force now or a target may be reached, if known (it is written to),
        with ``targets``, ``_target_floor`` of these candles (None: no target)."""
        f = self.frame
        span = slice(entry, last + 1)
        lows = f.low[span]
        count = last - entry + 1
        trail = stop.trail
        first = -np.inf if stop.stop is None else float(stop.stop)
        if reached is not None:
            maybe = reached
        else:
            targets = self._target_floor(stop, count, held)
            high = f.high[span]
            maybe = np.zeros(count, dtype=bool) if targets is None else high >= targets
            if stop.stop is not None and trail is None:  # with a trail: below, the roof
                maybe |= lows <= first * (1 + REL_TOL) + 1e-9
        if time_bar is not None and entry <= time_bar <= last:
            maybe[time_bar - entry] = True
        moves: _Moves | None = None
        if trail is not None:
            # the highest close so far: the entry price, or more after the candles walked
            # while the ATR warmed up
            hc = np.maximum.accumulate(np.maximum(f.close[span], float(stop.highest_close)))
            low_c, high_c = self._trail_candidates(stop, trail, hc, span)
            ceiling = self._ceiling(stop, hc)
            same = low_c is high_c
            low_c = np.minimum(low_c, ceiling)
            low_c[np.isnan(low_c)] = -np.inf
            if same:
                high_c = low_c
            else:
                high_c = np.minimum(high_c, ceiling)
                high_c[np.isnan(high_c)] = -np.inf
            # the stop in force during each candle lies between these two estimates (the
            # roof at or above the stop in force now: its hits are among the roof's)
            floor = np.empty(count)
            floor[0] = first
            floor[1:] = low_c[:-1]
            np.maximum.accumulate(floor, out=floor)
            if same:
                roof = floor
            else:
                roof = np.empty(count)
                roof[0] = first
                roof[1:] = high_c[:-1]
                np.maximum.accumulate(roof, out=roof)
            tol = REL_TOL * float(hc[-1]) + 1e-9
            maybe |= lows <= roof + tol
            raise_at = high_c >= floor - tol
            if last + 1 >= len(f):
                raise_at[-1] = False  # the last candle never closes in a replay
            moves = _Moves(raise_at, low_c, high_c, hc, tol)
        # Between two candles judged, only the highest candidates can move the stop (the
        # stop is the tick-rounded maximum of them): the others are left out.
        done = 0  # the raises of candles before ``done`` are applied
        for j in _nonzero(maybe).tolist():
            if moves is not None and j > done:
                self._raise_between(stop, entry, done, j, moves)
            done = j
            k = entry + j
            # the stop in force is the one raised up to here: a print above it and below
            # the candle's targets cannot sell (as ``_scan_until_trail`` skips them)
            bound = None
            if k != time_bar:
                bound = np.inf if targets is None else float(targets[j])
            hit = self._prints(stop, k, first=first_print if k == entry else 0, targets=bound)
            if hit is not None:
                return hit
        if moves is not None:
            self._raise_between(stop, entry, done, count, moves)
        return None

    def _raise_between(
        self,
        stop: TrailingStop,
        entry: int,
        start: int,
        end: int,
        moves: _Moves,
    ) -> None:
        """Close candles ``start..end - 1`` (relative to ``entry``) on the stop: those that
        may raise it and whose candidate may be the highest of them."""
        raise_at, low_c, high_c, hc, tol = moves
        found = _nonzero(raise_at[start:end])
        if not len(found):
            return
        if len(found) > 1:
            found += start
            best = float(low_c[found].max())
            found = found[high_c[found] >= best - tol]
            if len(found) > 1:
                found = found[self._first_of_equal(stop, hc[found])]
            for j in found.tolist():
                self._close(stop, entry, j, hc)
            return
        self._close(stop, entry, start + int(found[0]), hc)

    @staticmethod
    def _first_of_equal(stop: TrailingStop, high: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Of candles in a row with the same highest close (``high``, never falling), the
        first, where their candidates are surely equal: without an ATR stop the candidate is
        a function of the highest close alone, and with a positive trail surely past its
        offset too (a flat high keeps offering the same candidate, and the stop took it)."""
        keep = np.ones(len(high), dtype=bool)
        same = high[1:] == high[:-1]
        trail = stop.trail
        if stop.atr_mult > 0:
            if trail is None or trail.positive_pct <= 0:
                return keep
            offset = float(stop.entry_price) * (1 + float(trail.offset_pct) / 100)
            same &= high[1:] > offset * (1 + REL_TOL)
        keep[1:] = ~same
        return keep

    def _close(self, stop: TrailingStop, entry: int, j: int, hc: NDArray[np.float64]) -> None:
        """``TrailingStop.close_candle`` of candle ``entry + j``, its highest close first."""
        k = entry + j
        if j:
            stop.highest_close = max(stop.highest_close, dec(float(hc[j - 1])))
        close = dec(self.frame.close[k])
        stop.close_candle(close, None, self.atr(k) if stop.needs_atr(close) else None)

    def _trail_candidates(
        self, stop: TrailingStop, trail: Trail, hc: NDArray[np.float64], span: slice
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Float estimates of ``TrailingStop.trail_candidate`` per candle, before the caps:
        a low and a high one, which differ only where the offset is too close to call."""
        threshold = float(stop.entry_price) * (1 + float(trail.offset_pct) / 100)
        surely = hc > threshold * (1 + REL_TOL)
        if trail.positive_pct > 0:
            after = hc * (1 - float(trail.positive_pct) / 100)
            if surely.all():  # past the offset throughout: the positive trail alone
                return after, after
        base = np.full(len(hc), -np.inf)
        if stop.atr_mult > 0:
            base = np.maximum(base, hc - float(stop.atr_mult) * self.atr_f[span])
        if stop.stop_loss_pct > 0:
            base = np.maximum(base, hc * (1 - float(stop.stop_loss_pct) / 100))
        before = np.full(len(hc), -np.inf) if trail.only_offset else base
        if trail.positive_pct <= 0:
            after = base
        perhaps = hc > threshold * (1 - REL_TOL)
        low = np.where(surely, after, np.where(perhaps, np.minimum(after, before), before))
        high = np.where(surely, after, np.where(perhaps, np.maximum(after, before), before))
        return low, high

    def _roi_floor(self, stop: TrailingStop, count: int, held: int) -> NDArray[np.float64]:
        """Per candle, below the lowest ROI target of its prints (the one in force at its
        last print: targets never rise with time); +inf before the first row applies. The
        target before its rounding up onto the grid is a floor, so no tick is looked up.
        ``held``: candles held before the first one. A new array (the caller may write to it)."""
        factors = self._roi_factors(stop.roi_pct, held + count)
        floor = factors[held : held + count] * (float(stop.entry_price) * (1 - REL_TOL))
        floor -= 1e-9
        return floor

    def _roi_factors(
        self, table: tuple[tuple[int, Decimal], ...], count: int
    ) -> NDArray[np.float64]:
        """For a ROI table (the same for every position of a run): 1 + the profit of the row
        in force at the last print of each candle held (+inf: no row yet), for at least
        ``count`` candles; worked out once per run, not per position."""
        cached = self._roi_cache.get(table)
        if cached is not None and len(cached) >= count:
            return cached
        size = max(count, 1024, 2 * len(cached) if cached is not None else 0)
        held = (np.arange(size, dtype=np.float64) + FRACTIONS[-1]) * float(self.timeframe_s)
        starts = float_array([float(minutes * 60) for minutes, _ in table])
        rows = np.searchsorted(starts, held + 1e-6, side="right") - 1
        factors = float_array([1 + float(pct) / 100 for _, pct in table] + [np.inf])
        self._roi_cache[table] = gathered = factors[rows]
        return gathered

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

    def _prints(
        self, stop: TrailingStop, k: int, *, first: int, targets: float | None = None
    ) -> StopHit | None:
        """The first print of candle ``k`` from print ``first`` on that ``stop`` sells at.

        ``targets``: a float below every take-profit and ROI target of the candle's prints,
        whose holding time does not run out in it: a print above the stop and below that
        cannot sell, and is not asked (None: every print is asked)."""
        f = self.frame
        path = print_path(f, k)
        timed = stop.roi_pct or stop.deadline is not None
        start = int(f.start[k])
        above = np.inf  # prints above this and below ``targets`` are skipped
        if targets is not None:
            above = -np.inf if stop.stop is None else float(stop.stop) * (1 + REL_TOL) + 1e-9
        for index in range(first, 4):
            price = path[index]
            if targets is not None and above < price < targets:
                continue
            at = print_time(start, self.timeframe_s, index) if timed else None
            hit = stop.should_exit(dec(price), at)
            if hit is not None:
                return StopHit(k, index, price, hit.kind)
        return None


def _window_sums(
    h: NDArray[np.int64], lo: NDArray[np.int64], c: NDArray[np.int64], period: int
) -> NDArray[np.int64]:
    """Per candle, the sum of the ``period`` true ranges ending there (0 before), exact
    integers; into few buffers (``h`` and ``lo`` are the caller's own copies, written to:
    a market-year of minutes makes each array 4 MB)."""
    n = len(c)
    tr = np.subtract(h, lo)
    if n > 1:
        prev = c[:-1]
        up, down = h[1:], lo[1:]
        np.subtract(up, prev, out=up)
        np.abs(up, out=up)
        np.subtract(down, prev, out=down)
        np.abs(down, out=down)
        np.maximum(up, down, out=up)
        np.maximum(tr[1:], up, out=tr[1:])
    total = np.empty(n + 1, dtype=np.int64)  # the running sum, 0 in front
    total[0] = 0
    np.cumsum(tr, out=total[1:])
    window = tr  # reused: each window's sum (from the running sums, another array)
    if n >= period:
        np.subtract(total[period:], total[: n - period + 1], out=window[period - 1 :])
    window[: min(period - 1, n)] = 0
    return window


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


def _nonzero(mask: NDArray[np.bool_]) -> NDArray[np.intp]:
    """``np.flatnonzero`` of a 1-d mask, without its wrappers (called per position)."""
    return mask.nonzero()[0]


def float_array(values: list[float]) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64)
