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
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from trading.backtest.data import check_aligned, find_gaps, iso
from trading.backtest.metrics import compute_metrics
from trading.backtest.result import BacktestResult, BuyAndHold, ExitKind, Trade
from trading.backtest.rules import reentry_delay
from trading.backtest.spec import BacktestSpec
from trading.backtest.stops import FRACTIONS, StopScanner, dec, print_time
from trading.domain import Bar
from trading.paper.fill_model import budget_volume, fill_amounts, slipped_price
from trading.positions import ExitReason, PositionRules
from trading.risk import checks
from trading.risk.decision import Approved
from trading.risk.gate import EntryRequest, RiskContext, RiskGate
from trading.risk.stops import TrailingStop
from trading.strategies import CandleFrame, safe_signals
from trading.upbit.market_rules import MAX_TOTAL_KRW, VOLUME_STEP, quote_currency

if TYPE_CHECKING:
    from trading.exchange import Exchange

ZERO = Decimal(0)
_ENTRY, _EXIT = 1, 0  # at one moment a market's exit is handled before its next entry
_REASONS = {
    "stop": ExitReason.STOP,
    "take_profit": ExitReason.TAKE_PROFIT,
    "signal": ExitReason.SIGNAL,
    "end": ExitReason.SIGNAL,
}


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


class _Market:
    def __init__(self, index: int, name: str, frame: CandleFrame, spec: BacktestSpec) -> None:
        self.index = index
        self.name = name
        self.frame = frame
        self.n = len(frame)
        signals = safe_signals(spec.strategy, frame)
        # no signal before the history is warm; the last candle never closes in a replay,
        # so its signal is never seen
        warm = max(spec.strategy.warmup(), spec.limits.atr_period + 1) - 1
        acted = slice(warm, self.n - 1)
        self.entries: list[int] = (np.flatnonzero(signals.entry[acted]) + warm).tolist()
        self.exits: list[int] = (np.flatnonzero(signals.exit[acted]) + warm).tolist()
        self.allowed_from = 0  # first signal candle that may enter (cooldown, no re-entry)
        self.position: _Open | None = None
        self.trades: list[tuple[_Open, Decimal, Decimal, Decimal]] = []  # open, price, funds, fee
        self.scanner: StopScanner | None = None
        self.fed = -1  # last candle given to the risk gate (volatility filter)
        self.offset = 0  # index of the first candle in the union timeline
        self.min_total = spec.rules.min_total(name)  # Upbit's minimum order total
        self.krw = quote_currency(name) == "KRW"
        self.last_close = float(frame.close[-1])

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
        k = int(np.searchsorted(self.frame.start, at))
        if before_me and k < self.n and int(self.frame.start[k]) == at:
            return float(self.frame.open[k])
        return float(self.frame.close[max(k - 1, 0)])


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
    starts = [m.frame.start for m in markets]
    first = starts[0]
    if all(len(s) == len(first) and s[0] == first[0] for s in starts):
        return first
    return np.unique(np.concatenate(starts))


