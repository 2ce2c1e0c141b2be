"""The volatility filter's measure, incremental: a level per candle and its rank in a window.

The level is ATR as a percentage of the close (``"atr"``) or the standard deviation of the
close-to-close returns in percent (``"realized"``), over ``volatility_period`` candles. It is
judged two ways (``RiskSettings``):

* absolute: the level against ``volatility_halt_pct`` (the same number on every timeframe,
  which is why it never fires on minutes and often on days);
* relative: the level's percentile among the previous ``volatility_window_candles`` levels
  of the same market (the share of them strictly below it, 0..100): "more volatile than 99 %
  of the last day of minutes" means the same on every timeframe.

Either one trips the halt; it lifts once every mode that is on is below its resume level.
The percentile is judged only once the window is full: until then the relative mode
abstains, so a market is never halted by its first candles, and a halt restored after a
restart holds until the window has been measured again (or the absolute mode, if on, lets
it go).

Floats, not Decimal: a level is a statistic compared with thresholds, never money. Each step
is one IEEE operation in a fixed order, so ``VolatilityTrack`` (live, one candle at a time)
and ``halt_series`` (the backtester, numpy over a whole frame) compute the very same floats:
sums are differences of running totals (``numpy.cumsum`` adds in order, as the track does),
and a rank is a count, the same from a sorted window as from an order statistic.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from trading.risk.settings import RiskSettings

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Rule:
    """The filter's settings, reduced to what each candle is compared with."""

    measure: str
    period: int
    window: int
    halt_pct: float  # absolute level; 0 = off
    resume_pct: float
    halt_rank: int  # levels strictly below the current one that trip the halt; 0 = off
    resume_rank: int  # fewer than this below it: the relative mode lets go

    @classmethod
    def of(cls, limits: RiskSettings) -> Rule:
        window = limits.volatility_window_candles
        on = limits.volatility_halt_percentile > 0
        return cls(
            measure=limits.volatility_measure,
            period=limits.volatility_period,
            window=window,
            halt_pct=float(limits.volatility_halt_pct),
            resume_pct=float(limits.resume_pct),
            halt_rank=_rank_of(limits.volatility_halt_percentile, window) if on else 0,
            resume_rank=_rank_of(limits.volatility_resume_percentile, window),
        )

    @property
    def on(self) -> bool:
        return self.halt_pct > 0 or self.halt_rank > 0

    def trips(self, level: float, rank: int | None) -> bool:
        if self.halt_pct > 0 and level > self.halt_pct:
            return True
        return self.halt_rank > 0 and rank is not None and rank >= self.halt_rank

    def lets_go(self, level: float, rank: int | None) -> bool:
        """Every mode that can judge is below its resume level, and one can: a cold window
        (rank None) abstains, so alone it holds a halt (one restored after a restart)."""
        if self.halt_pct > 0 and not level < self.resume_pct:
            return False
        if self.halt_rank > 0 and rank is not None:
            return rank < self.resume_rank
        return self.halt_pct > 0


def _rank_of(percentile: Decimal, window: int) -> int:
    """How many of ``window`` levels must lie strictly below: percentile >= p <=> rank >= this."""
    return math.ceil(percentile * window / 100)


def percentile(rank: int, window: int) -> float:
    """A rank as the percentile users read (``rank`` of ``window`` levels below, in %)."""
    return rank * 100.0 / window


