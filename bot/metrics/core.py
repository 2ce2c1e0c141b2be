"""The bot's Prometheus metrics: one registry per ``App``, fed by the bus and by hooks.

Three ways in, chosen per series so nothing is counted twice or missed:

- **bus events** (``on_event``, subscribed as ``metrics`` for the critical events that declare a
  ``metric``, which the bus never drops; one method each, ``@COUNTS.on``): orders, fills,
  rejections, risk breaches, circuit opens, closed trades, book adjustments;
- **hooks** the parts call directly: ``on_request`` (every REST exchange, from
  ``UpbitRestClient``), ``on_command`` (every audited command, from the dispatcher),
  ``set_leader`` (leader election);
- **scrape time** (``StateCollector``): equity and PnL from the engine facade (cached), rate
  limits, WebSocket age, notifier queues, loop lag, read from the parts attached to ``sources``.

The registry is the object's own, never prometheus_client's global one: several Apps may run
in one process (the tests do).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.by_event import ByEvent
from bot.metrics.collector import StateCollector
from bot.metrics.engine_state import EngineReader
from bot.metrics.labels import OTHER, BoundedLabel, endpoint_template
from bot.metrics.sources import Sources
from bot.metrics.views import RequestSampleView, RestClientView
from bot.notify.kinds import EVENTS
from trading import events as ev
from trading.bus import EventBus, Subscription
from trading.store.retention import TABLES as RETENTION_TABLES
from trading.store.retention import RetentionResult

if TYPE_CHECKING:
    from bot.chatops import ChatOps
    from bot.trader import Trader

log = logging.getLogger(__name__)

#: the events ``Metrics`` counts: those that declare the series they feed (``metric``); all
#: are critical, which the bus never drops, so the counters are exact
EVENT_KINDS: tuple[type[ev.Event], ...] = tuple(cls for cls in EVENTS if cls.metric)
#: one counting method for each of them (``@COUNTS.on(OrderFilled)`` in ``Metrics``)
COUNTS: ByEvent[Callable[[Metrics, Any], Awaitable[None]]] = ByEvent()
#: seconds; REST calls take ~10-100 ms, a timeout is seconds
REST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: attempt outcomes (trading/orders/submit.py) that mean "refused", not "failed": the
#: exchange said no, or we refused to send (circuit open, group banned)
REFUSED_OUTCOMES = ("rejected", "not_sent")
UNKNOWN = "unknown"
_KINDS_KEPT = 10_000  # intent -> (side, ord_type) remembered for cancels


class Metrics:
    # Long on purpose: a flat table, one declaration a metric, the names the dashboards use.
    def __init__(
        self,
        *,
        version: str,
        mode: str,
        strategy: str,
        markets: Sequence[str] = (),
        cache_s: float = 1.0,
        read_timeout_s: float = 2.0,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.sources = Sources()
        self.engine = EngineReader(cache_s=cache_s, timeout_s=read_timeout_s)
        self._circuit = "closed"
        self._kinds: OrderedDict[str, tuple[str, str]] = OrderedDict()
        # labels fed from outside the process are capped (see labels.py)
        self._endpoint = BoundedLabel(64)
        self._reason = BoundedLabel(64)
        self._command = BoundedLabel(100)
        self._market = BoundedLabel(64, preset=tuple(markets))
        self._check = BoundedLabel(32)
        self._ord_type = BoundedLabel(16)
        r = self.registry
        self.info = Gauge(
            "upbit_bot_info",
            "Always 1; labels describe the running bot",
            ["version", "mode", "strategy"],
            registry=r,
        )
        self.info.labels(version or "dev", mode, strategy).set(1)
        self.leader = Gauge(
            "upbit_bot_leader", "1 while this instance trades (leader)", registry=r
        )
        self.leader.set(1)
        self.orders = Counter(
            "upbit_bot_orders",
            "Orders by side, type and result (placed, rejected, failed, unknown, cancelled)",
            ["side", "ord_type", "result"],
            registry=r,
        )
        self.fills = Counter(
            "upbit_bot_fills", "Fills (trades) of our orders", ["market", "side"], registry=r
        )
        self.fill_volume = Counter(
            "upbit_bot_fill_volume_krw",
            "Traded value of our fills in KRW (price x volume, before fees)",
            ["market", "side"],
            registry=r,
        )
        self.rejections = Counter(
            "upbit_bot_order_rejections",
            "Orders refused, by Upbit error name or our own refusal, per market",
            ["reason", "market"],
            registry=r,
        )
        self.book_adjustments = Counter(
            "upbit_bot_book_adjustments",
            "Times the book adopted a smaller holding from the account (sold or withdrawn "
            "outside the bot)",
            ["market"],
            registry=r,
        )
        self.risk_breaches = Counter(
            "upbit_bot_risk_breaches", "Risk checks that refused something", ["check"], registry=r
        )
        self.rest_seconds = Histogram(
            "upbit_bot_rest_request_seconds",
            "Upbit REST latency per endpoint template (the HTTP exchange, not the queue)",
            ["endpoint", "method"],
            buckets=REST_BUCKETS,
            registry=r,
        )
        self.rest_requests = Counter(
            "upbit_bot_rest_requests",
            "Upbit REST requests by HTTP status (timeout/network: no answer)",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.circuit_opens = Counter(
            "upbit_bot_circuit_opens", "Times the REST circuit breaker opened", registry=r
        )
        self.trades_closed = Counter(
            "upbit_bot_trades_closed",
            "Round trips closed, by result (win: realized PnL after fees > 0)",
            ["result"],
            registry=r,
        )
        self.commands = Counter(
            "upbit_bot_commands",
            "Chat/console commands by name and audited outcome",
            ["command", "outcome"],
            registry=r,
        )
        self.retention_deleted = Counter(
            "upbit_bot_retention_deleted",
            "Rows deleted by retention, per table (orders and fills are never deleted)",
            ["table"],
            registry=r,
        )
        for table in RETENTION_TABLES:
            self.retention_deleted.labels(table)
        for result in ("win", "loss"):
            self.trades_closed.labels(result)
        for market in markets:
            for side in ("bid", "ask"):
                self.fills.labels(market, side)
                self.fill_volume.labels(market, side)
        r.register(StateCollector(self.sources, self.engine, circuit_state=lambda: self._circuit))

    # -- wiring --------------------------------------------------------------------------------

    def subscribe(self, bus: EventBus) -> Subscription:
        """Count events from ``bus`` (call on the running loop). Only critical kinds: the bus
        never drops those, so the counters are exact."""
        self.sources.bus = bus
        return bus.subscribe_callback("metrics", self.on_event, kinds=EVENT_KINDS, maxsize=10_000)

    def attach_rest(self, rest: RestClientView) -> None:
        self.sources.limiter = rest.limiter
        self.sources.circuit = rest.circuit

    def attach_trader(self, trader: Trader) -> None:
        self.sources.facade = trader.facade
        self.sources.store = trader.facade.store if trader.facade is not None else None
        self.sources.engine_loop = trader.rig.loop if trader.rig is not None else None
        self.sources.streams = trader.streams

    def detach_trader(self) -> None:
        """Leadership lost: a standby reports no engine, rather than the stopped one's."""
        blank = Sources()
        for name in ("facade", "store", "engine_loop", "streams", "notifier"):
            setattr(self.sources, name, getattr(blank, name))

    def attach_chatops(self, chatops: ChatOps) -> None:
        self.sources.notifier = lambda: chatops.notifier
        if chatops.dispatcher is not None:
            registry = chatops.dispatcher.registry

            def canonical(name: str) -> str | None:
                command = registry.lookup(name)
                return None if command is None else command.name

            self.sources.command_name = canonical

    def set_leader(self, leader: bool) -> None:
        """Leader election tells us whether this instance is the one that trades."""
        self.leader.set(1 if leader else 0)

    # -- hooks ---------------------------------------------------------------------------------

    def on_request(self, sample: RequestSampleView) -> None:
        endpoint = self._endpoint(endpoint_template(sample.endpoint))
        method = sample.method.upper() if sample.method.isalpha() else OTHER
        self.rest_seconds.labels(endpoint, method).observe(sample.seconds)
        self.rest_requests.labels(endpoint, method, self._status(sample.status)).inc()

    @staticmethod
    def _status(status: str) -> str:
        """An HTTP status (3 digits), ``timeout`` or ``network``; anything else is ``other``."""
        if (status.isdigit() and len(status) == 3) or status in ("timeout", "network"):
            return status
        return OTHER

    def on_command(self, command: str, outcome: str) -> None:
        """One audited command; names that are no command (a stranger's text) become
        ``other``, so typing cannot create series."""
        lookup = self.sources.command_name
        name = command if command == "press" else (lookup(command) if lookup else command)
        self.commands.labels(self._command(name or OTHER), self._reason_like(outcome)).inc()

    def on_retention(self, result: RetentionResult) -> None:
        """One retention run: what it deleted from each table."""
        for table, count in result.deleted.items():
            self.retention_deleted.labels(table).inc(count)

    @staticmethod
    def _reason_like(value: str) -> str:
        return value if value.replace("_", "").isalnum() and len(value) <= 32 else OTHER

    # -- events --------------------------------------------------------------------------------

    async def on_event(self, event: ev.Event) -> None:
        count = COUNTS.get(type(event))
        if count is not None:
            await count(self, event)

    @COUNTS.on(ev.OrderPlaced)
    async def _placed(self, event: ev.OrderPlaced) -> None:
        kind = (event.side, self._ord_type(event.ord_type))
        self._remember(event.intent_id, kind)
        self.orders.labels(*kind, "placed").inc()

    @COUNTS.on(ev.OrderFilled)
    async def _filled(self, event: ev.OrderFilled) -> None:
        market = self._market(event.market)
        self.fills.labels(market, event.side).inc()
        self.fill_volume.labels(market, event.side).inc(float(event.price * event.volume))

    @COUNTS.on(ev.OrderCancelled)
    async def _cancelled(self, event: ev.OrderCancelled) -> None:
        side, ord_type = await self._kind(event.intent_id)
        self.orders.labels(side, ord_type, "cancelled").inc()

    @COUNTS.on(ev.OrderBecameUncertain)
    async def _uncertain(self, event: ev.OrderBecameUncertain) -> None:
        self.orders.labels(event.side, self._ord_type(event.ord_type), "unknown").inc()

    @COUNTS.on(ev.OrderRejected)
    async def _rejected(self, event: ev.OrderRejected) -> None:
        side, ord_type = await self._kind(event.intent_id)
        result = await self._rejection(event.intent_id)
        self.orders.labels(side, ord_type, result).inc()
        if result == "rejected":
            reason = self._reason(event.name or UNKNOWN)
            self.rejections.labels(reason, self._market(event.market)).inc()

    @COUNTS.on(ev.BookAdjusted)
    async def _book(self, event: ev.BookAdjusted) -> None:
        self.book_adjustments.labels(self._market(event.market)).inc()

    @COUNTS.on(ev.RiskBreached)
    async def _risk(self, event: ev.RiskBreached) -> None:
        self.risk_breaches.labels(self._check(event.check)).inc()

    @COUNTS.on(ev.CircuitStateChanged)
    async def _circuit_changed(self, event: ev.CircuitStateChanged) -> None:
        self._circuit = event.new
        if event.new == "open":
            self.circuit_opens.inc()

    @COUNTS.on(ev.PositionClosed)
    async def _closed(self, event: ev.PositionClosed) -> None:
        self.trades_closed.labels("win" if event.pnl_krw > 0 else "loss").inc()

    def _remember(self, intent_id: str, kind: tuple[str, str]) -> None:
        self._kinds[intent_id] = kind
        while len(self._kinds) > _KINDS_KEPT:
            self._kinds.popitem(last=False)

    async def _kind(self, intent_id: str) -> tuple[str, str]:
        """(side, ord_type) of an order: remembered from its placement, else from the store
        (a rejected order was never placed)."""
        known = self._kinds.get(intent_id)
        if known is not None:
            return known
        store = self.sources.store
        if store is None:
            return UNKNOWN, UNKNOWN
        try:
            row = await store.order(intent_id)
        except Exception as exc:  # count the event anyway, with what is known
            log.warning("metrics: order %s not looked up: %r", intent_id, exc)
            return UNKNOWN, UNKNOWN
        if row is None:
            return UNKNOWN, UNKNOWN
        kind = (row.side if row.side in ("bid", "ask") else UNKNOWN, self._ord_type(row.ord_type))
        self._remember(intent_id, kind)
        return kind

    async def _rejection(self, intent_id: str) -> str:
        """``rejected`` when refused (by Upbit or before sending), ``failed`` when every
        attempt was lost to transient errors: the journal's last attempt says which."""
        store = self.sources.store
        if store is None:
            return "rejected"
        try:
            attempts = await store.attempts_for(intent_id)
        except Exception as exc:
            log.warning("metrics: attempts of %s not looked up: %r", intent_id, exc)
            return "rejected"
        if attempts and attempts[-1].outcome not in REFUSED_OUTCOMES:
            return "failed"
        return "rejected"

    # -- exposition ----------------------------------------------------------------------------

    async def scrape(self) -> bytes:
        """The text exposition; refreshes the engine snapshot first (cached ``cache_s``)."""
        if self.sources.facade is not None:
            await self.engine.refresh(self.sources.facade)
        return generate_latest(self.registry)