class _Backtest:
    def __init__(self, spec: BacktestSpec, data: Mapping[str, CandleFrame]) -> None:
        self.spec = spec
        self.tf = spec.timeframe_s
        _check_frames(data, self.tf)
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
        self.cash_changes: list[tuple[int, int, Decimal]] = []  # (market, candle, cash after)
        rules = PositionRules(
            self.tf,
            spec.cooldown_candles,
            spec.stop_cooldown_candles,
            same_candle_reentry=spec.same_candle_reentry,
        )
        self.delay = {r: reentry_delay(rules, r) for r in ExitReason}
        self.quiet_gate = (
            spec.limits.daily_loss_limit_krw == 0 and spec.limits.max_drawdown_pct == 0
        )
        self.need_krw = checks.required_krw(spec.limits.position_size_krw, spec.limits)
        size = spec.limits.position_size_krw
        self.budget_lock = size + size * spec.fee_rate
        self.stops_on = spec.limits.atr_stop_mult > 0 or spec.limits.take_profit_pct > 0
        self.volatility_on = spec.limits.volatility_halt_pct > 0
        if self.stops_on:
            for m in self.markets:
                m.scanner = StopScanner(m.name, spec.timeframe, m.frame, spec.limits.atr_period)
        self.heap: list[tuple[int, int, int, int]] = []  # (time µs, market, kind, candle)
        self._held = 0  # candles closed with a position (one market)
        self.print_us = tuple(int(self.tf * 1_000_000 * f) for f in FRACTIONS)
        self._slipped: dict[tuple[str, str, Decimal], Decimal] = {}

    def slipped(self, market: str, last: Decimal, side: str) -> Decimal:
        """``fill_model.slipped_price``, remembered: fills repeat prices a lot."""
        key = (market, side, last)
        price = self._slipped.get(key)
        if price is None:
            spec = self.spec
            price = slipped_price(spec.rules, market, last, side, spec.slippage_bps)
            self._slipped[key] = price
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
        bar = m.next_entry(after)
        if bar is not None:
            at = int(m.frame.start[bar + 1]) * 1_000_000
            heapq.heappush(self.heap, (at, m.index, _ENTRY, bar))

    # -- entries -------------------------------------------------------------------------------

    def _try_entry(self, m: _Market, bar: int) -> None:
        """Engine.enter for the signal on candle ``bar``, at the next candle's open print."""
        frame, spec, limits = m.frame, self.spec, self.limits
        fill_bar = bar + 1
        at_s = int(frame.start[fill_bar])
        now = datetime.fromtimestamp(at_s, UTC)
        if self.volatility_on:
            self._feed_gate(m, bar)
        last = dec(frame.open[fill_bar])  # the open print is the last price when the bar closes
        size = limits.position_size_krw
        if self.quiet_gate and (
            self.open_count >= limits.max_open_positions or self.cash < self.need_krw
        ):
            # the gate would deny it (max_positions or balance, if nothing before them),
            # and with the loss and drawdown halts off, asking it changes no state
            self._queue_entry(m, bar + 1)
            return
        equity = self.cash + self._holdings(m, at_s) if self.open_count else self.cash
        ctx = RiskContext(
            free_krw=self.cash,
            open_positions=self.open_count,
            equity=equity,
            day_pnl=self.day.day_pnl(now, equity) if self.day is not None else ZERO,
            # no order book in a replay: the engine estimates a buy at the last price
            estimate_fill=(lambda _m, _krw: last) if spec.slippage_check else None,
        )
        request = EntryRequest(
            market=m.name,
            signal_price=dec(frame.close[bar]),
            krw=size,
            bar_time=now,
            strategy=spec.strategy.name,
        )
        decision = self.gate.check_entry(request, ctx)
        opened = decision.ok and self._buy(m, fill_bar, now, last, size, cast(Approved, decision))
        if not opened:
            self._queue_entry(m, bar + 1)

    def _buy(
        self, m: _Market, bar: int, now: datetime, last: Decimal, size: Decimal, decision: Approved
    ) -> bool:
        """The paper exchange's market buy (a KRW budget) or IOC limit buy; False if refused
        or unfilled, like an order that ends without a fill."""
        fee_rate = self.spec.fee_rate
        price = self.slipped(m.name, last, "bid")
        if decision.limit_price is None:
            total, lock = size, self.budget_lock  # the budget and its fee, locked on arrival
            volume = budget_volume(size, price)
        else:
            limit = decision.limit_price
            volume = (size / limit).quantize(VOLUME_STEP, ROUND_DOWN)
            total = limit * volume
            lock = total + total * fee_rate
            if price > limit:
                volume = ZERO  # an IOC limit below the market: cancelled unfilled
        if total < m.min_total or lock > self.cash or (m.krw and total > MAX_TOTAL_KRW):
            return False
        if volume <= 0:
            return False
        funds, fee = fill_amounts(price, volume, fee_rate)
        self.cash -= funds + fee
        self.open_count += 1
        self.cash_changes.append((m.index, bar, self.cash))
        position = _Open(
            entry_bar=bar,
            entry_at=now,
            price=price,
            volume=volume,
            funds=funds,
            fee=fee,
            exit_bar=m.n,
            exit_print=0,
            exit_price=m.last_close,
            exit_kind="end",
        )
        self._plan_exit(m, position)
        m.position = position
        if position.exit_bar < m.n:
            at = int(m.frame.start[position.exit_bar]) * 1_000_000
            at += self.print_us[position.exit_print]
            heapq.heappush(self.heap, (at, m.index, _EXIT, position.exit_bar))
        return True

    def _plan_exit(self, m: _Market, p: _Open) -> None:
        """The first of: stop/take-profit print, exit signal (filled at the next open)."""
        signal = m.next_exit_signal(p.entry_bar)
        last = signal if signal is not None else m.n - 1
        atr = m.scanner.atr(p.entry_bar - 1) if m.scanner is not None else None
        if self.limits.atr_stop_mult == 0:
            atr = atr or ZERO  # take-profit only: the ATR is not used (Engine.open_stop)
        if m.scanner is not None and atr is not None:
            stop = TrailingStop.open(
                market=m.name,
                entry_price=p.price,
                atr=atr,
                atr_mult=self.limits.atr_stop_mult,
                rules=self.spec.rules,
                take_profit_pct=self.limits.take_profit_pct,
            )
            hit = m.scanner.scan(stop, p.entry_bar, last)
            if hit is not None:
                p.exit_bar, p.exit_print, p.exit_price = hit.bar, hit.print_index, hit.price
                p.exit_kind = "take_profit" if hit.kind == "take_profit" else "stop"
                return
        if signal is not None:
            p.exit_bar, p.exit_print = signal + 1, 0
            p.exit_price, p.exit_kind = float(m.frame.open[signal + 1]), "signal"

    def _feed_gate(self, m: _Market, upto: int) -> None:
        """The volatility filter needs every candle (hysteresis): feed it as the engine does."""
        f = m.frame
        for i in range(m.fed + 1, upto + 1):
            start = datetime.fromtimestamp(int(f.start[i]), UTC)
            self.gate.on_bar(
                Bar(
                    m.name,
                    self.spec.timeframe,
                    start,
                    dec(f.open[i]),
                    dec(f.high[i]),
                    dec(f.low[i]),
                    dec(f.close[i]),
                    dec(f.volume[i]),
                )
            )
        m.fed = max(m.fed, upto)

    def _holdings(self, me: _Market, at_s: int) -> Decimal:
        """Open positions marked at their market's last print, as the engine's account view."""
        total = ZERO
        for m in self.markets:
            if m.position is not None and m is not me:
                price = m.last_price(at_s, before_me=m.index < me.index)
                total += m.position.volume * dec(price)
        return total

    # -- exits ---------------------------------------------------------------------------------

    def _exit(self, m: _Market) -> None:
        p = m.position
        assert p is not None
        spec = self.spec
        last = dec(p.exit_price)
        price = self.slipped(m.name, last, "ask")
        if p.volume * price < m.min_total:
            # Upbit refuses the sell (under the minimum total): the position stays, as dust
            p.exit_bar, p.exit_kind, p.exit_price = m.n, "end", float(m.frame.close[-1])
            return
        funds, fee = fill_amounts(price, p.volume, spec.fee_rate)
        self.cash += funds - fee
        self.open_count -= 1
        self.cash_changes.append((m.index, p.exit_bar, self.cash))
        m.trades.append((p, price, funds, fee))
        m.position = None
        m.allowed_from = p.exit_bar + self.delay[_REASONS[p.exit_kind]]
        self._queue_entry(m, m.allowed_from)

    # -- the result ----------------------------------------------------------------------------

    def result(self) -> BacktestResult:
        spec, tf = self.spec, self.tf
        times = _timeline(self.markets, tf)
        count = len(times)
        pnls: list[Decimal] = []
        fees = ZERO
        holdings = np.zeros(count)
        held = np.zeros(count if len(self.markets) > 1 else 0, dtype=np.int32)  # positions
        for m in self.markets:
            m.offset = off = int(np.searchsorted(times, m.frame.start[0]))
            spans = [(p.entry_bar, p.exit_bar, float(p.volume)) for p, _, _, _ in m.trades]
            for p, _, funds, fee in m.trades:
                pnls.append(funds - p.funds - p.fee - fee)
                fees += p.fee + fee
            if m.position is not None:
                p = m.position
                spans.append((p.entry_bar, count - off, float(p.volume)))
                pnls.append(p.volume * dec(m.frame.close[-1]) - p.funds - p.fee)
                fees += p.fee
            if spans:
                self._mark(m, spans, times, holdings, held)
        # cash after each fill, from that candle on (fills come in replay order, so the
        # candle indexes never decrease; a later fill in the same candle wins)
        offsets = [m.offset for m in self.markets]
        points = np.array(
            [0, *(offsets[i] + bar for i, bar, _ in self.cash_changes), count], dtype=np.int64
        )
        levels = np.array([float(spec.start_krw), *(float(c) for _, _, c in self.cash_changes)])
        repeats: NDArray[np.int64] = np.diff(points)
        equity = np.repeat(levels, repeats)
        equity += holdings
        per_market = tuple(
            (m.name, (float(m.frame.close[-1]) / float(m.frame.open[0]) - 1.0) * 100.0)
            for m in self.markets
        )
        hold = BuyAndHold(
            return_pct=sum(r for _, r in per_market) / len(per_market), per_market=per_market
        )
        metrics = compute_metrics(
            pnls=pnls,
            fees_krw=fees,
            equity=equity,
            start_krw=float(spec.start_krw),
            timeframe_s=tf,
            exposure_bars=int(np.count_nonzero(held)) if len(self.markets) > 1 else self._held,
            buy_and_hold_pct=hold.return_pct,
        )
        return BacktestResult(
            times=times,
            equity=equity,
            metrics=metrics,
            buy_and_hold=hold,
            make_trades=self.trades,
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

    def _mark(
        self,
        m: _Market,
        spans: list[tuple[int, int, float]],
        times: NDArray[np.int64],
        holdings: NDArray[np.float64],
        held: NDArray[np.int32],
    ) -> None:
        """Add the market's open positions, marked at each close, to ``holdings``.

        Positions of one market never overlap, so the held volume per candle is a run of
        segments: flat, held, flat, held ... (one ``np.repeat``).
        """
        count, off, n = len(times), m.offset, m.n
        bounds = [0]
        values = [0.0]
        for a, b, volume in spans:
            bounds += [off + a, off + b]
            values += [volume, 0.0]
        bounds.append(count)
        lengths = np.asarray(np.diff(np.asarray(bounds, dtype=np.int64)), dtype=np.int64)
        volume_at = np.repeat(np.array(values), lengths)
        if off == 0 and n == count:
            closes = m.frame.close
        else:
            closes = np.empty(count)
            closes[:off] = m.frame.close[0]
            closes[off : off + n] = m.frame.close
            closes[off + n :] = m.frame.close[-1]
        volume_at *= closes
        holdings += volume_at
        self._held = int(lengths[1::2].sum())
        if len(self.markets) > 1:
            held += np.repeat(np.array([0, 1] * len(spans) + [0], dtype=np.int32), lengths)

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
