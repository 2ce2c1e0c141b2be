"""``run_backtest``: paper trading's decisions over whole candle arrays, without the event loop.

Per market the strategy runs once over the whole frame (``safe_signals``; the strategy
contract makes bar i's value equal to the live rolling evaluation after warm-up). Then one
loop visits only the moments where something can happen, in replay order (time, then market
order): an entry signal while flat, and the exit of each position. A position's exit depends
on its own market only (exit signal, stop or take-profit), so it is planned when the position
opens; entries depend on the whole account (cash, open positions, equity) and go through the
real ``RiskGate.check_entry``. Fills use the paper exchange's arithmetic
(``trading.paper.fill_model``), stops the real ``TrailingStop`` (``trading.backtest.stops``),
re-entry the real position state machine (``trading.backtest.rules``).
"""

from __future__ import annotations

import gc
import heapq
import math
from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from trading.backtest.data import check_aligned, find_gaps, iso
from trading.backtest.grid import TickGrid
from trading.backtest.metrics import metrics_of_curve
from trading.backtest.result import BacktestResult, BuyAndHold, ExitKind, Trade
from trading.backtest.rules import reentry_delay
from trading.backtest.spec import BacktestSpec
from trading.backtest.stops import FRACTIONS, StopScanner, dec, print_time
from trading.backtest.triggers import TriggerFill, print_price, trigger_plan
from trading.paper.fill_model import budget_volume, fill_amounts, slipped_price
from trading.positions import ExitReason, PositionRules
from trading.risk import checks
from trading.risk.decision import Approved
from trading.risk.gate import EntryRequest, FillEstimator, RiskContext, RiskGate
from trading.risk.memory import ClosedTrade
from trading.risk.protections import any_enabled
from trading.risk.stops import TrailingStop, exits_on, trail_of
from trading.risk.volatility import Rule, first_level, halt_series, rank_at
from trading.strategies import CandleFrame, safe_signals

if TYPE_CHECKING:
    from trading.exchange import Exchange