class VolatilityTrack:
    """One market's measure, fed one closed candle at a time: O(1) for the level, O(log n)
    (a bisect into the sorted window) for its rank.

    The raw candles of the last ``window + period`` are kept, so a live change of the period,
    the measure or the window rebuilds the track from them (``rebuild``) instead of starting
    cold.
    """

    __slots__ = (
        "_cum",
        "_cums",
        "_levels",
        "_prev",
        "_raw",
        "_sorted",
        "_sq",
        "_sqs",
        "measure",
        "period",
        "window",
    )

    def __init__(self, measure: str, period: int, window: int) -> None:
        self.measure, self.period, self.window = measure, period, window
        self._raw: deque[tuple[float, float, float]] = deque(maxlen=window + period + 1)
        self._reset()

    def _reset(self) -> None:
        self._prev: float | None = None
        self._cum = self._sq = 0.0
        self._cums: deque[float] = deque([0.0], maxlen=self.period + 1)
        self._sqs: deque[float] = deque([0.0], maxlen=self.period + 1)
        self._levels: deque[float] = deque()
        self._sorted: list[float] = []

    def fits(self, rule: Rule) -> bool:
        return (self.measure, self.period, self.window) == (rule.measure, rule.period, rule.window)

    def rebuild(self, rule: Rule) -> None:
        """Measure the kept candles again under ``rule``'s period, measure and window."""
        raw = list(self._raw)
        self.measure, self.period, self.window = rule.measure, rule.period, rule.window
        self._raw = deque(maxlen=rule.window + rule.period + 1)
        self._reset()
        for high, low, close in raw:
            self.push(high, low, close)

    def drop_last(self) -> None:
        """Forget the newest candle (the same candle arrives again, newer): measured anew
        from the kept ones, O(window log window), which a backfill after a gap can afford."""
        if self._raw:
            self._raw.pop()
            self.rebuild(Rule(self.measure, self.period, self.window, 0.0, 0.0, 0, 0))

    def push(self, high: float, low: float, close: float) -> tuple[float, int | None] | None:
        """Feed one candle: ``(level, rank)``; rank None while the window is not full; None
        while the period is not."""
        self._raw.append((high, low, close))
        prev, self._prev = self._prev, close
        if self.measure == "atr":
            tr = high - low
            if prev is not None:
                tr = max(tr, abs(high - prev), abs(low - prev))
            self._cum += tr
            self._cums.append(self._cum)
            if len(self._cums) <= self.period:
                return None
            level = (self._cum - self._cums[0]) / self.period / close * 100.0
        else:
            if prev is None:
                return None
            r = (close - prev) / prev if prev > 0 else 0.0
            self._cum += r
            self._sq += r * r
            self._cums.append(self._cum)
            self._sqs.append(self._sq)
            if len(self._cums) <= self.period:
                return None
            mean = (self._cum - self._cums[0]) / self.period
            var = (self._sq - self._sqs[0]) / self.period - mean * mean
            level = math.sqrt(var if var > 0.0 else 0.0) * 100.0
        return level, self._rank(level)

    def _rank(self, level: float) -> int | None:
        levels, ordered = self._levels, self._sorted
        rank = bisect_left(ordered, level) if len(levels) == self.window else None
        if rank is not None:
            del ordered[bisect_left(ordered, levels.popleft())]
        levels.append(level)
        insort(ordered, level)
        return rank


