"""Build candles of any timeframe from the trade tape, for one market.

Why not Upbit's ``candle.*`` stream: it exists only for a few units, repeats snapshots, and says
nothing about quiet intervals. Building from trades gives every timeframe the same rules:

* Buckets are UTC-aligned (``trading.timeframes.bucket_start``), so 1d starts at 00:00 UTC.
* A bar closes when a trade of a later bucket arrives, or when ``tick(now)`` passes its end
  plus ``grace`` (trades reach us a little after they happen), so a quiet market still closes
  bars on time.
* Indicators must never see a hole: every empty interval after a closed bar becomes a flat bar
  (open = high = low = close = previous close, volume 0, trades 0), emitted as soon as it is
  known (by a later trade or by ``tick``). A flat bar emitted during a feed outage may be wrong;
  ``merge`` (used by ``backfill.fill_gap``) later replaces it with REST truth.
* A trade older than the open bar (or older than the last closed bar when none is open) is
  counted in ``late_trades`` and ignored: a closed bar is never reopened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from trading.domain import Bar, TradePrint
from trading.marketdata.bars import check_series, fill_holes, flat_between
from trading.timeframes import bucket_start, timeframe_seconds

DEFAULT_HISTORY = 1000


@dataclass(slots=True)
class _Open:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int

    @classmethod
    def first(cls, start: datetime, p: TradePrint) -> _Open:
        return cls(start, p.price, p.price, p.price, p.price, p.volume, 1)

    def add(self, p: TradePrint) -> None:
        self.high = max(self.high, p.price)
        self.low = min(self.low, p.price)
        self.close = p.price
        self.volume += p.volume
        self.trades += 1

    def bar(self, market: str, timeframe: str) -> Bar:
        return Bar(
            market,
            timeframe,
            self.start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.trades,
        )


def _is_flat(bar: Bar) -> bool:
    return bar.volume == 0 and bar.trades == 0 and bar.open == bar.high == bar.low == bar.close


class CandleBuilder:
    """Aggregates one market's ``TradePrint``s into ``Bar``s of ``timeframe``.

    ``on_close`` is called for every closed bar (flat ones included), oldest first; the same
    bars are returned by ``add``/``tick``. Bars loaded by ``seed`` or corrected by ``merge`` are
    history only and are not announced.
    """

    def __init__(
        self,
        market: str,
        timeframe: str,
        *,
        on_close: Callable[[Bar], None] | None = None,
        history: int = DEFAULT_HISTORY,
        grace: timedelta | None = None,
    ) -> None:
        if history < 1:
            raise ValueError("history must hold at least one bar")
        self.market = market
        self.timeframe = timeframe
        self.seconds = timeframe_seconds(timeframe)
        self._step = timedelta(seconds=self.seconds)
        # 2 s covers Upbit's delivery delay; a 1 s bar cannot wait that long
        self.grace = grace if grace is not None else timedelta(seconds=min(2.0, self.seconds / 2))
        self._on_close = on_close
        self._history: deque[Bar] = deque(maxlen=history)
        self._open: _Open | None = None
        self._last: Bar | None = None
        self.late_trades = 0
        self.last_trade_at: datetime | None = None

    # ------------------------------------------------------------------ reading

    @property
    def maxlen(self) -> int:
        return self._history.maxlen or 0

    def reserve(self, bars: int) -> None:
        """Hold at least ``bars`` closed bars from now on (a longer warm-up); never shrinks,
        so nothing held is dropped."""
        if bars > self.maxlen:
            self._history = deque(self._history, maxlen=bars)

    @property
    def open_bar(self) -> Bar | None:
        """The bar still being built (partial), if any."""
        return self._open.bar(self.market, self.timeframe) if self._open else None

    @property
    def last_closed(self) -> Bar | None:
        return self._last

    def history(self, count: int | None = None) -> list[Bar]:
        """Closed bars, oldest first and contiguous; the last ``count`` if given."""
        bars = list(self._history)
        return bars if count is None else bars[-count:] if count > 0 else []

    # ------------------------------------------------------------------ live input

    def add(self, p: TradePrint) -> list[Bar]:
        """Feed one trade; returns the bars it closed (oldest first)."""
        if p.market != self.market:
            raise ValueError(f"{self.market} builder got a trade of {p.market}")
        start = bucket_start(p.at, self.seconds)
        closed: list[Bar] = []
        if self._open is not None:
            if start == self._open.start:
                self._open.add(p)
                self._seen(p)
                return closed
            if start < self._open.start:
                self.late_trades += 1
                return closed
            closed.extend(self._close_open())
        elif self._last is not None and start < self._last.end:
            self.late_trades += 1
            return closed
        closed.extend(self._fill_to(start))
        self._open = _Open.first(start, p)
        self._seen(p)
        return closed

    def tick(self, now: datetime) -> list[Bar]:
        """Close what is over at ``now`` (minus grace): the open bar, then quiet intervals."""
        closed: list[Bar] = []
        cutoff = now - self.grace
        if self._open is not None and self._open.start + self._step <= cutoff:
            closed.extend(self._close_open())
        if self._open is None:
            closed.extend(self._fill_to(bucket_start(cutoff, self.seconds)))
        return closed

    # ------------------------------------------------------------------ history input

    def seed(self, bars: Iterable[Bar]) -> None:
        """Load backfilled bars before or after the current history (never overlapping)."""
        new = list(bars)
        if not new:
            return
        check_series(new, self.market, self.timeframe)
        if self._open is not None and new[-1].end > self._open.start:
            raise ValueError(
                f"seeded bars reach {new[-1].end.isoformat()}, past the open bar "
                f"{self._open.start.isoformat()}"
            )
        old = list(self._history)
        if old and new[-1].end <= old[0].start:
            combined = new + old
        elif old and new[0].start >= old[-1].end:
            combined = old + new
        elif old:
            raise ValueError(
                f"seeded bars {new[0].start.isoformat()}..{new[-1].end.isoformat()} overlap "
                f"the history {old[0].start.isoformat()}..{old[-1].end.isoformat()}"
            )
        else:
            combined = new
        self._replace(combined)

    def merge(self, bars: Iterable[Bar], start: datetime, end: datetime) -> list[Bar]:
        """Replace history in ``[start, end)`` with authoritative (REST) bars.

        Intervals of the window that ``bars`` lack had no trades and become flat, and flat bars
        after the window are re-derived from the corrected close. Only fully
        closed intervals before the open bar are touched. An empty ``bars`` changes nothing (an
        empty REST answer is more likely a failure than a silent market). Returns the bars that
        differ from what the history held.
        """
        new = list(bars)
        check_series(new, self.market, self.timeframe)
        if self._open is not None:
            end = min(end, self._open.start)
        new = [b for b in new if start <= b.start and b.end <= end]
        if not new:
            return []
        before = {b.start: b for b in self._history}
        # flat bars after the window were derived from a close that may have changed
        kept = [
            b for b in self._history if b.start < start or (b.start >= end and not _is_flat(b))
        ]
        combined = sorted(kept + new, key=lambda b: b.start)
        frontier = max(end, self._last.end) if self._last is not None else end
        combined = fill_holes(combined, until=frontier, limit=self.maxlen)
        self._replace(combined)
        return [b for b in self._history if b.start >= start and before.get(b.start) != b]

    # ------------------------------------------------------------------ internals

    def _seen(self, p: TradePrint) -> None:
        if self.last_trade_at is None or p.at > self.last_trade_at:
            self.last_trade_at = p.at

    def _replace(self, bars: list[Bar]) -> None:
        bars = fill_holes(bars, limit=self.maxlen)
        self._history = deque(bars[-self.maxlen :], maxlen=self.maxlen)
        self._last = bars[-1] if bars else None

    def _close_open(self) -> list[Bar]:
        assert self._open is not None
        bar = self._open.bar(self.market, self.timeframe)
        self._open = None
        closed = self._fill_to(bar.start)  # history may have been seeded after it opened
        self._push(bar)
        return [*closed, bar]

    def _fill_to(self, until: datetime) -> list[Bar]:
        if self._last is None:
            return []
        flats = flat_between(self._last, until, limit=self.maxlen)
        for bar in flats:
            self._push(bar)
        return flats

    def _push(self, bar: Bar) -> None:
        self._history.append(bar)
        self._last = bar
        if self._on_close is not None:
            self._on_close(bar)