ZERO = Decimal(0)
_ENTRY, _EXIT = 1, 0  # at one moment a market's exit is handled before its next entry
_REASONS = {
    "stop": ExitReason.STOP,
    "trailing": ExitReason.TRAILING,
    "take_profit": ExitReason.TAKE_PROFIT,
    "roi": ExitReason.ROI,
    "time": ExitReason.TIME,
    "signal": ExitReason.SIGNAL,
    "end": ExitReason.SIGNAL,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CHUNK = 64  # exit signals read at a time when only profitable ones count


@dataclass(slots=True)
class _Open:
    """A position the loop holds, with its exit already planned."""

    entry_bar: int
    entry_at: datetime
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    exit_bar: int  # candle in which the exit fills (len(frame) = never: held to the end)
    exit_print: int
    exit_price: float
    exit_kind: ExitKind
    judge_from: int = 1  # the first print of the entry candle the stop judges


class _Market:
    def __init__(self, index: int, name: str, frame: CandleFrame, spec: BacktestSpec) -> None:
        self.index = index
        self.name = name
        self.frame = frame
        self.n = len(frame)
        signals = safe_signals(spec.strategy, frame)
        # no signal before the history is warm; the last candle never closes in a replay,
        # so its signal is never seen
        warm = max(spec.strategy.warmup_for(spec.timeframe_s), spec.limits.atr_period + 1) - 1
        self.first = 0  # the first candle that counts (``spec.trade_from``)
        if spec.trade_from is not None:
            tf, start0 = spec.timeframe_s, int(frame.start[0])
            self.first = min(max(-((start0 - spec.trade_from) // tf), 0), self.n)
            warm = max(warm, self.first)
        acted = slice(warm, self.n - 1)
        self.entries: list[int] = (np.flatnonzero(signals.entry[acted]) + warm).tolist()
        exits = np.flatnonzero(signals.exit[acted]) + warm
        self.exits: list[int] = exits.tolist()
        self.exit_closes = frame.close[exits]  # the close of each exit-signal candle
        self.exit_closes_f: list[float] = self.exit_closes.tolist()
        # intra-candle entries (an entry_trigger level): candle i's level fires inside candle
        # i, the last candle's too (its prints are replayed)
        self.trigger = trigger_plan(
            name, frame, signals.entry_trigger, warm, spec.rules, position_rules(spec)
        )
        self.allowed_from = 0  # first signal candle that may enter (cooldown, no re-entry)
        self.position: _Open | None = None
        self.trades: list[tuple[_Open, Decimal, Decimal, Decimal]] = []  # open, price, funds, fee
        self.scanner: StopScanner | None = None
        # the volatility filter's state after each candle (``halt_series``), if it is on,
        # with the index of its first level (``rank_at`` of a halted candle counts from it)
        self.volatility: tuple[NDArray[np.bool_], NDArray[np.float64], int] | None = None
        self.offset = 0  # index of the first candle in the union timeline
        self.min_total = spec.rules.min_total(name)  # the venue's order-total limits
        self.max_total = spec.rules.max_total(name)
        self.step = spec.rules.volume_step
        self.grid = TickGrid(spec.rules, name)  # its fills' prices onto the tick grid
        self.last_close = float(frame.close[-1])
        self.start0 = int(frame.start[0])  # the frame is contiguous: start[i] = start0 + i * tf
        self.tf = spec.timeframe_s

    def next_entry(self, after: int) -> int | None:
        """The first entry-signal candle >= max(after, allowed_from)."""
        k = bisect_left(self.entries, max(after, self.allowed_from))
        return self.entries[k] if k < len(self.entries) else None

    def next_exit_signal(self, after: int) -> int | None:
        k = bisect_left(self.exits, after)
        return self.exits[k] if k < len(self.exits) else None

    def last_price(self, at: int, before_me: bool) -> float:
        """The last print at epoch ``at``: this candle's open if its print came first, else
        the previous close (replay merges markets by time, ties in market order)."""
        # the first candle starting at or after ``at`` (the frame is contiguous and aligned)
        k = min(max(-((self.start0 - at) // self.tf), 0), self.n)
        if before_me and k < self.n and self.start0 + k * self.tf == at:
            return float(self.frame.open[k])
        return float(self.frame.close[max(k - 1, 0)])


def _print_price(frame: CandleFrame, bar: int, index: int) -> float:
    """Print ``index`` of candle ``bar`` as replay makes it: open, nearer extreme, other
    extreme, close (a rising candle goes low first)."""
    o, c = float(frame.open[bar]), float(frame.close[bar])
    lo, hi = float(frame.low[bar]), float(frame.high[bar])
    return ((o, lo, hi, c) if c >= o else (o, hi, lo, c))[index]


def _index(m: _Market) -> int:
    return m.index


def _check_frames(data: Mapping[str, CandleFrame], timeframe_s: int) -> None:
    if not data:
        raise ValueError("no market data: pass at least one market")
    for name, frame in data.items():
        if len(frame) == 0:
            raise ValueError(f"{name}: no candles")
        if int(frame.start[0]) % timeframe_s == 0 and bool(
            np.all(np.diff(frame.start) == timeframe_s)
        ):
            continue  # aligned and contiguous: the common case, one pass
        check_aligned(frame, timeframe_s, name)
        gaps = find_gaps(frame, timeframe_s)
        if gaps:
            assert gaps.first_after is not None
            raise ValueError(
                f"{name}: {gaps.missing} missing candle(s) in {gaps.holes} gap(s), the first"
                f" after {iso(gaps.first_after)}; fill them first (data.fill_gaps)"
            )


def _timeline(markets: list[_Market], timeframe_s: int) -> NDArray[np.int64]:
    """Every candle start of any market, sorted. Each frame is contiguous and aligned (checked
    first), so when their spans overlap or touch the union is one range: no concatenation."""
    first = markets[0].frame.start
    if all(m.n == len(first) and m.start0 == int(first[0]) for m in markets):
        return first
    spans = sorted((m.start0, m.start0 + m.n * timeframe_s) for m in markets)
    reach = spans[0][1]
    for lo, hi in spans[1:]:
        if lo > reach:  # a hole between markets: the union is not one range
            return np.unique(np.concatenate([m.frame.start for m in markets]))
        reach = max(reach, hi)
    return np.arange(spans[0][0], reach, timeframe_s, dtype=np.int64)


class _Backtest:
    # Long on purpose: a flat list of what the replay's hot loop reads, computed once.
    def __init__(self, spec: BacktestSpec, data: Mapping[str, CandleFrame]) -> None:
        self.spec = spec
        self.tf = spec.timeframe_s
        _check_frames(data, self.tf)
        if spec.trade_from is not None and all(
            int(f.start[-1]) < spec.trade_from for f in data.values()
        ):
            raise ValueError(f"no candles at or after trade_from {iso(spec.trade_from)}")
        self.markets = [_Market(i, name, f, spec) for i, (name, f) in enumerate(data.items())]
        self.limits = spec.limits
        self.gate = RiskGate(spec.limits, rules=spec.rules)
        self.day: Any = None
        if spec.limits.daily_loss_limit_krw > 0:
            # the engine's own day-PnL bookkeeping (it never touches the exchange for this);
            # with the daily loss halt off nothing reads the day's PnL, and the engine
            # package (with the order manager and the store) stays unloaded
            from trading.engine.account import AccountView

            self.day = AccountView(cast("Exchange", None), spec.limits.zone)
        self.cash = spec.start_krw
        self.open_count = 0
        self.holding: list[_Market] = []  # markets with a position, in market order
        # every fill in replay order: its market, its candle, the cash after it
        self.change_market: list[int] = []
        self.change_bar: list[int] = []
        self.change_cash: list[float] = []  # float(cash): the equity curve is float
        rules = position_rules(spec)
        self.delay = {r: reentry_delay(rules, r) for r in ExitReason}
        self.quiet_gate = (
            spec.limits.daily_loss_limit_krw == 0 and spec.limits.max_drawdown_pct == 0
        )
        self.need_krw = checks.required_krw(spec.limits.position_size_krw, spec.limits)
        size = spec.limits.position_size_krw
        self.budget_lock = size + size * spec.fee_rate
        self.stops_on = exits_on(spec.limits)
        self.trail = trail_of(spec.limits)
        self.holding_us = spec.limits.max_holding_minutes * 60_000_000
        vol_rule = Rule.of(spec.limits)
        self.volatility_on = vol_rule.on
        self.vol_window = vol_rule.window
        if self.stops_on:
            for m in self.markets:
                m.scanner = StopScanner(m.name, spec.timeframe, m.frame, spec.limits.atr_period)
        if self.volatility_on:
            # the whole frame at once, the very floats the gate's ``on_bar`` would compute
            # candle by candle (one ``Bar`` per candle cost 20x the plain run); an ATR stop
            # over the same period works out the exact true-range sums the levels need anyway
            share = (
                vol_rule.measure == "atr"
                and spec.limits.atr_stop_mult > 0
                and spec.limits.atr_period == vol_rule.period
            )
            for m in self.markets:
                f = m.frame
                sums = m.scanner.whole_tr_sums() if share and m.scanner is not None else None
                halted, levels = halt_series(vol_rule, f.high, f.low, f.close, sums)
                m.volatility = (halted, levels, first_level(levels))
        self.protections_on = any_enabled(spec.limits)  # fed once per closed trade
        self.heap: list[tuple[int, int, int, int]] = []  # (time µs, market, kind, candle)
        self._held = 0  # candles closed with a position (one market)
        self.print_us = tuple(int(self.tf * 1_000_000 * f) for f in FRACTIONS)
        # ``print_time``'s offsets exactly (a timedelta of float seconds rounds to the µs)
        self.print_offsets_us = tuple(
            timedelta(seconds=self.tf * f) // _MICROSECOND for f in FRACTIONS
        )
        self.tf_us = self.tf * 1_000_000
        # per market and side: the float price read from the frame -> the slipped Decimal
        self._slipped: list[tuple[dict[float, Decimal], dict[float, Decimal]]] = [
            ({}, {}) for _ in self.markets
        ]
        self.max_open = spec.limits.max_open_positions
        self.size = spec.limits.position_size_krw
        self.strategy_name = spec.strategy.name
        self.exit_delay = {kind: self.delay[reason] for kind, reason in _REASONS.items()}
        self.profit_factor = 1 + spec.limits.exit_profit_offset_pct / 100  # signal_counts's

    def slipped(self, m: _Market, last: float, side: str) -> Decimal:
        """``fill_model.slipped_price`` of the print ``last`` (a float read from the frame),
        remembered per market and side: fills repeat prices a lot, and a float is a cheaper
        key than a Decimal."""
        cache = self._slipped[m.index][side == "ask"]
        price = cache.get(last)
        if price is None:
            spec = self.spec
            if spec.slippage_bps:
                price = m.grid.slipped(dec(last), side, spec.slippage_bps)
            else:
                price = slipped_price(spec.rules, m.name, dec(last), side, spec.slippage_bps)
            cache[last] = price
        return price

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        for m in self.markets:
            self._queue_entry(m, 0)
        heap = self.heap
        while heap:
            _, index, kind, bar = heapq.heappop(heap)
            m = self.markets[index]
            if kind == _EXIT:
                self._exit(m)
            else:
                self._try_entry(m, bar)

    def _queue_entry(self, m: _Market, after: int) -> None:
        if m.trigger is not None:  # the next trigger candle, at the print it buys at
            fill = m.trigger.next(after)
            if fill is not None:
                at = m.start0 * 1_000_000 + fill.bar * self.tf_us + self.print_us[fill.print_index]
                heapq.heappush(self.heap, (at, m.index, _ENTRY, fill.bar))
            return
        bar = m.next_entry(after)
        if bar is not None:
            at = m.start0 * 1_000_000 + (bar + 1) * self.tf_us
            heapq.heappush(self.heap, (at, m.index, _ENTRY, bar))

    # -- entries -------------------------------------------------------------------------------

    def _try_entry(self, m: _Market, bar: int) -> None:
        """Engine.enter for the signal on candle ``bar``, at the next candle's open print;
        with an entry trigger, ``Engine.enter_on_trigger`` at its print in candle ``bar``."""
        fill_bar = bar + 1
        trigger = m.trigger.pending if m.trigger is not None else None
        if m.volatility is not None:
            # an entry trigger fires inside candle ``bar``: the candles before it have closed
            self._assume_volatility(m, bar if trigger is None else bar - 1)
        if self.quiet_gate and (self.open_count >= self.max_open or self.cash < self.need_krw):
            # the gate would deny it (max_positions or balance, if nothing before them),
            # and with the loss and drawdown halts off, asking it changes no state
            self._queue_entry(m, bar + 1)
            return
        frame = m.frame
        at_s = m.start0 + fill_bar * self.tf
        now = datetime.fromtimestamp(at_s, UTC)
        # the open print is the last price when the bar closes
        open_f = float(frame.open[fill_bar]) if trigger is None else trigger.price
        if trigger is not None:
            fill_bar, now = bar, print_time(int(frame.start[bar]), self.tf, trigger.print_index)
            equity = (
                self.cash + self._trigger_holdings(m, trigger) if self.open_count else self.cash
            )
        else:
            equity = self.cash + self._holdings(m, at_s) if self.open_count else self.cash
        if self.spec.slippage_check:
            last = dec(open_f)
            # no order book in a replay: the engine estimates a buy at the last price
            estimate: FillEstimator | None = lambda _m, _krw: last  # noqa: E731
        else:
            estimate = None
        ctx = RiskContext(
            free_krw=self.cash,
            open_positions=self.open_count,
            equity=equity,
            day_pnl=self.day.day_pnl(now, equity) if self.day is not None else ZERO,
            estimate_fill=estimate,
        )
        request = EntryRequest(
            market=m.name,
            signal_price=dec(frame.close[bar]) if trigger is None else trigger.level,
            krw=self.size,
            bar_time=now,
            strategy=self.strategy_name,
        )
        decision = self.gate.check_entry(request, ctx)
        if not (decision.ok and self._buy(m, fill_bar, now, open_f, cast(Approved, decision))):
            self._queue_entry(m, bar + 1)  # a trigger fires once per candle

    def _trigger_holdings(self, me: _Market, fill: TriggerFill) -> Decimal:
        """``_holdings`` at a trigger's print inside a candle: each market's last print."""
        at_us = me.start0 * 1_000_000 + fill.bar * self.tf_us + self.print_us[fill.print_index]
        total = ZERO
        for m in self.holding:
            if m.position is not None and m is not me:
                price = print_price(m.frame, m.start0, self.tf, at_us, m.index < me.index)
                total += m.position.volume * dec(price)
        return total

    def _buy(self, m: _Market, bar: int, now: datetime, last: float, decision: Approved) -> bool:
        """The paper exchange's market buy (a KRW budget) or IOC limit buy at the print
        ``last``; False if refused or unfilled, like an order that ends without a fill."""
        fee_rate, size = self.spec.fee_rate, self.size
        price = self.slipped(m, last, "bid")
        if decision.limit_price is None:
            total, lock = size, self.budget_lock  # the budget and its fee, locked on arrival
            volume = budget_volume(size, price, m.step)
        else:
            limit = decision.limit_price
            volume = (size / limit).quantize(m.step, ROUND_DOWN)
            total = limit * volume
            lock = total + total * fee_rate
            if price > limit:
                volume = ZERO  # an IOC limit below the market: cancelled unfilled
        too_big = m.max_total is not None and total > m.max_total
        if total < m.min_total or lock > self.cash or too_big:
            return False
        if volume <= 0:
            return False
        funds, fee = fill_amounts(price, volume, fee_rate)
        self.cash -= funds + fee
        self.open_count += 1
        self.change_market.append(m.index)
        self.change_bar.append(bar)
        self.change_cash.append(float(self.cash))
        position = _Open(bar, now, price, volume, funds, fee, m.n, 0, m.last_close, "end")
        if m.trigger is not None and m.trigger.pending is not None:
            position.judge_from = m.trigger.pending.judge_from
        self._plan_exit(m, position)
        m.position = position
        insort(self.holding, m, key=_index)
        if position.exit_bar < m.n:
            at = m.start0 * 1_000_000 + position.exit_bar * self.tf_us
            at += self.print_us[position.exit_print]
            heapq.heappush(self.heap, (at, m.index, _EXIT, position.exit_bar))
        return True

    def _plan_exit(self, m: _Market, p: _Open) -> None:
        """The first of: a stop/trailing/take-profit/ROI print, the holding time, the exit
        signal (filled at the next open), in the engine's order.

        The engine asks the holding time at each candle close before the strategy's signal,
        and before the prices of the next candle's open print: a time exit due at a
        candle's open print (``(bar, 0)``) beats the signal and a stop there; one due later in
        a candle comes after a stop or target hit at the same print.
        """
        timed = self._time_exit(m, p)
        # a signal at or after the holding time's candle comes too late to matter
        signal = self._exit_signal(m, p, None if timed is None else timed[0])
        if timed is not None and (signal is None or timed <= (signal + 1, 0)):
            time_bar, time_print = timed
            last = time_bar - 1 if time_print == 0 else time_bar
            if m.scanner is not None and self._plan_stop(m, p, last, time_bar):
                return
            p.exit_bar, p.exit_print = time_bar, time_print
            p.exit_price, p.exit_kind = _print_price(m.frame, time_bar, time_print), "time"
            return
        if m.scanner is not None:
            last = signal if signal is not None else m.n - 1
            if self._plan_stop(m, p, last, None):
                return
        if signal is not None:
            p.exit_bar, p.exit_print = signal + 1, 0
            p.exit_price, p.exit_kind = float(m.frame.open[signal + 1]), "signal"

    def _exit_signal(self, m: _Market, p: _Open, before: int | None) -> int | None:
        """The first exit-signal candle that sells ``p`` (``use_exit_signal``, and with
        ``exit_profit_only`` only a close above the profit offset, as the engine asks);
        with ``before``, only one before that candle (None: none before it)."""
        limits = self.limits
        if not limits.use_exit_signal:
            return None
        if not limits.exit_profit_only:
            found = m.next_exit_signal(p.entry_bar)
            return None if found is None or (before is not None and found >= before) else found
        need = p.price * self.profit_factor
        near = float(need) * (1 - 1e-9)
        k = bisect_left(m.exits, p.entry_bar)
        if before is not None:  # a few signals: one by one, on the float closes
            closes_f = m.exit_closes_f
            for i in range(k, bisect_left(m.exits, before, lo=k)):
                close = closes_f[i]
                if close > near and dec(close) > need:
                    return m.exits[i]
            return None
        while k < len(m.exits):
            closes = m.exit_closes[k : k + _CHUNK]
            for j in np.flatnonzero(closes > near).tolist():
                if dec(closes[j]) > need:
                    return m.exits[k + j]
            k += _CHUNK
        return None

    def _time_exit(self, m: _Market, p: _Open) -> tuple[int, int] | None:
        """The (candle, print) of the first print at or after ``max_holding_minutes`` from
        the entry (print 0: the close of the candle before, as the engine asks it)."""
        if not self.holding_us:
            return None
        # in whole microseconds since the epoch, as the datetimes compare (exact integers)
        due = (p.entry_at - _EPOCH) // _MICROSECOND + self.holding_us  # the fill's print time
        first = m.start0 * 1_000_000
        bar = (due - first) // self.tf_us
        if bar >= m.n:
            return None
        start = first + bar * self.tf_us
        for index, offset in enumerate(self.print_offsets_us):
            if start + offset >= due:
                return bar, index
        return (bar + 1, 0) if bar + 1 < m.n else None

    def _plan_stop(self, m: _Market, p: _Open, last: int, time_bar: int | None) -> bool:
        """A stop/trailing/take-profit/ROI/time print in candles up to ``last``, into ``p``;
        True if there is one."""
        assert m.scanner is not None
        limits = self.limits
        # the ATR of the candles before the entry (Engine.open_stop); None: the fallback
        atr = m.scanner.atr(p.entry_bar - 1) if limits.atr_stop_mult > 0 else None
        stop = TrailingStop.open(
            market=m.name,
            entry_price=p.price,
            atr=atr,
            atr_mult=limits.atr_stop_mult,
            rules=self.spec.rules,
            fallback_pct=limits.stop_fallback_pct,
            min_distance_pct=limits.stop_min_distance_pct,
            take_profit_pct=limits.take_profit_pct,
            stop_loss_pct=limits.stop_loss_pct,
            trail=self.trail,
            roi=limits.minimal_roi,
            max_holding_minutes=limits.max_holding_minutes,
            entered_at=p.entry_at,
        )
        if last < p.entry_bar:
            return False
        hit = m.scanner.scan(stop, p.entry_bar, last, time_bar, first_print=p.judge_from)
        if hit is None:
            return False
        p.exit_bar, p.exit_print, p.exit_price = hit.bar, hit.print_index, hit.price
        p.exit_kind = cast(ExitKind, hit.kind)
        return True

    def _assume_volatility(self, m: _Market, bar: int) -> None:
        """The volatility filter as the engine leaves it after feeding every candle up to
        ``bar`` (the signal candle) to the gate."""
        assert m.volatility is not None
        if bar < 0:  # nothing has closed yet
            self.gate.volatility.assume(m.name, False, math.nan, -1)
            return
        halted, levels, first = m.volatility
        if not halted[bar]:
            self.gate.volatility.assume(m.name, False, math.nan, -1)
            return
        rank = rank_at(levels, bar, self.vol_window, first)
        self.gate.volatility.assume(m.name, True, float(levels[bar]), rank)

    def _halted_pct(self) -> float:
        """Share of the market-candles (from ``trade_from`` on) after which the volatility
        filter held entries back, in percent."""
        halted = total = 0
        for m in self.markets:
            total += m.n - m.first
            if m.volatility is not None:
                halted += int(np.count_nonzero(m.volatility[0][m.first :]))
        return halted / total * 100.0 if total else 0.0

    def _holdings(self, me: _Market, at_s: int) -> Decimal:
        """Open positions marked at their market's last print, as the engine's account view."""
        total = ZERO
        for m in self.holding:  # in market order, as the engine's account view adds them
            if m.position is not None and m is not me:
                price = m.last_price(at_s, before_me=m.index < me.index)
                total += m.position.volume * dec(price)
        return total

    # -- exits ---------------------------------------------------------------------------------

    def _exit(self, m: _Market) -> None:
        p = m.position
        assert p is not None
        price = self.slipped(m, p.exit_price, "ask")
        if p.volume * price < m.min_total:
            # Upbit refuses the sell (under the minimum total): the position stays, as dust
            p.exit_bar, p.exit_kind, p.exit_price = m.n, "end", float(m.frame.close[-1])
            return
        funds, fee = fill_amounts(price, p.volume, self.spec.fee_rate)
        self.cash += funds - fee
        self.open_count -= 1
        self.change_market.append(m.index)
        self.change_bar.append(p.exit_bar)
        self.change_cash.append(float(self.cash))
        m.trades.append((p, price, funds, fee))
        if self.protections_on:  # the engine's feed (Engine._trade_closed), at the exit print
            exit_at = print_time(int(m.frame.start[p.exit_bar]), self.tf, p.exit_print)
            profit = (funds - p.funds - p.fee - fee) / (p.funds + p.fee)
            self.gate.trade_closed(ClosedTrade(m.name, exit_at, profit, p.exit_kind))
        m.position = None
        self.holding.remove(m)
        m.allowed_from = p.exit_bar + self.exit_delay[p.exit_kind]
        if m.trigger is not None:
            m.allowed_from = m.trigger.exited(p.exit_bar, p.exit_print, _REASONS[p.exit_kind])
        self._queue_entry(m, m.allowed_from)

    # -- the result ----------------------------------------------------------------------------

    def result(self) -> BacktestResult:
        spec, tf = self.spec, self.tf
        times = _timeline(self.markets, tf)
        count = len(times)
        multi = len(self.markets) > 1
        pnls: list[Decimal] = []
        fees = ZERO
        holdings = np.zeros(count) if multi else None
        held = np.zeros(count if multi else 0, dtype=np.int32)  # open positions per candle
        marked: NDArray[np.float64] | None = None  # one market's marked positions
        for m in self.markets:
            m.offset = int(np.searchsorted(times, m.frame.start[0]))
            for p, _, funds, fee in m.trades:
                pnls.append(funds - p.funds - p.fee - fee)
                fees += p.fee + fee
            if m.position is not None:
                p = m.position
                pnls.append(p.volume * dec(m.frame.close[-1]) - p.funds - p.fee)
                fees += p.fee
            if m.trades or m.position is not None:
                marked = self._mark(m, count, held)
                if holdings is not None:
                    holdings += marked  # in market order, as the account view adds them
        # the curve with the start in front (what the metrics read) and the equity a view of it
        curve = np.empty(count + 1)
        curve[0] = float(spec.start_krw)
        equity = curve[1:]
        equity[:] = self._cash(count)
        if holdings is not None:
            equity += holdings
        elif marked is not None:
            equity += marked
        if spec.trade_from is not None:  # the warm-up candles are not part of the result
            k = int(np.searchsorted(times, spec.trade_from))
            times, curve = times[k:], curve[k:]  # curve[0]: the equity the window starts with
            equity = curve[1:]
        hold = self._buy_and_hold()
        metrics = metrics_of_curve(
            pnls=pnls,
            fees_krw=fees,
            curve=curve,
            timeframe_s=tf,
            exposure_bars=int(np.count_nonzero(held)) if multi else self._held,
            buy_and_hold_pct=hold.return_pct,
            volatility_halted_pct=self._halted_pct(),
        )
        return BacktestResult(
            times=times,
            equity=equity,
            metrics=metrics,
            buy_and_hold=hold,
            make_trades=self.trades,
        )

    def _cash(self, count: int) -> NDArray[np.float64]:
        """The cash at each candle of the timeline (markets' offsets set): the start, then
        each fill's cash from its candle on (fills come in replay order, so the candle
        indexes never decrease; a later fill in the same candle wins)."""
        changes = len(self.change_bar)
        points = np.empty(changes + 2, dtype=np.int64)
        points[0], points[-1] = 0, count
        points[1:-1] = self.change_bar
        if len(self.markets) > 1:
            offsets = np.array([m.offset for m in self.markets], dtype=np.int64)
            points[1:-1] += offsets[np.array(self.change_market, dtype=np.int64)]
        levels = np.empty(changes + 1)
        levels[0] = float(self.spec.start_krw)
        levels[1:] = self.change_cash
        repeats: NDArray[np.int64] = np.diff(points)
        return np.repeat(levels, repeats)

    def _buy_and_hold(self) -> BuyAndHold:
        """Each market bought at the open of its first candle that counts (``trade_from``)
        and held to the last close; the return is their mean."""
        per_market = tuple(
            (m.name, (float(m.frame.close[-1]) / float(m.frame.open[m.first]) - 1.0) * 100.0)
            for m in self.markets
            if m.first < m.n
        )
        return BuyAndHold(
            return_pct=sum(r for _, r in per_market) / len(per_market), per_market=per_market
        )

    def trades(self) -> tuple[Trade, ...]:
        """Every round trip as a ``Trade``, in entry order (then market order)."""
        with _no_cyclic_gc():
            return self._trades()

    def _trades(self) -> tuple[Trade, ...]:
        out: list[tuple[int, int, Trade]] = []
        for m in self.markets:
            for p, price, funds, fee in m.trades:
                out.append((p.entry_bar + m.offset, m.index, self._trade(m, p, price, funds, fee)))
            if m.position is not None:
                p = m.position
                close = dec(m.frame.close[-1])
                trade = self._trade(m, p, close, p.volume * close, ZERO)
                out.append((p.entry_bar + m.offset, m.index, trade))
        out.sort(key=lambda row: row[:2])
        return tuple(t for _, _, t in out)

    def _mark(self, m: _Market, count: int, held: NDArray[np.int32]) -> NDArray[np.float64]:
        """The market's open positions marked at each close of the union timeline.

        Positions of one market never overlap, so the held volume per candle is a run of
        segments: flat, held, flat, held ... (one ``np.repeat``).
        """
        off, n = m.offset, m.n
        spans = len(m.trades) + (m.position is not None)
        positions = [p for p, _, _, _ in m.trades]
        if m.position is not None:
            positions.append(m.position)
        bounds = np.empty(2 * spans + 2, dtype=np.int64)
        bounds[0], bounds[-1] = 0, count
        bounds[1:-1:2] = [p.entry_bar for p in positions]
        bounds[2:-1:2] = [p.exit_bar for p in positions]
        bounds[1:-1] += off
        if m.position is not None:
            bounds[-2] = count  # held to the end
        values = np.zeros(2 * spans + 1)
        values[1::2] = [float(p.volume) for p in positions]
        lengths: NDArray[np.int64] = np.diff(bounds)
        volume_at = np.repeat(values, lengths)
        if off == 0 and n == count:
            closes = m.frame.close
        else:
            closes = np.empty(count)
            closes[:off] = m.frame.close[0]
            closes[off : off + n] = m.frame.close
            closes[off + n :] = m.frame.close[-1]
        volume_at *= closes
        self._held = int(lengths[1::2].sum())
        if len(self.markets) > 1:
            flags = np.zeros(2 * spans + 1, dtype=np.int32)
            flags[1::2] = 1
            held += np.repeat(flags, lengths)
        return volume_at

    def _trade(self, m: _Market, p: _Open, price: Decimal, funds: Decimal, fee: Decimal) -> Trade:
        if p.exit_kind == "end":
            exit_at = datetime.fromtimestamp(int(m.frame.start[-1]) + self.tf, UTC)
        else:
            exit_at = print_time(int(m.frame.start[p.exit_bar]), self.tf, p.exit_print)
        pnl = funds - p.funds - p.fee - fee
        return Trade(
            market=m.name,
            entry_at=p.entry_at,
            exit_at=exit_at,
            entry_price=p.price,
            exit_price=price,
            volume=p.volume,
            entry_fee=p.fee,
            exit_fee=fee,
            pnl_krw=pnl,
            return_pct=float(pnl) / float(p.funds + p.fee) * 100.0,
            exit_reason=p.exit_kind,
        )


def position_rules(spec: BacktestSpec) -> PositionRules:
    return PositionRules(
        spec.timeframe_s,
        spec.cooldown_candles,
        spec.stop_cooldown_candles,
        same_candle_reentry=spec.same_candle_reentry,
    )


def run_backtest(spec: BacktestSpec, data: Mapping[str, CandleFrame]) -> BacktestResult:
    """Backtest ``spec`` over ``data`` (market -> contiguous candles of ``spec.timeframe``).

    Pure and synchronous: no database, no event loop, nothing shared between calls, so an
    optimizer may call it from many processes. Raises ``ValueError`` for unusable data and
    ``StrategyError`` when the strategy fails.
    """
    with _no_cyclic_gc():
        backtest = _Backtest(spec, data)
        backtest.run()
        return backtest.result()


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The loop allocates many small objects and no cycles: the cyclic collector would only
    rescan them (15 % of a run and more); it is switched back on (if it was on) afterwards."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


__all__ = ["run_backtest"]
