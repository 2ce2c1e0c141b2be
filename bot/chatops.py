"""The chat side of the bot, assembled from config: the command layer, every enabled
transport of the registry (``bot.transports``), the notifier that pushes engine events to
them, and the daily report.

Started after the trader (it needs the engine facade and the store) and stopped before it.
Events published before it started (the start-up reconciliation) are handed to the notifier
when it starts, so the first push tells what was recovered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata

from bot.config import AppConfig
from bot.notify import BotStarted, BotStopping, ChatSender
from bot.notify.notifier import Notifier
from bot.report import ReportScheduler
from bot.retention import RetentionJob
from bot.token_watch import TokenWatch
from bot.transports.base import RouteMount, Transport
from bot.transports.registry import build_all, pacers_from_config, policies
from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import AuditObserver, Dispatcher
from handlers.i18n import Catalog
from handlers.quota import ResearchQuota
from handlers.reply import Reply, Severity
from trading.bus import EventBus
from trading.engine.facade import EngineFacade
from trading.events import Event
from trading.store import Store
from trading.store.retention import RetentionResult

log = logging.getLogger("bot.chatops")


def version() -> str:
    try:
        return metadata.version("upbit-chatops-bot")
    except metadata.PackageNotFoundError:
        return "dev"


class ChatOps:
    def __init__(
        self,
        config: AppConfig,
        *,
        facade: EngineFacade,
        store: Store,
        bus: EventBus,
        health: Callable[[], Mapping[str, str]],
        on_command: AuditObserver | None = None,
        tokens: TokenWatch | None = None,
        on_retention: Callable[[RetentionResult], None] | None = None,
        http: RouteMount | None = None,
    ) -> None:
        """``tokens``: told when a platform refuses its token while running; ``http``: the
        bot's HTTP server, for a transport that answers there (the command API)."""
        self.config = config
        self._http = http
        self._tokens = tokens
        self._on_command = on_command  # told (command, outcome) of every audited command
        self._on_retention = on_retention  # told what every retention run deleted
        self._facade = facade
        self._store = store
        self._bus = bus
        self._health = health
        self.dispatcher: Dispatcher | None = None
        self.transports: list[Transport] = []
        self.notifier: Notifier | None = None
        self.reports: ReportScheduler | None = None
        self.retention: RetentionJob | None = None
        self._alerts: set[asyncio.Task[int]] = set()

    async def start(self, early_events: Sequence[Event] = ()) -> None:
        """``early_events``: what was published before this existed (taken as it is now)."""
        cfg = self.config
        catalog = Catalog.load(cfg.bot.language)
        self.dispatcher = Dispatcher(
            build_registry(),
            self._facade,
            Authorizer(policies(cfg), on_alert=self._alert),
            self._store,
            language=cfg.bot.language,
            mode=cfg.bot.mode,
            version=version(),
            health_hook=self._health,
            report_hook=self._report,
            on_audit=self._on_command,
            research_quota=ResearchQuota(cfg.research),
        )
        senders: dict[str, ChatSender] = {}
        targets: dict[str, Sequence[str]] = {}
        # one pace and one flood wait per chat, shared by command replies and pushes
        pacers = pacers_from_config(cfg.notify)
        for transport, chats in build_all(
            cfg, self.dispatcher, pacers, self._reporter, self._http
        ):
            self.transports.append(transport)
            senders[transport.name] = transport
            targets[transport.name] = chats
        # built and subscribed before the first await: no event can fall in between
        self.notifier = Notifier.from_config(
            cfg, self._store, senders, targets, catalog=catalog, pacers=pacers
        )
        self.notifier.subscribe(self._bus)
        for event in early_events:
            await self.notifier.on_event(event)
        for transport in self.transports:
            await transport.start()
        await self.notifier.start()
        self.reports = ReportScheduler.from_config(
            cfg, facade=self._facade, store=self._store, catalog=catalog, push=self.notifier.push
        )
        self.reports.subscribe(self._bus)
        self.reports.start()
        assert self.reports.scheduler is not None
        # the scheduler's other job: old rows go daily at a quiet hour and once now
        self.retention = RetentionJob(
            self._store, cfg.retention, zone=cfg.bot.tz, on_result=self._on_retention
        )
        self.retention.schedule(self.reports.scheduler)
        self._bus.publish(
            BotStarted(
                mode=cfg.bot.mode,
                markets=self._facade.markets,
                strategy=cfg.strategy.name,
                version=version(),
            )
        )
        names = ", ".join(t.name for t in self.transports) or "console only"
        log.info("chat-ops ready: %s; pushes to %s", names, targets or "no chat")

    def _reporter(self, platform: str) -> Callable[[str, str], None] | None:
        return None if self._tokens is None else self._tokens.reporter(platform)

    async def _report(self, period: str, _language: str) -> Reply:
        assert self.reports is not None
        return await self.reports.report(period)

    def _alert(self, text: str) -> None:
        """Repeated attempts by an unknown user: tell the operators (queued, not awaited)."""
        if self.notifier is not None:
            reply = Reply("access", lines=(text,), severity=Severity.WARNING)
            task = asyncio.get_running_loop().create_task(self.notifier.push(reply, kind="error"))
            self._alerts.add(task)
            task.add_done_callback(self._alerts.discard)

    async def stop(self, reason: str = "stopped") -> None:
        await self._facade.research.close()  # a running /backtest or /optimize: its process ends
        if self.notifier is not None:
            await self.notifier.on_event(BotStopping(mode=self.config.bot.mode, reason=reason))
        if self.reports is not None:
            await self.reports.stop()
        if self.retention is not None:
            await self.retention.stop()
        # drain first (within notify.stop_grace_s): the notice goes out through the transports
        if self.notifier is not None:
            await self.notifier.stop()
        for transport in reversed(self.transports):
            await transport.stop()
