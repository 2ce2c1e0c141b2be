"""The engine: one loop for every market, the same code in paper and live mode.

Per trade print: the candle builder may close candles (each handled as below), then an open
position's stop and take-profit are checked against the price, so a stop fires on the first
print through it, not at the next candle. Per closed candle: cooldowns count down, the risk
layer sees the candle (volatility, halt windows), a long position's stop trails, then the
strategy's signal on the last candle decides: exit a long, or enter through the risk gate.

Orders go through ``OrderManager``; positions move on its events: each ``OrderFilled`` adds a
fill, the one ``OrderSettled`` ends the order. The position is marked as entering (with the
intent id) *before* the order is sent, so a fill can never arrive for a position that does not
expect it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from itertools import takewhile
from typing import Any

from trading.backtest.spec import DEFAULT_ACCOUNT, PaperAccount
from trading.circuit import CircuitBreaker, CircuitState
from trading.domain import Bar, TradePrint
from trading.domain.orders import OrderType, Side, SubmitOrder
from trading.engine.account import AccountView
from trading.engine.exits import ExitPlan, plan_exit
from trading.engine.holdings import Holdings
from trading.engine.memory import RiskMemoryKeeper
from trading.engine.triggers import EntryTriggers
from trading.errors import InsufficientFunds, OrderOutcomeUnknown, TradingError, UpbitError
from trading.events import (
    Event,
    EventSink,
    OrderFilled,
    OrderSettled,
    PositionClosed,
    RiskBreached,
    SignalRaised,
)
from trading.exchange import Exchange
from trading.marketdata import MarketData
from trading.orders import OrderManager
from trading.positions import ExitReason, Position, PositionBook, PositionState
from trading.refusal import Code, Refused
from trading.risk import measures
from trading.risk.decision import Approved, Decision, Denied
from trading.risk.gate import EntryRequest, RiskContext, RiskGate
from trading.risk.limits import RiskLimits
from trading.risk.memory import ClosedTrade
from trading.risk.stops import TrailingStop, exits_on, signal_counts, stop_on, trail_of
from trading.strategies import CandleFrame, Strategy, safe_signals
from trading.timeframes import timeframe_seconds

log = logging.getLogger(__name__)
S = PositionState


@dataclass(frozen=True, slots=True)
class EngineConfig:
    markets: tuple[str, ...]  # the universe: the markets new entries may go into
    timeframe: str
    paper: PaperAccount = DEFAULT_ACCOUNT  # ``[paper]``: what chat's /backtest starts with


@dataclass(eq=False, repr=False)
class Engine:
    config: EngineConfig
    _: KW_ONLY
    strategy: Strategy[Any]
    limits: RiskLimits
    exchange: Exchange
    orders: OrderManager
    positions: PositionBook
    gate: RiskGate
    market_data: MarketData
    sink: EventSink
    circuit: CircuitBreaker | None = None
    memory: RiskMemoryKeeper | None = None  # the risk layer's memory in the store; None: not kept
    account: AccountView = field(init=False)
    stops: dict[str, TrailingStop] = field(default_factory=dict, init=False)
    paused_all: bool = field(default=False, init=False)
    paused_markets: set[str] = field(default_factory=set, init=False)
    kill_switch: bool = field(default=False, init=False)
    #: market time: the last print or candle end seen
    now: datetime | None = field(default=None, init=False)
    holdings: Holdings = field(init=False)
    triggers: EntryTriggers = field(init=False)  # intra-candle entry levels (volatility breakout)
    #: called after orders of a market were suspended (the facade stores the pause)
    on_suspended: Callable[[str], Awaitable[None]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.account = AccountView(self.exchange, self.limits.zone)
        self.holdings = Holdings(self)
        self.triggers = EntryTriggers(self)
        self.positions.on_closed = self._trade_closed  # the protections judge every round trip

    def warmup_bars(self) -> int:
        """Closed candles the strategy needs before its first signal, in this timeframe."""
        return self.strategy.warmup_for(timeframe_seconds(self.config.timeframe))

    def bars_needed(self) -> int:
        """Closed candles a market needs before any signal: the strategy's warm-up, and the
        ATR a stop needs (``trading.engine.warmup`` keeps the history this long)."""
        return max(self.warmup_bars(), self.limits.atr_period + 1)

    def market_time(self) -> datetime:
        """Now, as the market data says: replays and backtests run on their own clock."""
        return self.now or datetime.now(UTC)

    # -- the universe --------------------------------------------------------------------------

    @property
    def universe(self) -> tuple[str, ...]:
        """The markets new entries may go into (``bot.markets``, or its "top:N" choice)."""
        return self.config.markets

    @property
    def traded(self) -> tuple[str, ...]:
        """The markets the engine watches: the universe, then each market outside it that
        still has a position (or its cooldown): those keep their stops and exits."""
        universe = self.config.markets
        held = (m for m, p in self.positions.all().items() if p.state is not S.FLAT)
        return (*universe, *sorted(m for m in held if m not in universe))

    def trades(self, market: str) -> bool:
        """``market`` is one of ``traded``."""
        return market in self.config.markets or self.positions.get(market).state is not S.FLAT

    def set_universe(self, markets: tuple[str, ...]) -> None:
        """Entries go into ``markets`` from now on; candles are kept for every traded market
        (a position outside the universe is still watched and exited by its own rules)."""
        self.config = replace(self.config, markets=tuple(markets))
        for market in self.traded:
            self.market_data.track(market)

    # -- market data -------------------------------------------------------------------------

    async def on_print(self, print_: TradePrint) -> None:
        self.now = print_.at
        for bar in self.market_data.on_print(print_):
            await self.on_bar(bar)
        await self._check_stop(print_.market, print_.price)
        await self.triggers.on_print(print_)

    async def on_tick(self) -> None:
        """Close candles of quiet markets on time (live mode calls this every second)."""
        for bar in self.market_data.tick():
            await self.on_bar(bar)

    async def on_bar(self, bar: Bar) -> None:
        market = bar.market
        if not self.trades(market):
            return
        self.now = max(self.now or bar.end, bar.end)
        await self.positions.candle_closed(market, bar.start)
        self.gate.on_bar(bar)
        await self.remember_risk()  # a volatility halt may have switched
        history = self.market_data.history(market)
        position = self.positions.get(market)
        if position.state is S.LONG and await self._set_aside_dust(market, position, bar.close):
            return  # worth less than the minimum order: dust now, no position
        if position.state is S.LONG and await self._trail(market, bar, history):
            return
        warmup = self.warmup_bars()
        # no signal before the strategy is warm, nor before the ATR a stop needs exists
        if len(history) < self.bars_needed():
            return
        frame = CandleFrame.from_bars(history[-max(warmup, 2) :])
        signals = safe_signals(self.strategy, frame)
        if (
            signals.exit[-1]
            and position.state is S.LONG
            and signal_counts(self.limits, position.avg_entry_price, bar.close)
        ):
            reason = signals.exit_reason or "exit signal"
            self.signal_raised(market, "exit", bar.close, reason)
            await self.exit(market, ExitReason.SIGNAL, reason)
        elif signals.entry[-1] and position.state is S.FLAT and market in self.config.markets:
            reason = signals.entry_reason or "entry signal"
            self.signal_raised(market, "enter", bar.close, reason)
            await self.enter(market, bar, reason)

    def signal_raised(self, market: str, action: str, price: Decimal, reason: str) -> None:
        self.sink(
            SignalRaised(
                market=market,
                action="enter" if action == "enter" else "exit",
                price=price,
                strategy=self.strategy.name,
                reason=reason,
            )
        )

    # -- stops ---------------------------------------------------------------------------------

    async def _trail(self, market: str, bar: Bar, history: list[Bar]) -> bool:
        """Exit on a stop/take-profit/ROI hit inside the candle or on the holding time at its
        close, else trail; True if exiting.

        The whole candle is judged only if the stop watched all of it (``covers``): the
        prints of the candle a position was bought in were judged one by one after the fill,
        and the ones before it must not sell it. The holding time is asked at every close
        (before the strategy's signal of that candle).
        """
        stop = self.stops.get(market)
        if stop is None:
            stop = await self.arm_stop(market, self.positions.get(market))
            if stop is None:
                return False
        hit = stop.should_exit(bar) if stop.covers(bar) else stop.time_up(bar.end, bar.close)
        if hit is not None:
            await self.exit(market, _exit_reason(hit.kind), hit.text)
            return True
        atr = measures.atr(history, self.limits.atr_period) if stop.atr_mult > 0 else None
        before, high, pending = stop.stop, stop.highest_close, stop.atr_pending
        moved = stop.update(bar, atr)
        # a stop move is stored, and so are a trail's higher close (the offset reached, or one
        # with no ATR yet to trail by) and the fallback's end when the stop stays: a restart
        # must not forget where the trail trails from, nor whether the ATR stop is still to
        # take over (the candles before it are not read back in time for the stops)
        climbed = stop.trail is not None and stop.highest_close != high
        changed = climbed or stop.atr_pending != pending
        if moved is not None and (moved != before or changed):
            await self.positions.stop_moved(
                market,
                moved,
                trailing=stop.trailed,
                high_water=stop.highest_close if stop.trail is not None else None,
                atr_pending=stop.atr_pending,
            )
        return False

    async def _check_stop(self, market: str, price: Decimal) -> None:
        stop = self.stops.get(market)
        if stop is None or self.positions.get(market).state is not S.LONG:
            return
        hit = stop.should_exit(price, self.now)
        if hit is not None:
            await self.exit(market, _exit_reason(hit.kind), hit.text)

    def open_stop(
        self, market: str, position: Position, *, since: datetime | None = None
    ) -> TrailingStop | None:
        """The exits of a long ``position`` from the current settings and market data, kept
        in ``stops``; None when every exit it would watch (stop, take-profit, ROI, time) is
        off.

        With the ATR stop on there is always a stop: the fallback until the ATR can be
        computed. ``since``: the market time it watches prices from (default: now).
        """
        entry = position.avg_entry_price
        limits = self.limits
        if entry is None or not exits_on(limits):
            return None  # no stop, no take-profit, no ROI table, no holding time
        history = self.market_data.history(market)
        atr = measures.atr(history, limits.atr_period) if limits.atr_stop_mult > 0 else None
        if atr is None and limits.atr_stop_mult > 0:
            log.info("%s: no ATR yet, the fallback stop stands in", market)
        stop = TrailingStop.open(
            market=market,
            entry_price=entry,
            atr=atr,
            atr_mult=limits.atr_stop_mult,
            rules=self.exchange.rules,
            fallback_pct=limits.stop_fallback_pct,
            min_distance_pct=limits.stop_min_distance_pct,
            take_profit_pct=limits.take_profit_pct,
            highest_close=highest_close_since(history, position.opened_at),
            since=self.market_time() if since is None else since,
            stop_loss_pct=limits.stop_loss_pct,
            trail=trail_of(limits),
            roi=limits.minimal_roi,
            max_holding_minutes=limits.max_holding_minutes,
            entered_at=position.opened_at,
        )  # no sink: the position book announces every stop move, once
        self.stops[market] = stop
        return stop

    async def arm_stop(
        self, market: str, position: Position, *, since: datetime | None = None
    ) -> TrailingStop | None:
        """``open_stop`` for a long position, its stop price stored with the position."""
        if position.state is not S.LONG:
            return None
        stop = self.open_stop(market, position, since=since)
        if stop is not None and stop.stop is not None:
            await self.positions.stop_moved(
                market,
                stop.stop,
                trailing=stop.trailed,
                high_water=stop.highest_close if stop.trail is not None else None,
                atr_pending=stop.atr_pending,
            )
        return stop

    async def arm_stops(self) -> None:
        """Every long position without a stop gets one if a stop is on (after a live change
        of the settings: ``atr_stop_mult`` or ``stop_loss_pct`` from 0 to > 0, say)."""
        if not stop_on(self.limits):
            return
        for market, position in self.positions.all().items():
            stop = self.stops.get(market)
            if position.state is S.LONG and (stop is None or stop.stop is None):
                await self.arm_stop(market, position)

    # -- orders --------------------------------------------------------------------------------

    async def risk_context(self, market: str | None = None) -> RiskContext:
        before = self.holdings.before()
        accounts = await self.exchange.accounts()
        await self.holdings.compare(before, accounts, "entry_check")  # what is read is used
        positions = self.positions.all()
        prices = {m: p for m in self.traded if (p := self.market_data.price(m))}
        account = await self.account.snapshot(positions, prices, accounts)
        now = self.market_time()
        return RiskContext(
            free_krw=account.free_krw,
            open_positions=account.open_positions,
            equity=account.equity,
            day_pnl=self.account.day_pnl(now, account.equity),
            paused=self.paused_all or (market in self.paused_markets),
            kill_switch=self.kill_switch,
            estimate_fill=self._estimate_fill,
            cooling=tuple(
                (m, p.cooldown_remaining) for m, p in positions.items() if p.state is S.COOLDOWN
            ),
        )

    async def _trade_closed(self, event: PositionClosed) -> None:
        """Tell the gate's protections of a closed round trip, at the market time it closed
        (the backtester feeds the same from its exits), and keep what they learned."""
        cost = event.cost_krw
        profit = event.pnl_krw / cost if cost > 0 else Decimal(0)
        trade = ClosedTrade(event.market, self.market_time(), profit, event.reason)
        self.gate.trade_closed(trade)
        await self.remember_risk()

    async def remember_risk(self) -> None:
        """Store the risk layer's memory if it changed, so a restart keeps every limit."""
        if self.memory is not None:
            await self.memory.save(self.gate, self.account)

    def _estimate_fill(self, market: str, krw: Decimal) -> Decimal | None:
        if self.market_data.orderbook(market) is None:
            return self.market_data.price(market)  # no book (replay): the last price
        return self.market_data.expected_fill(market, "bid", krw)

    async def enter(self, market: str, bar: Bar, reason: str) -> bool:
        """A signal's entry: the configured size through the risk gate."""
        if market not in self.config.markets:
            log.info("%s: entry skipped (not in the universe; its position only exits)", market)
            return False
        allowed, why = self.positions.can_enter(market, bar.start)
        if not allowed:
            log.info("%s: entry skipped (%s)", market, why)
            return False
        size = self.limits.position_size_krw
        decision = await self._approve(market, bar.close, bar.end, size, None)
        if not isinstance(decision, Approved):
            return False
        return await self._place(market, size, decision, reason)

    async def enter_on_trigger(
        self, market: str, level: Decimal, at: datetime, reason: str
    ) -> bool:
        """An entry trigger reached at ``at`` (``EntryTriggers`` checked the position): the
        configured size through the risk gate, the level as the signal price."""
        size = self.limits.position_size_krw
        decision = await self._approve(market, level, at, size, None)
        if not isinstance(decision, Approved):
            return False
        return await self._place(market, size, decision, reason)

    async def enter_now(
        self, market: str, krw: Decimal, reason: str, *, cap: Decimal | None = None
    ) -> Decision:
        """A manual buy (``/buy``): the signal's path and gate, on the latest candle or price.

        ``cap`` is the most this buy may spend (None: ``position_size_krw``, like a signal).
        """
        bar = (
            self.market_data.builder(market).last_closed
            or self.market_data.builder(market).open_bar
        )
        if bar is None:
            raise Refused(Code.NO_MARKET_DATA, f"no market data for {market} yet", market=market)
        position = self.positions.get(market)
        allowed, why = self.positions.can_enter(market, bar.start)
        if not allowed:
            return Denied(
                "position",
                f"{market}: {why}",
                code="cooldown" if position.state is S.COOLDOWN else "position_busy",
                values=(("market", market), ("state", position.state.value)),
            )
        decision = await self._approve(market, bar.close, bar.end, krw, cap)
        if isinstance(decision, Approved) and not await self._place(market, krw, decision, reason):
            return Denied(
                "order",
                f"{market}: the order was not sent",
                code="order_not_sent",
                values=(("market", market),),
            )
        return decision

    async def _approve(
        self, market: str, price: Decimal, at: datetime, krw: Decimal, cap: Decimal | None
    ) -> Decision:
        """The risk gate's answer for a buy of ``krw`` signalled at ``price``, at time ``at``
        (a candle's close and end, or a trigger's level and print)."""
        if self.circuit is not None and self.circuit.state is not CircuitState.CLOSED:
            denied = Denied(
                "circuit",
                f"the Upbit API circuit is {self.circuit.state.value} after "
                f"{self.circuit.failures} failures: no new entries (stops still work)",
                code="circuit",
            )
            self.sink(
                RiskBreached(
                    check=denied.check,
                    code=denied.code,
                    market=market,
                    reason=denied.reason,
                    at=at,
                )
            )
            return denied
        request = EntryRequest(
            market=market,
            signal_price=price,
            krw=krw,
            bar_time=at,
            strategy=self.strategy.name,
            max_krw=cap,
        )
        decision = self.gate.check_entry(request, await self.risk_context(market))
        await self.remember_risk()  # the check moved the day, the peak or a halt, maybe
        return decision

    async def _place(self, market: str, size: Decimal, decision: Approved, reason: str) -> bool:
        intent_id = self.orders.new_intent_id()
        if decision.limit_price is not None:
            volume = (size / decision.limit_price).quantize(
                self.exchange.rules.volume_step, ROUND_DOWN
            )
            intent = SubmitOrder(
                intent_id=intent_id,
                market=market,
                side=Side.BUY,
                type=OrderType.LIMIT,
                price=decision.limit_price,
                volume=volume,
                time_in_force="ioc",
            )
        else:
            intent = SubmitOrder(
                intent_id=intent_id,
                market=market,
                side=Side.BUY,
                type=OrderType.MARKET,
                funds=size,
            )
        await self.positions.entry_submitted(market, intent_id)
        return await self._send(intent, reason) is None

    def min_order_total(self, market: str) -> Decimal:
        """The smallest order total the exchange accepts in ``market`` (KRW: 5,000)."""
        minimum = self.exchange.rules.min_total(market)
        if market.startswith("KRW-"):
            return max(minimum, self.limits.min_order_krw)
        return minimum

    def plan_exit(self, market: str, volume: Decimal | None = None) -> ExitPlan:
        """What an exit of ``volume`` (None: all) of the position would sell now."""
        position = self.positions.get(market)
        return plan_exit(
            position,
            volume,
            self._reference_price(market, position),
            self.min_order_total(market),
            self.exchange.rules.volume_step,
        )

    async def exit(
        self, market: str, why: ExitReason, reason: str, volume: Decimal | None = None
    ) -> bool:
        """Sell the position (or ``volume`` of it) at market; entry checks never block exits.

        What is sold is ``plan_exit``'s: the dust goes along with a whole exit, a part that
        would leave less than the minimum order becomes the whole, and nothing the minimum
        would refuse is sent; a position too small to sell is set aside as dust instead.
        """
        position = self.positions.get(market)
        if position.state is not S.LONG or not position.volume:
            return False
        plan = self.plan_exit(market, volume)
        free = self.holdings.free(position)  # the owner may have locked some in the app
        if free is not None and plan.volume > free:
            plan = self.plan_exit(market, min(volume or position.volume, free))
            if plan.volume > free:
                log.warning("%s: %s is free, the rest is locked by other orders", market, free)
                return False
        if not plan.volume:
            if plan.blocked == "dust":
                await self.set_aside(market, f"{reason}: worth {plan.value:.0f} KRW")
            else:
                log.info("%s: nothing sold (%s; %s)", market, plan.blocked, reason)
            return False
        intent = SubmitOrder(
            intent_id=self.orders.new_intent_id(),
            market=market,
            side=Side.SELL,
            type=OrderType.MARKET,
            volume=plan.volume,
            reference_price=plan.price,
        )
        await self.positions.exit_submitted(market, intent.intent_id, why, dust=plan.dust)
        refusal = await self._send(intent, reason)
        if refusal is None:
            return True
        if isinstance(refusal, InsufficientFunds):
            return await self._exit_what_is_there(intent, why, reason)
        return False

    def _reference_price(self, market: str, position: Position) -> Decimal | None:
        """The price an exit's minimum total is checked at: the last print, else the last
        candle, else the entry (at start-up a delisting exit may come before any print, and
        without a price the check would let a sell Upbit refuses go out)."""
        price = self.market_data.price(market)
        if price is None:
            history = self.market_data.history(market)
            price = history[-1].close if history else position.avg_entry_price
        return price

    async def _exit_what_is_there(self, intent: SubmitOrder, why: ExitReason, reason: str) -> bool:
        """Upbit said the coin is not there, and ``_send`` had the account read: sell what it
        holds instead (a different order; the refused one is never sent again)."""
        market = intent.market
        position = self.positions.get(market)
        if position.state is not S.LONG or intent.volume is None:
            return False
        free = self.holdings.free(position)
        if position.holding >= intent.volume and (free is None or free >= intent.volume):
            return False  # the account has it after all: nothing to change, no retry
        return await self.exit(market, why, reason)

    async def set_aside(self, market: str, reason: str) -> Position:
        """The long becomes dust: it holds no slot, blocks no entry, has no stop, and goes
        with the next exit on the market."""
        position = await self.positions.set_aside(market, reason, at=self.market_time())
        self.stops.pop(market, None)
        log.warning(
            "%s: %s set aside as dust, below the %s minimum order (%s)",
            market,
            position.dust,
            self.min_order_total(market),
            reason,
        )
        return position

    async def _set_aside_dust(
        self, market: str, position: Position, price: Decimal | None = None
    ) -> bool:
        """Set a long (not in flight) aside if all it holds is worth less than the minimum."""
        price = price or self.market_data.price(market)
        if position.state is not S.LONG or not position.volume or price is None:
            return False
        plan = plan_exit(
            position, None, price, self.min_order_total(market), self.exchange.rules.volume_step
        )
        if plan.blocked != "dust":
            return False
        await self.set_aside(market, f"worth {plan.value:.0f} KRW at {price}")
        return True

    async def _send(self, intent: SubmitOrder, reason: str) -> TradingError | None:
        """Place ``intent``; None if it was sent, else why not (its position has moved on,
        except after an unknown outcome, which reconciliation settles)."""
        try:
            await self.orders.place(intent, strategy=self.strategy.name, reason=reason)
        except OrderOutcomeUnknown as exc:
            log.warning(
                "%s: order %s outcome unknown; reconciliation will settle it",
                intent.market,
                intent.intent_id,
            )
            return exc
        except TradingError as exc:
            # refused before sending (NotLeader too) or rejected: end it here (an OrderSettled
            # may say so too)
            await self._order_ended(intent.market, intent.intent_id, str(exc))
            log.warning("%s: order refused: %s", intent.market, exc)
            await self._suspend_if_refused_too_often(intent.market)
            if isinstance(exc, InsufficientFunds):  # the account moved under the book
                await self._check_holdings("insufficient_funds")
            return exc
        return None

    async def _check_holdings(self, reason: str) -> None:
        try:
            await self.holdings.check(reason)
        except UpbitError as exc:  # a failed read: the scheduled check tries again
            log.warning("balances not read after a refusal: %s", exc)

    async def _suspend_if_refused_too_often(self, market: str) -> None:
        """The order manager stopped sending for ``market``: no entries either, and stored."""
        if market in self.orders.guard.suspended and market not in self.paused_markets:
            self.paused_markets.add(market)
            if self.on_suspended is not None:
                await self.on_suspended(market)

    async def _order_ended(self, market: str, intent_id: str, reason: str) -> None:
        """The order a position waits on is over: the position moves on, once."""
        ended = await self.positions.order_ended(market, intent_id, reason)
        if ended is None:
            return
        was, after = ended
        if await self._set_aside_dust(market, after):
            return  # a remainder (or an entry) too small to sell: dust, no position
        if was is S.ENTERING:
            await self.arm_stop(market, after)  # long with what filled, or flat
        elif after.state is not S.LONG:
            self.stops.pop(market, None)  # an exit that sold everything

    # -- order events --------------------------------------------------------------------------

    async def on_order_event(self, event: Event) -> None:
        """Fills and settlements move the position that placed the order, nothing else."""
        if not isinstance(event, OrderFilled | OrderSettled):
            return
        market = event.market
        position = self.positions.get(market)
        if position.intent_id != event.intent_id:
            return  # a manual order, or an order whose position already moved on
        if isinstance(event, OrderFilled):
            fill = (
                self.positions.entry_filled
                if position.state is S.ENTERING
                else self.positions.exit_filled
            )
            # market time, not the exchange's stamp: decisions depend on market data only
            # (live, they agree; a replay against a real or fake exchange, they must not differ)
            await fill(
                market,
                event.volume,
                event.price,
                event.fee,
                False,
                at=self.market_time(),
                intent_id=event.intent_id,
            )
            return
        if position.state in (S.ENTERING, S.EXITING):
            await self._order_ended(market, event.intent_id, f"order {event.state}")


def highest_close_since(history: list[Bar], opened_at: datetime | None) -> Decimal | None:
    """The highest close of the candles that closed after ``opened_at`` (None: none did)."""
    if opened_at is None:
        return None
    after = takewhile(lambda b: b.end > opened_at, reversed(history))
    return max((b.close for b in after), default=None)


def _exit_reason(kind: str) -> ExitReason:
    """The position's exit reason for a ``TrailingStop`` hit (stop, trailing, take_profit,
    roi, time: the same words)."""
    return ExitReason(kind)
