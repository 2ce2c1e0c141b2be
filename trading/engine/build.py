"""Assemble an engine from plain parts: the same assembly for the bot, the tests and the demo.

Paper mode builds its own ``PaperExchange`` (restored from the store, so a restart keeps the
paper account); live mode is handed the ``UpbitRestClient``. Every event goes to ``sink`` (the
bus); order events also go to the engine's inbox, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading.backtest.spec import PaperAccount
from trading.circuit import CircuitBreaker
from trading.domain.rules import MarketRules
from trading.engine.core import Engine, EngineConfig
from trading.engine.loop import EngineLoop
from trading.engine.memory import RiskMemoryKeeper
from trading.events import Event, EventSink
from trading.exchange import Exchange
from trading.marketdata import MarketData
from trading.marketdata.backfill import CandleSource
from trading.marketdata.candles import DEFAULT_HISTORY
from trading.orders import OrderManager
from trading.orders.refusals import REFUSALS_PER_HOUR, RefusalGuard
from trading.paper import PaperExchange
from trading.positions import PositionBook, PositionRules
from trading.risk.gate import RiskGate
from trading.risk.limits import RiskLimits
from trading.store import Store
from trading.strategies import Strategy
from trading.timeframes import KST, timeframe_seconds


@dataclass(frozen=True, slots=True)
class EngineSpec:
    markets: tuple[str, ...]
    timeframe: str
    paper: bool
    prefix: str = "ubot"
    cooldown_candles: int = 0
    stop_cooldown_candles: int = 0
    paper_start_krw: Decimal = Decimal(10_000_000)
    paper_fee_rate: Decimal = Decimal("0.0005")
    paper_slippage_bps: Decimal = Decimal(5)
    order_settle_s: float = 1.0
    order_timeout_settle_s: float = 5.0
    refusals_per_hour: int = REFUSALS_PER_HOUR


@dataclass(frozen=True, slots=True)
class EngineRig:
    engine: Engine
    loop: EngineLoop
    exchange: Exchange
    paper: PaperExchange | None


# Long on purpose: the one place the engine's parts are wired, in the order they are built.
async def assemble(
    spec: EngineSpec,
    *,
    strategy: Strategy[Any],
    limits: RiskLimits,
    store: Store,
    sink: EventSink,
    live_exchange: Exchange | None = None,
    candles: CandleSource | None = None,
    circuit: CircuitBreaker | None = None,
    rules: MarketRules | None = None,
) -> EngineRig:
    """The engine and its parts; paper mode trades on a ``PaperExchange`` with the venue's
    ``rules`` (required there), live mode on ``live_exchange`` with its own."""
    inbox: list[EngineLoop] = []  # filled below; the callbacks only run after that

    def fan_out(event: Event) -> None:
        sink(event)
        inbox[0].put_event(event)

    paper: PaperExchange | None = None
    if spec.paper:
        if rules is None:
            raise ValueError("paper mode needs the venue's market rules")
        paper = await PaperExchange.load(
            store,
            rules,
            start_krw=spec.paper_start_krw,
            fee_rate=spec.paper_fee_rate,
            slippage_bps=spec.paper_slippage_bps,
            on_fill=lambda fill: inbox[0].on_paper_fill(fill),
            on_order=lambda order: inbox[0].on_paper_order(order),
            clock=lambda: inbox[0].engine.market_time().astimezone(KST),
        )
        exchange: Exchange = paper
    elif live_exchange is not None:
        exchange = live_exchange
    else:
        raise ValueError("live mode needs an exchange client")
    positions = PositionBook(
        PositionRules(
            timeframe_s=timeframe_seconds(spec.timeframe),
            cooldown_candles=spec.cooldown_candles,
            stop_cooldown_candles=spec.stop_cooldown_candles,
        ),
        store,
        sink=sink,
    )
    await positions.load()
    engine = Engine(
        EngineConfig(
            spec.markets,
            spec.timeframe,
            PaperAccount(spec.paper_start_krw, spec.paper_fee_rate, spec.paper_slippage_bps),
        ),
        strategy=strategy,
        limits=limits,
        exchange=exchange,
        orders=OrderManager(
            exchange,
            store,
            paper=spec.paper,
            prefix=spec.prefix,
            on_event=fan_out,
            settle_s=spec.order_settle_s,
            timeout_settle_s=spec.order_timeout_settle_s,
            guard=RefusalGuard(spec.refusals_per_hour),
        ),
        positions=positions,
        gate=RiskGate(limits, rules=exchange.rules, sink=sink),
        market_data=MarketData(
            spec.markets,
            spec.timeframe,
            sink=sink,
            client=candles,
            # a day-based strategy on short candles needs more than the default history
            history=max(DEFAULT_HISTORY, strategy.warmup_for(timeframe_seconds(spec.timeframe))),
        ),
        sink=sink,
        circuit=circuit,
        memory=RiskMemoryKeeper(store),
    )
    loop = EngineLoop(engine, paper=paper)
    inbox.append(loop)
    return EngineRig(engine=engine, loop=loop, exchange=exchange, paper=paper)