def levels_of(
    measure: str,
    period: int,
    high: NDArray[np.float64],
    low: NDArray[np.float64],
    close: NDArray[np.float64],
    tr_sums: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """``VolatilityTrack``'s level of every candle (NaN before the period is full), in numpy.

    ``tr_sums``: for whole-number prices (KRW), the exact int64 sums of the ``period`` true
    ranges ending at each candle, if the caller has them (the backtest's stop scanner):
    every true range and running total below is then an exact integer in float64 (the
    caller's sums fit in 2^53), so the float window sums are those integers and the levels
    the same bits, without a second pass over the frame."""
    n = len(close)
    out = np.full(n, _NAN)
    if measure == "atr" and tr_sums is not None:
        if n < period:
            return out
        into = out[period - 1 :]
        into[:] = tr_sums[period - 1 :]
        into /= period
        into /= close[period - 1 :]
        into *= 100.0
        return out
    if measure == "atr":
        # the same IEEE operations per candle as the track, into few buffers (a market-year
        # of minutes: each temporary array is 4 MB)
        tr = np.subtract(high, low)
        if n > 1:
            prev = close[:-1]
            up = np.subtract(high[1:], prev)
            np.abs(up, out=up)
            down = np.subtract(low[1:], prev)
            np.abs(down, out=down)
            np.maximum(up, down, out=up)
            np.maximum(tr[1:], up, out=tr[1:])
        if n < period:
            return out
        cum = np.empty(n + 1)
        cum[0] = 0.0
        np.cumsum(tr, out=cum[1:])
        into = out[period - 1 :]
        np.subtract(cum[period:], cum[:-period], out=into)
        into /= period
        into /= close[period - 1 :]
        into *= 100.0
        return out
    if n <= period:
        return out
    prev = close[:-1]
    safe = np.where(prev > 0, prev, 1.0)
    r = np.where(prev > 0, (close[1:] - prev) / safe, 0.0)
    cum = np.empty(n)
    sq = np.empty(n)
    cum[0] = sq[0] = 0.0
    np.cumsum(r, out=cum[1:])
    np.cumsum(r * r, out=sq[1:])
    mean = (cum[period:] - cum[:-period]) / period
    var = (sq[period:] - sq[:-period]) / period - mean * mean
    out[period:] = np.sqrt(np.maximum(var, 0.0)) * 100.0
    return out


def ranks_of(levels: NDArray[np.float64], window: int, block: int = 64) -> NDArray[np.int64]:
    """How many of the previous ``window`` levels lie strictly below each one (-1 while the
    window is not full): ``VolatilityTrack``'s ranks, for a whole frame.

    Counted in blocks of ``block`` candles, numpy-wide (a bisect per candle in Python was
    the backtest's largest cost): every window of a block holds the block's *core* (the
    ``window - block + 1`` levels all of them share), counted by one sorted search, plus at
    most ``2 * block - 1`` others, counted by comparison. Levels become their ranks among
    all levels first (ties share one), so one search covers every core at once. The few
    candles after the last full block take the sorted window, as the track does.
    """
    ranks = np.full(len(levels), -1, dtype=np.int64)
    valid = np.flatnonzero(~np.isnan(levels))
    if len(valid) <= window:
        return ranks
    first = int(valid[0])
    v = levels[first:]
    n = len(v)
    size = min(block, window)
    blocks = (n - window) // size if size >= 2 else 0
    if blocks:
        ranks[first + window : first + window + blocks * size] = _block_ranks(
            v, window, size, blocks
        )
    done = window + blocks * size
    if done < n:
        values: list[float] = v[done - window :].tolist()
        ordered = sorted(values[:window])
        out: list[int] = []
        keep = out.append
        for level, oldest in zip(values[window:], values, strict=False):
            keep(bisect_left(ordered, level))
            del ordered[bisect_left(ordered, oldest)]
            insort(ordered, level)
        ranks[first + done :] = out
    return ranks


def _block_ranks(
    v: NDArray[np.float64], window: int, size: int, blocks: int, chunk: int = 512
) -> NDArray[np.int64]:
    """``ranks_of`` for the candles ``window .. window + blocks * size`` of ``v`` (no NaN).

    Block ``k`` is the candles ``s = window + k * size`` to ``e = s + size``; candle ``i``'s
    window ``[i - window, i)`` is the core ``[e - 1 - window, s)``, the levels left of it
    from ``i - window`` on, and the block's own levels before ``i``.
    """
    n = len(v)
    dense = np.unique(v, return_inverse=True)[1].astype(np.int64).ravel()
    core_len = window - size + 1
    cores = sliding_window_view(dense, core_len)[size - 1 :: size]
    lefts = sliding_window_view(dense, size - 1)[::size]
    queries = sliding_window_view(dense[window:], size)[::size]
    from_left = np.triu(np.ones((size, size - 1), dtype=bool))  # left level t >= query j
    before = np.tril(np.ones((size, size), dtype=bool), -1)  # block level t < query j
    out = np.empty((blocks, size), dtype=np.int64)
    for lo in range(0, blocks, chunk):
        hi = min(blocks, lo + chunk)
        rows = np.arange(hi - lo, dtype=np.int64)[:, None]
        keys = (np.sort(cores[lo:hi], axis=1) + rows * n).ravel()
        q = queries[lo:hi]
        below = np.searchsorted(keys, (q + rows * n).ravel()).reshape(q.shape) - rows * core_len
        left = lefts[lo:hi]
        below += ((left[:, None, :] < q[:, :, None]) & from_left).sum(axis=2)
        below += ((q[:, None, :] < q[:, :, None]) & before).sum(axis=2)
        out[lo:hi] = below
    return out.ravel()


def halt_series(
    rule: Rule,
    high: NDArray[np.float64],
    low: NDArray[np.float64],
    close: NDArray[np.float64],
    tr_sums: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Whether the market is halted after each candle closed, with the levels: what
    ``VolatilityFilter.on_bar`` decides, candle by candle, for a whole frame (a halted
    candle's rank, which only ``/risk`` shows, is ``rank_at``). ``tr_sums``: as
    ``levels_of`` takes them (over ``rule.period``)."""
    levels = levels_of(rule.measure, rule.period, high, low, close, tr_sums)
    if not rule.on:
        return np.zeros(len(levels), dtype=bool), levels
    trip: NDArray[np.bool_] | None = None
    go: NDArray[np.bool_] | None = None
    if rule.halt_rank > 0:
        warm, trip, go = verdicts_of(levels, rule.window, rule.resume_rank, rule.halt_rank)
    if rule.halt_pct > 0:
        known = ~np.isnan(levels)
        over = known & (levels > rule.halt_pct)
        below = known & (levels < rule.resume_pct)  # every mode that judges must let go
        if trip is None or go is None:
            trip, go = over, below
        else:
            trip |= over
            go = (known | warm) & (below | ~known) & (go | ~warm)
    assert trip is not None  # one mode at least is on
    assert go is not None
    return _held(trip, go), levels


def _held(trip: NDArray[np.bool_], go: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The state after each candle: the verdict of the last decisive candle (one that trips
    or lets go) at or before it; none: not halted. Trip and let-go never hold together
    (resume levels are at most the halt levels; trip would win). Only a candle that does
    not let go can be halted, so the state is worked out on those alone (a few in a
    hundred): in each run of them (candles in a row), halted from its first trip on."""
    held = np.zeros(len(trip), dtype=bool)
    k = np.flatnonzero(trip | ~go)
    tripped = trip[k]
    if not tripped.any():
        return held
    counts: NDArray[np.int64] = np.cumsum(tripped, dtype=np.int64)
    starts = np.ones(len(k), dtype=bool)
    starts[1:] = np.diff(k) != 1
    before: NDArray[np.int64] = (counts - tripped)[starts]  # the trips before each run
    held[k] = counts > before[np.cumsum(starts) - 1]
    return held


def verdicts_of(
    levels: NDArray[np.float64], window: int, resume_rank: int, halt_rank: int, chunk: int = 2048
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """(warm, trip, go) of each candle: its window is full, its rank is at least
    ``halt_rank``, its rank is below ``resume_rank``; what ``ranks_of`` would decide, in a
    sixth of its time, since the filter needs no rank but these two comparisons.

    Only the top of a window matters: a rank below ``resume_rank`` means at least
    ``top = window - resume_rank + 1`` of the window's levels are at or above the level.
    The levels are cut in sub-blocks of ``b`` candles; every window of the candles of
    sub-block ``s`` holds the ``cover`` whole sub-blocks before it (its *core*), so a level
    at or below the core's ``top``-th highest (found among each sub-block's ``top``
    highest) lets go. That one comparison settles nineteen candles in twenty; the others
    count the core's highest levels at or above them, and the ``window - cover * b``
    levels of their window outside the core, one by one (``_outside_rows``).
    """
    n = len(levels)
    valid = np.flatnonzero(~np.isnan(levels))
    top = window - resume_rank + 1
    b = max(top, window // 9)
    cover = (window - b + 1) // b
    if len(valid) <= window or cover < 2 or b < 2:  # short windows: every rank, as the track does
        ranks = ranks_of(levels, window)
        warm = ranks >= 0
        return warm, warm & (ranks >= halt_rank), warm & (ranks < resume_rank)
    first = int(valid[0])
    v = levels[first:]
    m = len(v)
    whole = m // b
    highs = np.partition(v[: whole * b].reshape(whole, b), b - top, axis=1)[:, b - top :]
    cores = _top_of_runs(highs, cover, top)
    # candle ``window + k`` of sub-block s takes core row s - cover, whose column 0 is the
    # core's top-th highest: at or below it, the candle lets go
    level = v[window:]
    floor = np.repeat(cores[:, 0], b)[window - cover * b : m - cover * b]
    close = np.flatnonzero(level > floor)
    warm = np.zeros(n, dtype=bool)
    trip = np.zeros(n, dtype=bool)
    go = np.zeros(n, dtype=bool)
    warm[first + window :] = True
    # every other candle has at least ``top`` levels at or above it
    go[first + window :] = True
    if top <= window - halt_rank:
        trip[first + window :] = True
    if not len(close):
        return warm, trip, go
    extra = window - cover * b
    # a candle ``into`` its sub-block s finds the levels of its window outside the core in
    # row s at ``into .. into + extra``: one comparison each, none masked
    subs, into_all = np.divmod(close + window, b)
    # the sub-blocks with such candles (clustered: a few); ``close`` is ascending, so
    # ``subs`` is too, and a new sub-block starts where it changes
    starts = np.empty(len(subs), dtype=bool)
    starts[0] = True
    np.not_equal(subs[1:], subs[:-1], out=starts[1:])
    needed = subs[starts]
    row_all = np.cumsum(starts) - 1
    outside = sliding_window_view(_outside_rows(v, b, cover, extra, needed), extra, axis=1)
    limit = window - halt_rank
    judged = close + (first + window)
    for lo in range(0, len(close), chunk):
        c = close[lo : lo + chunk]
        x = level[c][:, None]
        count = (cores[subs[lo : lo + chunk] - cover] >= x).sum(axis=1)
        count += (outside[row_all[lo : lo + chunk], into_all[lo : lo + chunk]] >= x).sum(axis=1)
        at = judged[lo : lo + chunk]
        trip[at] = np.minimum(count, top) <= limit
        go[at] = count >= top
    return warm, trip, go


def _outside_rows(
    v: NDArray[np.float64], b: int, cover: int, extra: int, subs: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Per sub-block of ``subs`` (of ``b`` levels each, at least ``cover`` of them before it):
    the ``extra`` levels before the core of its candles (the ``cover`` sub-blocks before
    it), then its own ``b`` levels; NaN (never at or above a level) past the end. A candle
    ``into`` such a sub-block has ``extra - into`` levels of its window before the core and
    ``into`` after it: together the row's ``into .. into + extra``."""
    m = len(v)
    starts = (subs - cover) * b - extra  # each row's first level, maybe before v[0]
    ends = (subs + 1) * b  # each row's end, maybe past v's
    inner = (starts >= 0) & (ends <= m)  # all but a row at either end: straight from v
    rows = np.empty((len(subs), extra + b))
    rows[inner, :extra] = sliding_window_view(v, extra)[starts[inner]]
    rows[inner, extra:] = sliding_window_view(v, b)[subs[inner] * b]
    for i in np.flatnonzero(~inner).tolist():  # NaN where a row reaches past v
        lo, own = int(starts[i]), int(subs[i]) * b
        before, mine = rows[i, :extra], rows[i, extra:]
        before.fill(_NAN)
        mine.fill(_NAN)
        part = v[max(lo, 0) : lo + extra]
        before[extra - len(part) :] = part
        part = v[own : own + b]
        mine[: len(part)] = part
    return rows


def _top_of_runs(highs: NDArray[np.float64], cover: int, top: int) -> NDArray[np.float64]:
    """The ``top`` highest levels of each run of ``cover`` consecutive rows of ``highs``
    (each row a sub-block's ``top`` highest), column 0 the ``top``-th highest.

    Runs of 1, 2, 4 ... rows are merged pairwise (a run of ``2s`` is two disjoint runs of
    ``s``), and a run of ``cover`` rows from the disjoint power-of-two runs of its binary
    form: each step partitions ``2 * top`` levels per row, where partitioning the
    ``cover * top`` levels of every run at once cost twice as much.
    """

    def merge(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        both = np.concatenate([a, b], axis=1)
        both.partition(top, axis=1)
        return both[:, top:]

    runs = [highs]  # runs[k]: row s is the top of rows s .. s + 2**k - 1
    while 2 ** len(runs) <= cover:
        span = 2 ** (len(runs) - 1)
        runs.append(merge(runs[-1][:-span], runs[-1][span:]))
    count = len(highs) - cover + 1
    out: NDArray[np.float64] | None = None
    offset = 0
    for k in range(len(runs) - 1, -1, -1):
        if cover - offset >= 2**k:
            part = runs[k][offset : offset + count]
            out = part if out is None else merge(out, part)
            offset += 2**k
    assert out is not None
    return out


def first_level(levels: NDArray[np.float64]) -> int:
    """The index of the first level that is not NaN (``len(levels)``: none)."""
    known = ~np.isnan(levels)
    first = int(np.argmax(known)) if len(levels) else 0
    return first if len(levels) and known[first] else len(levels)


def rank_at(levels: NDArray[np.float64], index: int, window: int, first: int | None = None) -> int:
    """``ranks_of(levels, window)[index]`` alone, for the few candles that need one.

    ``first``: ``first_level(levels)``, if the caller keeps it; found here otherwise, a pass
    over the whole frame that would cost more than the count itself (a backtest asks this at
    every entry the filter holds back)."""
    if first is None:
        first = first_level(levels)
    if first >= len(levels) or index - first < window:
        return -1
    return int(np.count_nonzero(levels[index - window : index] < levels[index]))
