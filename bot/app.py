"""The one event loop: start the parts in order, wait for a stop signal, stop them in reverse.

Order: store migrations -> HTTP health endpoints -> the chat platforms' credentials (a wrong
token stops the start here, exit code 2) -> Upbit REST client (when the mode or the
feed needs it) -> the trader (engine, reconciliation, feeds) -> chat-ops (command layer, the
registry's transports, notifier, daily report) -> the console. Every event goes through the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable
from decimal import Decimal
from importlib import resources
from pathlib import Path

from bot import upbit_factory
from bot.api.wiring import build_http_server
from bot.chatops import ChatOps, version
from bot.config import AppConfig
from bot.console import run_console
from bot.credentials import CredentialsRefused, PlatformUnreachable, check_credentials
from bot.event_log import describe
from bot.http_server import HttpServer
from bot.leadership import Leadership, leadership_for
from bot.logs import setup_logging
from bot.metrics import Metrics, metrics_route
from bot.token_watch import TokenWatch
from bot.trader import Trader
from bot.transports.registry import credentials_of
from bot.universe import UniverseJob
from trading.bus import EventBus
from trading.candle_file import CandleFileError
from trading.errors import UpbitError
from trading.events import Event
from trading.marketdata.replay import ReplayFile
from trading.store import StoreError, upgrade
from trading.strategies import StrategyError
from trading.upbit.rest import UpbitRestClient

log = logging.getLogger("bot")
BUNDLED_REPLAY = "upbit_KRW-BTC_1m.csv"
EXIT_REFUSED = 2  # bot.cli.EXIT_CONFIG: a refused token is a configuration error


def bundled_replay_file() -> Path:
    return Path(str(resources.files("bot") / "data" / BUNDLED_REPLAY))


class App:
    """Owns every long-lived part; ``start``/``stop`` are each called once, in that order."""

    def __init__(self, config: AppConfig, stop: asyncio.Event) -> None:
        self.config = config
        self._stop = stop
        self._tasks: set[asyncio.Task[None]] = set()
        self._started_at = time.monotonic()
        self.rest: UpbitRestClient | None = None
        self.http: HttpServer | None = None
        self.trader: Trader | None = None
        self.chatops: ChatOps | None = None
        self.leadership: Leadership | None = None
        self._trading: set[asyncio.Task[None]] = set()  # the trader's tasks (leader only)
        self._replay = bundled_replay_file()
        self._early: list[Event] = []  # critical events before the notifier exists
        # every event goes through the bus; the console log is its first subscriber (the
        # notifier and the metrics join it in issues #4 and #6)
        self.bus = EventBus()
        self.bus.subscribe_callback("console-log", self._log_event)
        self.metrics = Metrics(
            version=version(),
            mode=config.bot.mode,
            strategy=config.strategy.name,
            markets=config.bot.fixed_markets,
        )
        self.metrics.subscribe(self.bus)
        # chat tokens refused while running: /readyz, the metrics and the other platform
        platforms = dict.fromkeys(c.platform for c in credentials_of(config))
        self.tokens = TokenWatch(platforms, self.on_event)
        self.metrics.sources.chat_ready = self.tokens.ready
        self.revision: str | None = None
        self.universe_job: UniverseJob | None = None  # bot.markets = "top:N" (leader only)
        self.state = "new"

    def create_task(self, coro: Awaitable[None], name: str) -> None:
        """Track background work; a crash is logged and stops the bot rather than vanishing."""
        self._spawn(coro, name)

    def _spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed; stopping", name)
                self._stop.set()

        task = asyncio.get_running_loop().create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def ready(self) -> bool:
        return self.state == "running"

    async def start(self) -> None:
        if self.state != "new":
            raise RuntimeError(f"App.start() called in state {self.state}")
        self.state = "starting"
        cfg = self.config
        log.info(
            "upbit-bot starting: mode=%s feed=%s markets=%s strategy=%s",
            cfg.bot.mode,
            cfg.bot.feed,
            ",".join(cfg.bot.markets),
            cfg.strategy.name,
        )
        self.revision = await upgrade(cfg.store.url)
        log.info("store ready at revision %s", self.revision)
        if cfg.http.enabled:
            # probes, JSON API and dashboard (bot/api); more routes from their own modules
            secret = cfg.secrets.api_token if cfg.http.metrics_auth else None
            token = None if secret is None else secret.get_secret_value()
            scrape = metrics_route(self.metrics, token=token)
            self.http = build_http_server(self, routes=[scrape])
            await self.http.start()
            self.metrics.sources.loop_lag_s = self.http.loop_lag_s
            log.info("health endpoints on http://%s:%d/healthz", cfg.http.host, self.http.port)
        # before anything that trades or talks: a wrong chat token leaves nothing to undo
        await check_credentials(credentials_of(cfg))
        if cfg.bot.mode == "live" or cfg.bot.feed == "upbit":
            await self._start_upbit()
        replay = Path(cfg.bot.replay_file) if cfg.bot.replay_file else bundled_replay_file()
        if cfg.bot.feed == "replay":
            # fail now, not in the background, on a missing or unreadable file
            kind = ReplayFile(replay, cfg.bot.markets[0]).kind()
            log.info("replaying %s (%s) at %s speed", replay.name, kind, cfg.bot.replay_speed)
        self._replay = replay
        # the leader trades (trader, chat-ops); a standby answers read-only commands
        self.leadership = leadership_for(self)
        await self.leadership.start()  # a lone instance leads before this returns
        self.create_task(console(self), "console")
        self.state = "running"
        log.info("running; type 'help' for commands, Ctrl-C to stop")

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def is_leader(self) -> bool:
        """This instance holds the leader lock (always, on SQLite): it trades and pushes. A
        standby is alive and ready as a standby; /healthz and metrics report which."""
        return self.leadership is not None and self.leadership.is_leader

    async def start_trading(self) -> None:
        """Leadership acquired: the trader (reconciliation before the first order), then
        chat-ops (transports, notifier, reports)."""
        cfg = self.config
        assert self.leadership is not None
        self.trader = Trader(
            cfg,
            sink=self.on_event,
            create_task=self._trading_task,
            rest=self.rest,
            credentials=upbit_factory.credentials(cfg),
            replay_file=self._replay,
            fence=self.leadership.lock.may_send,
        )
        await self.trader.start()
        assert self.trader.facade is not None
        self.metrics.attach_trader(self.trader)
        self.chatops = ChatOps(
            cfg,
            facade=self.trader.facade,
            store=self.trader.facade.store,
            bus=self.bus,
            health=self._health,
            on_command=self.metrics.on_command,
            tokens=self.tokens,
            on_retention=self.metrics.on_retention,
            http=self.http,
        )
        await self.chatops.start(self._early)  # reads the buffer before its first await
        self._early = []
        self.metrics.attach_chatops(self.chatops)
        self.universe_job = None
        reports = self.chatops.reports
        if self.trader.universe is not None and reports is not None and reports.scheduler:
            # "top:N" is chosen again on the scheduler, beside the report and retention
            self.universe_job = UniverseJob(self.trader.universe, zone=cfg.bot.tz)
            self.universe_job.schedule(reports.scheduler)

    async def stop_trading(self, reason: str) -> None:
        """Leadership lost: the fence already refuses orders; stop pushing and trading, and
        leave open orders to the new leader (no cancel)."""
        trader, chatops = self.trader, self.chatops
        self.trader = self.chatops = None
        self.metrics.detach_trader()
        if trader is not None and trader.rig is not None:
            trader.rig.engine.paused_all = True  # in memory only: the new leader decides
        tasks = list(self._trading)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            async with asyncio.timeout(10):
                if chatops is not None:
                    await chatops.stop(reason)
                if trader is not None:
                    await trader.stop(cancel=False)
        except Exception as exc:  # a dead store must not keep a lost leader half-running
            log.warning("stopping the trading parts after %s: %s", reason, exc)

    def _trading_task(self, coro: Awaitable[None], name: str) -> None:
        """A task of the trading parts: cancelled when leadership is lost."""
        task = self._spawn(coro, name)
        self._trading.add(task)
        task.add_done_callback(self._trading.discard)

    def _markets(self) -> tuple[str, ...]:
        """The markets traded now ("top:N" chosen, held ones outside it), else the config's."""
        facade = None if self.trader is None else self.trader.facade
        return self.config.bot.markets if facade is None else facade.markets

    def _health(self) -> dict[str, str]:
        cfg = self.config
        return {
            "feed": f"{cfg.bot.feed}, markets {', '.join(self._markets())}",
            "store": f"revision {self.revision}",
            "uptime": f"{time.monotonic() - self._started_at:.0f}s",
        }

    async def _start_upbit(self) -> None:
        cfg = self.config
        self.rest = upbit_factory.rest_client(
            cfg, self.on_event, on_request=self.metrics.on_request
        )
        self.metrics.attach_rest(self.rest)
        await self.rest.start()
        markets = {m.market: m for m in await self.rest.markets()}
        unknown = [m for m in cfg.bot.fixed_markets if m not in markets]
        if unknown:
            raise UpbitError(f"Upbit does not list market(s) {', '.join(unknown)}", name="config")
        if cfg.bot.fixed_markets:  # "top:N": the trader checks the markets it chooses
            await self.rest.refresh_ticks(cfg.bot.fixed_markets)
        log.info("Upbit REST reachable at %s; %d markets listed", cfg.upbit.rest_url, len(markets))
        if upbit_factory.credentials(cfg) is not None:
            accounts = await self.rest.accounts()
            krw = next((a.free for a in accounts if a.currency == "KRW"), Decimal(0))
            log.info("Upbit keys accepted: %d balances, %s KRW free", len(accounts), f"{krw:,f}")

    def on_event(self, event: Event) -> None:
        if self.chatops is None and type(event).critical:
            self._early.append(event)  # the notifier gets these when it starts
        self.bus.publish(event)

    async def _log_event(self, event: Event) -> None:
        text = describe(event)
        if text is not None:
            log.info("%s", text)

    async def status_lines(self) -> list[str]:
        cfg = self.config
        lines = [
            f"mode {cfg.bot.mode}, feed {cfg.bot.feed}, markets {', '.join(self._markets())}",
            f"store revision {self.revision}, up {time.monotonic() - self._started_at:.0f}s",
        ]
        if self.trader is not None:
            lines += await self.trader.status_lines()
        return lines

    async def stop(self) -> None:
        if self.state == "stopped":
            return
        self.state = "stopping"
        if self.leadership is not None:
            await self.leadership.stop()  # no take-over while stopping
        if self.chatops is not None:
            await self.chatops.stop()
        if self.trader is not None:
            await self.trader.stop()
        if self.leadership is not None:
            await self.leadership.release()  # only now may a standby trade
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.rest is not None:
            await self.rest.stop()
        if self.http is not None:
            await self.http.stop()
        await self.bus.stop()  # delivers what is queued (critical events) first
        self.state = "stopped"
        log.info("stopped cleanly")


