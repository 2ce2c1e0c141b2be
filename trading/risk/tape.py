"""``TradeTape``: closed trades in exit order with running totals, so the protections read
any window in two bisects instead of a walk over its trades.

A year of 1-minute trading closes thousands of trades, and a 30-day lookback holds hundreds
of them: walking the window at every close made a backtest with idle protections seven times
slower than without. Prefix sums of the returns and prefix counts of losing stops answer a
window's count, sum and stops from two positions; the drawdown guard's best point in the
window is a sliding maximum (a monotonic deque). Sums are exact (a context wide enough for
any sum of 28-digit ratios), so the order of additions never changes an answer, and a tape
rebuilt from the stored trades after a restart answers exactly what the old one would.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from datetime import datetime
from decimal import Context, Decimal

from trading.positions.model import STOP_EXITS
from trading.risk.memory import ClosedTrade

_EXACT = Context(prec=200)
_ZERO = Decimal(0)
_COMPACT_AFTER = 256  # forgotten entries kept before the lists are cut


def losing_stop(trade: ClosedTrade) -> bool:
    """What the stoploss guard counts: a stop (or trailing stop) exit at a loss."""
    return trade.reason in STOP_EXITS and trade.profit < 0


class TradeTape:
    """One market's (or every market's) trades; ``add`` them in exit order.

    Entry ``k`` of ``sums`` is the summed return of the trades before trade ``k`` (so
    ``sums[0]`` is 0), ``stops`` the same for the count of losing stops. Trades before
    ``first`` are forgotten (kept until enough of them pile up to cut the lists).
    """

    def __init__(self) -> None:
        self.trades: list[ClosedTrade] = []
        self.times: list[datetime] = []
        self.sums: list[Decimal] = [_ZERO]
        self.stops: list[int] = [0]
        self.first = 0
        self._peaks: deque[int] = deque([0])  # indices of sums, decreasing sums (drawdown)
        self._peaks_from = 0  # the first index of sums the peaks were built from

    def __len__(self) -> int:
        return len(self.trades) - self.first

    def kept(self) -> list[ClosedTrade]:
        return self.trades[self.first :]

    def add(self, trade: ClosedTrade) -> None:
        self.trades.append(trade)
        self.times.append(trade.at)
        self.sums.append(_EXACT.add(self.sums[-1], trade.profit))
        self.stops.append(self.stops[-1] + losing_stop(trade))
        peaks, total = self._peaks, self.sums[-1]
        while peaks and self.sums[peaks[-1]] <= total:
            peaks.pop()
        peaks.append(len(self.sums) - 1)

    def since(self, cutoff: datetime) -> int:
        """The index of the first trade that closed after ``cutoff``."""
        return bisect_right(self.times, cutoff, lo=self.first)

    def count(self, start: int) -> int:
        return len(self.trades) - start

    def total(self, start: int) -> Decimal:
        """The summed return of the trades from ``start`` on."""
        return _EXACT.subtract(self.sums[-1], self.sums[start])

    def losing_stops(self, start: int) -> int:
        return self.stops[-1] - self.stops[start]

    def drawdown(self, start: int) -> Decimal:
        """How far the running sum of the returns from ``start`` on is now below its best
        (the start, 0, included): (-0.02, -0.015, +0.01) is 0.025 below the start."""
        if start < self._peaks_from:  # a longer window than before (a live /set): rebuild
            self._rebuild(start)
        peaks = self._peaks
        while peaks[0] < start:
            peaks.popleft()
        self._peaks_from = start
        return _EXACT.subtract(self.sums[peaks[0]], self.sums[-1])

    def forget(self, cutoff: datetime) -> None:
        """Forget the trades that closed at or before ``cutoff``."""
        times, first = self.times, self.first
        if first == len(times) or times[first] > cutoff:
            return  # nothing to forget (most closes): no bisect
        self.first = self.since(cutoff)
        if self.first < _COMPACT_AFTER or self.first * 2 < len(self.trades):
            return
        cut = self.first
        del self.trades[:cut], self.times[:cut], self.sums[:cut], self.stops[:cut]
        self.first = 0
        self._peaks = deque(i - cut for i in self._peaks if i >= cut)
        self._peaks_from = max(self._peaks_from - cut, 0)
        if not self._peaks:
            self._rebuild(0)

    def _rebuild(self, start: int) -> None:
        peaks: deque[int] = deque()
        for i in range(start, len(self.sums)):
            while peaks and self.sums[peaks[-1]] <= self.sums[i]:
                peaks.pop()
            peaks.append(i)
        self._peaks, self._peaks_from = peaks, start
