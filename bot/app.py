"""The one event loop: start the parts in order, wait for a stop signal, stop them in reverse.

Until the engine lands (issue 3) the bot opens its store, checks its Upbit connection (live
feed or live mode), replays market data and answers a few console commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path

from bot import upbit_factory
from bot.config import AppConfig
from bot.http_server import HttpServer
from bot.logs import setup_logging
from trading.candle_file import CandleFileError, FileCandle, read_candles
from trading.errors import UpbitError
from trading.events import Event
from trading.store import StoreError, upgrade
from trading.upbit.auth import Credentials
from trading.upbit.rest import UpbitRestClient
from trading.upbit.ws_client import Subscription, UpbitWebSocket
from trading.upbit.ws_messages import MyAsset, MyOrder, Ticker, Trade

log = logging.getLogger("bot")
BUNDLED_REPLAY = "upbit_KRW-BTC_1m.csv"


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
        self.streams: list[UpbitWebSocket] = []
        self.http: HttpServer | None = None
        self.last_prices: dict[str, Decimal] = {}
        self.trades_seen = 0
        self.revision: str | None = None
        self.replayed = 0
        self.last: FileCandle | None = None
        self.state = "new"

    def create_task(self, coro: Awaitable[None], name: str) -> None:
        """Track background work; a crash is logged and stops the bot rather than vanishing."""

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
            self.http = HttpServer(cfg.http.host, cfg.http.port, ready=lambda: self.ready)
            await self.http.start()
            log.info("health endpoints on http://%s:%d/healthz", cfg.http.host, self.http.port)
        if cfg.bot.mode == "live" or cfg.bot.feed == "upbit":
            await self._start_upbit()
        if cfg.bot.feed == "replay":
            path = Path(cfg.bot.replay_file) if cfg.bot.replay_file else bundled_replay_file()
            first = next(read_candles(path))  # fail now, not in the background, on a bad file
            log.info(
                "replaying %s from %s at %s speed", path.name, first.start, cfg.bot.replay_speed
            )
            self.create_task(self._replay(path), "replay")
        self.create_task(console(self), "console")
        self.state = "running"
        log.info("running; type 'help' for commands, Ctrl-C to stop")

    async def _start_upbit(self) -> None:
        cfg = self.config
        creds = upbit_factory.credentials(cfg)
        self.rest = upbit_factory.rest_client(cfg, self.on_event)
        await self.rest.start()
        markets = {m.market: m for m in await self.rest.markets()}
        unknown = [m for m in cfg.bot.markets if m not in markets]
        if unknown:
            raise UpbitError(f"Upbit does not list market(s) {', '.join(unknown)}", name="config")
        for code in cfg.bot.markets:
            if markets[code].warning:
                log.warning("%s is under an Upbit investment warning", code)
        await self.rest.refresh_ticks(cfg.bot.markets)
        log.info("Upbit REST reachable at %s; %d markets listed", cfg.upbit.rest_url, len(markets))
        if creds is not None:
            accounts = await self.rest.accounts()
            krw = next((a.balance for a in accounts if a.currency == "KRW"), Decimal(0))
            log.info("Upbit keys accepted: %d balances, %s KRW free", len(accounts), f"{krw:,f}")
        if cfg.bot.feed == "upbit":
            await self._start_streams(creds)

    async def _start_streams(self, creds: Credentials | None) -> None:
        cfg = self.config
        markets = list(cfg.bot.markets)

        def make(
            url: str, subs: list[Subscription], name: str, key: Credentials | None = None
        ) -> UpbitWebSocket:
            return UpbitWebSocket(
                url,
                subs,
                credentials=key,
                name=name,
                ping_interval_s=cfg.upbit.ws_ping_interval_s,
                stale_after_s=cfg.upbit.ws_stale_after_s,
                backoff_max_s=cfg.upbit.ws_reconnect_max_s,
                on_event=self.on_event,
            )

        public = [Subscription("trade", markets), Subscription("ticker", markets)]
        self.streams.append(make(cfg.upbit.ws_url, public, "public"))
        if creds is not None:
            private = [Subscription("myOrder"), Subscription("myAsset")]
            self.streams.append(make(cfg.upbit.ws_private_url, private, "private", creds))
        for stream in self.streams:
            await stream.start()
            self.create_task(self._consume(stream), f"ws-{stream.name}")
        log.info("subscribed to %s on %s", ", ".join(markets), cfg.upbit.ws_url)

    async def _consume(self, stream: UpbitWebSocket) -> None:
        async for message in stream.messages():
            if isinstance(message, Trade):
                self.trades_seen += 1
                if message.code not in self.last_prices:
                    log.info(
                        "first trade on %s at %s KRW",
                        message.code,
                        f"{message.trade_price.normalize():,f}",
                    )
                self.last_prices[message.code] = message.trade_price
            elif isinstance(message, Ticker):
                self.last_prices[message.code] = message.trade_price
            elif isinstance(message, MyOrder):
                log.info(
                    "order %s %s: %s",
                    message.identifier or message.uuid,
                    message.code,
                    message.state,
                )
            elif isinstance(message, MyAsset):
                log.info("balances changed: %s", ", ".join(a.currency for a in message.assets))

    @property
    def ready(self) -> bool:
        return self.state == "running"

    def on_event(self, event: Event) -> None:
        log.warning("event: %s", event)

    async def _replay(self, path: Path) -> None:
        factor = self.config.bot.replay_factor
        previous = None
        for candle in read_candles(path):
            if factor is not None and previous is not None:
                await asyncio.sleep((candle.start - previous.start).total_seconds() / factor)
            elif self.replayed % 1000 == 0:
                await asyncio.sleep(0)  # a max-speed replay must still let the loop breathe
            previous, self.last = candle, candle
            self.replayed += 1
            if self.replayed % 5000 == 0:
                log.info(
                    "replay: %d candles, last %s close %s",
                    self.replayed,
                    candle.start.isoformat(),
                    f"{candle.close.normalize():,f}",
                )
        log.info(
            "replay finished: %d candles; waiting for commands (Ctrl-C to stop)", self.replayed
        )

    def status_lines(self) -> list[str]:
        cfg = self.config
        lines = [
            f"mode {cfg.bot.mode}, feed {cfg.bot.feed}, markets {', '.join(cfg.bot.markets)}",
            f"store revision {self.revision}, up {time.monotonic() - self._started_at:.0f}s",
        ]
        for market, price in sorted(self.last_prices.items()):
            lines.append(f"{market} last {price.normalize():,f} KRW ({self.trades_seen} trades)")
        if self.last is not None:
            lines.append(
                f"replayed {self.replayed} candles; last {self.last.start:%Y-%m-%d %H:%M} UTC "
                f"close {self.last.close.normalize():,f} KRW"
            )
        return lines

    async def stop(self) -> None:
        if self.state == "stopped":
            return
        self.state = "stopping"
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stream in self.streams:
            await stream.stop()
        if self.rest is not None:
            await self.rest.stop()
        if self.http is not None:
            await self.http.stop()
        self.state = "stopped"
        log.info("stopped cleanly")


async def console(app: App) -> None:
    """Commands typed on stdin; a daemon thread reads so Ctrl-C never waits for Enter."""
    if sys.stdin is None or sys.stdin.closed:
        return
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=reader, name="console-stdin", daemon=True).start()
    commands: dict[str, Callable[[], list[str]]] = {
        "help": lambda: ["commands: help, status, quit"],
        "status": app.status_lines,
    }
    while (line := await lines.get()) is not None:
        word = line.strip().lstrip("/").lower()
        if not word:
            continue
        if word in ("quit", "exit", "stop"):
            print("stopping…", flush=True)
            app._stop.set()
            return
        handler = commands.get(word)
        reply = handler() if handler else [f"unknown command {word!r}; try help"]
        print("\n".join(reply), flush=True)


async def run(config: AppConfig) -> int:
    """Run until SIGINT/SIGTERM (or ``quit``); 0 on a clean stop, 1 if start-up failed."""
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
    except (UpbitError, StoreError, CandleFileError, OSError) as exc:
        log.error("start-up failed: %s", exc)  # noqa: TRY400 - the message is the news
        await app.stop()
        return 1
    await stop.wait()
    log.info("stop requested")
    await app.stop()
    return 0