async def console(app: App) -> None:
    """Commands typed on stdin: the leader's dispatcher, or the standby's read-only desk."""
    assert app.leadership is not None
    desk = app.leadership.desk
    assert desk is not None
    await run_console(
        lambda: app.chatops.dispatcher if app.chatops else None, desk.answer, app._stop
    )


async def run(config: AppConfig) -> int:
    """Run until SIGINT/SIGTERM (or ``quit``); 0 on a clean stop, 1 if start-up failed, 2 if a
    chat platform refused a token (a config error: restarting will not help)."""
    secrets = [s.get_secret_value() for s in config.secrets.model_dump().values() if s]
    setup_logging(config.bot.log_level, json_lines=config.bot.log_json, secrets=secrets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    app = App(config, stop)
    try:
        await app.start()
    except CredentialsRefused as exc:
        for line in exc.lines:
            log.error("%s", line)  # noqa: TRY400 - one line per token, no traceback
        await app.stop()
        return EXIT_REFUSED
    except PlatformUnreachable as exc:
        log.error("%s", exc)  # noqa: TRY400 - the message is the news
        await app.stop()
        return 1
    except (UpbitError, StoreError, CandleFileError, StrategyError, OSError, ValueError) as exc:
        log.error("start-up failed: %s", exc)  # noqa: TRY400 - the message is the news
        await app.stop()
        return 1
    await stop.wait()
    log.info("stop requested")
    await app.stop()
    return 0
