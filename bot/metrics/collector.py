"""Series read from the running parts at scrape time (not counted from events).

Called synchronously by ``generate_latest``: it only reads attributes and the snapshot the
scrape handler refreshed just before, so it never waits on I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.metrics.engine_state import EngineReader, EngineSnapshot
from bot.metrics.sources import Sources
from trading.circuit import CircuitState

log = logging.getLogger(__name__)
#: upbit_bot_circuit_state values
CIRCUIT_VALUES = {
    CircuitState.CLOSED.value: 0,
    CircuitState.HALF_OPEN.value: 1,
    CircuitState.OPEN.value: 2,
}

Family = GaugeMetricFamily | CounterMetricFamily


def _gauge(name: str, doc: str, value: float | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class StateCollector(Collector):
    def __init__(
        self,
        sources: Sources,
        reader: EngineReader,
        *,
        circuit_state: Callable[[], str],
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sources = sources
        self.reader = reader
        self._circuit_state = circuit_state  # the last state an event reported
        self._wall_clock = wall_clock

    def describe(self) -> list[Family]:
        return []  # nothing to check at registration; names are fixed below

    def collect(self) -> Iterator[Family]:
        """Each part on its own: one that fails is logged and left out, not the scrape."""
        parts = (
            self._engine,
            self._markets,
            self._upbit,
            self._streams,
            self._notify,
            self._chat,
            self._internals,
        )
        for part in parts:
            try:
                families = list(part())
            except Exception:
                log.exception("metrics: reading %s failed", part.__name__)
                continue
            yield from families

    def _engine(self) -> Iterator[Family]:
        snap = self.reader.snapshot
        if snap is not None:
            yield _gauge(
                "upbit_bot_equity_krw",
                "Equity: cash + held coins at the last price",
                float(snap.equity_krw),
            )
            yield _gauge("upbit_bot_free_krw", "KRW free to trade", float(snap.free_krw))
            yield _gauge(
                "upbit_bot_realized_pnl_krw",
                "Realized PnL from all stored fills (average cost, after fees)",
                float(snap.realized_pnl_krw),
            )
            yield _gauge(
                "upbit_bot_unrealized_pnl_krw",
                "Unrealized PnL of open positions at the last price (before exit fees)",
                float(snap.unrealized_pnl_krw),
            )
            yield _gauge(
                "upbit_bot_open_positions",
                "Positions entering, long or exiting",
                snap.open_positions,
            )
            yield _gauge(
                "upbit_bot_dust_holdings",
                "Markets holding dust: coin worth less than the minimum order, kept apart from"
                " positions and sold with the next exit",
                snap.dust_holdings,
            )
            yield _gauge(
                "upbit_bot_dust_krw",
                "Value of the dust at the last price (included in equity)",
                float(snap.dust_krw),
            )
            yield _gauge(
                "upbit_bot_paused",
                "1 while new entries are paused for all markets",
                int(snap.paused),
            )
            yield _gauge(
                "upbit_bot_kill_switch", "1 after a flatten, until resumed", int(snap.kill_switch)
            )
            yield from self._universe(snap)
        yield CounterMetricFamily(
            "upbit_bot_metrics_engine_read_errors",
            "Scrapes whose engine read failed or timed out (old values were served)",
            value=self.reader.errors,
        )

    @staticmethod
    def _universe(snap: EngineSnapshot) -> Iterator[Family]:
        """The market universe (a fixed list or ``top:N``'s last choice), from the status
        snapshot: its size, each traded market's membership, the changes since start."""
        yield _gauge(
            "upbit_bot_universe_size",
            "Markets new entries may go into (bot.markets: a fixed list or top:N's choice)",
            len(snap.universe),
        )
        member = GaugeMetricFamily(
            "upbit_bot_universe_member",
            "1 for a market in the universe; 0 for one that left it holding a position"
            " (traded until it exits)",
            labels=["market"],
        )
        for market in snap.universe:
            member.add_metric([market], 1)
        for market in snap.held_outside:
            member.add_metric([market], 0)
        yield member
        yield CounterMetricFamily(
            "upbit_bot_universe_changes",
            "top:N choices since start that changed the universe (the first is not counted)",
            value=snap.universe_changes,
        )

    def _markets(self) -> Iterator[Family]:
        """Balance checks and suspended markets; Upbit's flags per configured market once the
        bot has read them (live mode or the Upbit feed; a replay never does)."""
        facade = self.sources.facade
        if facade is None:
            return
        engine = facade.engine
        yield CounterMetricFamily(
            "upbit_bot_balance_checks",
            "Comparisons of the account's balances with the book (scheduled, at start, after "
            "an insufficient-funds refusal, at entry checks)",
            value=engine.holdings.checks,
        )
        suspended = GaugeMetricFamily(
            "upbit_bot_orders_suspended",
            "1 while the market's orders are suspended after too many refusals (until /resume)",
            labels=["market"],
        )
        for market in engine.traded:
            suspended.add_metric([market], int(market in engine.orders.guard.suspended))
        yield suspended
        if not engine.gate.lifecycle.statuses:
            return
        lifecycle = engine.gate.lifecycle
        flagged = GaugeMetricFamily(
            "upbit_bot_market_flagged",
            "1 while Upbit flags the market (warning: investment warning or caution;"
            " delisting: scheduled or not tradeable); no new entries into it",
            labels=["market", "flag"],
        )
        for market in engine.traded:
            flagged.add_metric([market, "warning"], int(market in lifecycle.warned))
            flagged.add_metric([market, "delisting"], int(market in lifecycle.closing))
        yield flagged

    def _upbit(self) -> Iterator[Family]:
        circuit = self.sources.circuit
        state = circuit.state.value if circuit is not None else self._circuit_state()
        yield _gauge(
            "upbit_bot_circuit_state",
            "REST circuit breaker: 0 closed, 1 half_open, 2 open",
            CIRCUIT_VALUES.get(state, 2),
        )
        limiter = self.sources.limiter
        if limiter is None:
            return
        remaining = GaugeMetricFamily(
            "upbit_bot_rate_limit_remaining",
            "Requests left in the current second per group (Upbit's Remaining-Req sec=)",
            labels=["group"],
        )
        for name, group in sorted(limiter.groups.items()):
            if group.remaining is not None:
                remaining.add_metric([name], group.remaining)
        yield remaining
        banned = GaugeMetricFamily(
            "upbit_bot_rate_limit_banned",
            "1 while Upbit blocks the group (HTTP 418)",
            labels=["group"],
        )
        for name, group in sorted(limiter.groups.items()):
            banned.add_metric([name], int(group.banned_until is not None))
        yield banned

    def _streams(self) -> Iterator[Family]:
        streams = list(self.sources.streams())
        if not streams:
            return
        reconnects = CounterMetricFamily(
            "upbit_bot_ws_reconnects",
            "WebSocket reconnects after a lost connection",
            labels=["stream"],
        )
        age = GaugeMetricFamily(
            "upbit_bot_ws_message_age_seconds",
            "Seconds since the last frame on the stream, at scrape time",
            labels=["stream"],
        )
        connected = GaugeMetricFamily(
            "upbit_bot_ws_connected", "1 while the stream is subscribed", labels=["stream"]
        )
        now = self._wall_clock()
        for ws in streams:
            stats = ws.stats
            reconnects.add_metric([ws.name], stats.reconnects)
            connected.add_metric([ws.name], int(stats.connected))
            if stats.last_message_at is not None:
                age.add_metric([ws.name], max(0.0, (now - stats.last_message_at).total_seconds()))
        yield reconnects
        yield age
        yield connected

    def _notify(self) -> Iterator[Family]:
        notifier = self.sources.notifier()
        if notifier is None:
            return
        depth = GaugeMetricFamily(
            "upbit_bot_notify_queue_depth",
            "Chat messages queued and not yet delivered",
            labels=["transport"],
        )
        for transport, count in sorted(notifier.queue_depth().items()):
            depth.add_metric([transport], count)
        yield depth
        sent = CounterMetricFamily(
            "upbit_bot_notify_sent", "Chat messages delivered", labels=["transport"]
        )
        failures = CounterMetricFamily(
            "upbit_bot_notify_failures",
            "Failed send tries (rate limited, network, refused)",
            labels=["transport"],
        )
        dropped = CounterMetricFamily(
            "upbit_bot_notify_dropped", "Chat messages given up on", labels=["transport"]
        )
        for transport, stats in sorted(notifier.by_transport.items()):
            sent.add_metric([transport], stats.sent)
            failures.add_metric([transport], stats.failures)
            dropped.add_metric([transport], stats.dropped)
        yield sent
        yield failures
        yield dropped

    def _chat(self) -> Iterator[Family]:
        if self.sources.chat_ready is None:
            return
        ready = GaugeMetricFamily(
            "upbit_bot_chat_ready",
            "1 while the chat platform accepts the bot's token, 0 once it refused it",
            labels=["platform"],
        )
        for platform, ok in sorted(self.sources.chat_ready().items()):
            ready.add_metric([platform], int(ok))
        yield ready

    def _internals(self) -> Iterator[Family]:
        if self.sources.loop_lag_s is not None:
            yield _gauge(
                "upbit_bot_loop_lag_seconds",
                "How late the event loop's heartbeat is (0 = responsive)",
                self.sources.loop_lag_s(),
            )
        loop = self.sources.engine_loop
        if loop is not None:
            inbox = GaugeMetricFamily(
                "upbit_bot_engine_inbox_depth", "Items waiting for the engine", labels=["lane"]
            )
            orders, market = loop.depth
            inbox.add_metric(["orders"], orders)
            inbox.add_metric(["market"], market)
            yield inbox
        bus = self.sources.bus
        if bus is not None:
            queued = GaugeMetricFamily(
                "upbit_bot_bus_queue_depth",
                "Events waiting per bus subscriber (past the bound: critical backlog)",
                labels=["subscriber"],
            )
            dropped = CounterMetricFamily(
                "upbit_bot_bus_dropped",
                "Non-critical events dropped for a slow subscriber",
                labels=["subscriber"],
            )
            for stats in bus.stats():
                queued.add_metric([stats.name], stats.queued + stats.backlog)
                dropped.add_metric([stats.name], stats.dropped)
            yield queued
            yield dropped
