"""Soak: a month of paper trading on 20 markets, replayed as fast as the machine allows.

The real parts, in one process and one loop: the paper engine (20 markets, 15-minute
candles, the MA cross 16/64), the event bus, the notifier pushing every event to the fake
Telegram and the fake Slack (real python-telegram-bot, slack-bolt, slack_sdk), the
dispatcher answering ``/status`` through both, the report scheduler's equity snapshots and
daily report (chart included) and retention, on a SQLite store.

Time is simulated: candles are synthetic seeded random walks (no month of 20-market tick
data is in the repo), four prints each (open, the nearer extreme, the other, close) straight
into the engine's inbox, as the replay feed does; every step waits for the inbox to drain, so
the pace is the machine's. The store, the notifier and the report take a simulated clock, so
rows carry simulated times and retention deletes by them. What the scheduler does on the wall
clock (APScheduler cron) is driven here by the simulated one: an equity snapshot every
candle (15 minutes; the bot's default is 5), at 00:00 UTC (09:00 in Seoul) the daily report
and retention. Balance snapshots (which the bot does not write today) are written hourly
and the candles are written to the ``candles`` table as ``upbit-bot download`` would, so
every pruned table has work. Retention
keeps ``keep_days`` (5) of every table, shorter than the defaults, so a month shows the
plateau. The chat platforms' pacing is off (a month passes in minutes; the push-burst
benchmark measures pacing); the fakes' records are trimmed daily (they are the test's, not
the bot's, memory). The store lives on tmpfs (``/dev/shm``) where there is one: on a shared
disk each commit's flush (synchronous=FULL) made a simulated day take minutes, and what is
measured here is growth, not the disk (the tick benchmark measures commits on disk).

Sampled per simulated day: RSS, the store's size (main file + WAL) and rows in the pruned
tables, event-loop lag p99 (a 10 ms sleeper), ``/status`` round trip p99 (the fake queues
the update -> the fake receives the reply; Telegram to the millisecond, Slack polled every
2 ms), the notification queue depth. The slopes are least-squares fits over the days after
the first two (warm-up) and after the retention window (the store's plateau).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from bot.notify import NotifyPolicy
from bot.notify.notifier import Notifier
from bot.notify.pacing import Limits, Pacer
from bot.report import ReportScheduler
from bot.slack.transport import SlackTransport
from bot.telegram.transport import TelegramTransport
from handlers.auth import Authorizer, Policy
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.i18n import Catalog
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.ratelimit import RateLimits
from trading.bus import EventBus
from trading.domain import TradePrint
from trading.engine.build import EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.history.series import HistCandle
from trading.history.store_candles import StoreTarget
from trading.history.timeframes import parse_timeframe
from trading.risk.limits import RiskLimits
from trading.store import Balance, Store, create_engine, session_factory, upgrade
from trading.store.models import Fill, Order, OrderAttempt
from trading.store.retention import TABLES, database_bytes, table_counts
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

TG_CHAT, TG_PUSH, TG_ADMIN = 100, 200, 7
SL_CHANNEL, SL_PUSH, SL_ADMIN = "C0100CMD", "C0200PUSH", "U0ADMIN"
START = datetime(2026, 1, 1, tzinfo=UTC)
MARKETS = 20
STEP_S = 900  # 15-minute candles
TIMEFRAME = "15m"
NO_PACING = Limits(0.0, 0, 60.0, 0, 1.0)


class SimClock:
    """The simulated "now" every part with a clock reads."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class DaySample:
    day: int
    rss_kb: int
    store_kb: int
    rows: int
    kept_rows: int  # orders, attempts and fills: kept forever
    lag_p99_ms: float
    status_p99_ms: float
    status_p50_ms: float
    queue_depth: int


@dataclass
class SoakRun:
    days: int
    markets: int
    wall_s: float = 0.0
    samples: list[DaySample] = field(default_factory=list)
    statuses: int = 0
    pushes_telegram: int = 0
    pushes_slack: int = 0
    fills: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    final_queue: int = 0

    def slope(self, name: str, skip: int = 2) -> float:
        """Least-squares slope of ``name`` per simulated day, over the days after ``skip``."""
        points = [(s.day, float(getattr(s, name))) for s in self.samples if s.day >= skip]
        return least_squares(points)


def least_squares(points: Sequence[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in points) / var


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_kb() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _file_kb(url_path: Path) -> int:
    return sum(p.stat().st_size for p in url_path.parent.glob(url_path.name + "*")) // 1024


def _trim(tg: FakeTelegram, slack: FakeSlack) -> None:
    """Forget what the fakes recorded (their memory, not the bot's)."""
    tg.requests.clear()
    tg.sent.clear()
    tg.api.files.clear()
    for chat in tg.api.chats.values():
        chat.messages.clear()
    slack.requests.clear()
    slack.responses.clear()
    slack.uploads.clear()
    slack._messages.clear()
    slack._targets.clear()
    slack.socket.envelopes.clear()
    slack.socket.acks.clear()


class LagMeter:
    """A task that sleeps 10 ms over and over and records how late it wakes."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            self.samples.append((time.monotonic() - t - 0.01) * 1000)

    def take(self) -> list[float]:
        out, self.samples = self.samples, []
        return out

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _kept_rows(store: Store) -> int:
    total = 0
    async with store._sessions() as session:
        for model in (Order, OrderAttempt, Fill):
            total += int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return total


async def _status_telegram(tg: FakeTelegram) -> float:
    seen = len(tg.sent)
    start = time.monotonic()
    tg.user_sends(TG_CHAT, TG_ADMIN, "/status")
    reply = await tg.wait_for(None, timeout=30, chat_id=TG_CHAT, after=seen)
    return (reply.at - start) * 1000


async def _status_slack(slack: FakeSlack) -> float:
    seen = len(slack.responses)
    start = time.monotonic()
    await slack.slash_command(SL_ADMIN, SL_CHANNEL, "status")
    deadline = start + 30
    while len(slack.responses) <= seen:
        if time.monotonic() > deadline:
            raise TimeoutError("no /status reply from Slack within 30 s")
        await asyncio.sleep(0.002)
    return (time.monotonic() - start) * 1000


async def _run(
    days: int, markets: int, workdir: Path, seed: int, status_every_s: int, keep_days: int
) -> SoakRun:
    path = workdir / "soak.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = create_engine(url)
    clock = SimClock(START)
    store = Store(session_factory(db), clock=clock.now)
    bus = EventBus()
    names = tuple(f"KRW-S{i:02d}" for i in range(markets))
    rig = await assemble(
        EngineSpec(
            markets=names, timeframe=TIMEFRAME, paper=True, paper_start_krw=Decimal(100_000_000)
        ),
        strategy=build_strategy("ma_cross", "", {"fast": 16, "slow": 64}),
        limits=RiskLimits(
            position_size_krw=Decimal(1_000_000),
            max_open_positions=markets,
            volatility_halt_pct=Decimal(0),
            volatility_halt_percentile=Decimal(0),
            daily_loss_limit_krw=Decimal(0),
            max_drawdown_pct=Decimal(0),
        ),
        store=store,
        sink=bus.publish,
        rules=UpbitMarketRules(),
    )
    facade = EngineFacade(rig.engine, store, sink=bus.publish, mode="paper")
    auth = Authorizer(
        {
            "telegram": Policy.of(chats=[TG_CHAT], admins=[TG_ADMIN]),
            "slack": Policy.of(chats=[SL_CHANNEL], admins=[SL_ADMIN]),
        }
    )
    catalog = Catalog.load("en")
    dispatcher = Dispatcher(build_registry(), facade, auth, store, language="en")
    target = StoreTarget(url)
    await target.open()
    run = SoakRun(days=days, markets=markets)
    rng = random.Random(seed)
    prices = {m: Decimal(rng.randrange(1_000, 100_000) * 10) for m in names}
    tf = parse_timeframe(TIMEFRAME)
    lag = LagMeter()
    async with (
        FakeTelegram(rate_limits=RateLimits(enabled=False)) as tg,
        FakeSlack(rate_limits=False) as slack,
    ):
        # replies and pushes share each transport's pacer; the soak runs it without a pace
        telegram = TelegramTransport(
            token=tg.token,
            dispatcher=dispatcher,
            base_url=tg.base_url,
            poll_timeout_s=1,
            pacer=Pacer(NO_PACING),
        )
        slack_tx = SlackTransport(
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            dispatcher=dispatcher,
            api_url=slack.api_url,
            pacer=Pacer(NO_PACING),
        )
        for transport in (telegram, slack_tx):
            await transport.start()
        await slack.wait_connected()
        notifier = Notifier(
            store,
            {"telegram": telegram, "slack": slack_tx},
            {"telegram": [str(TG_PUSH)], "slack": [SL_PUSH]},
            NotifyPolicy(),
            catalog,
            paper=True,
            clock=clock.now,
            coalesce_s=0.2,
            poll_s=0.05,
            max_queue=100_000,
        )
        notifier.subscribe(bus)
        await notifier.start()
        reports = ReportScheduler(
            facade=facade, store=store, catalog=catalog, push=notifier.push, clock=clock.now
        )
        reports.subscribe(bus)
        retention = store.retention({t: timedelta(days=keep_days) for t in TABLES})
        rig.loop.start()
        lag.start()
        started = time.monotonic()
        status_ms: list[float] = []
        pending: dict[str, list[HistCandle]] = {m: [] for m in names}
        deleted = dict.fromkeys(TABLES, 0)
        steps = days * 86_400 // STEP_S
        for step in range(steps + 1):
            at = START + timedelta(seconds=step * STEP_S)
            clock.at = at
            for market in names:
                price = prices[market]
                moves = [price * Decimal(1 + rng.gauss(0, 0.002)) for _ in range(4)]
                walk = [price, *moves]
                close = moves[-1].quantize(Decimal(1))
                high, low = max(walk).quantize(Decimal(1)), min(walk).quantize(Decimal(1))
                prices[market] = close
                first, second = (low, high) if rng.random() < 0.5 else (high, low)
                for k, p in enumerate((price, first, second, close)):
                    rig.loop.put_print(
                        TradePrint(
                            market, p, Decimal("0.5"), at + timedelta(seconds=k * STEP_S // 4)
                        )
                    )
                pending[market].append(
                    HistCandle(at, price, high, low, close, Decimal("2"), price * 2, False)
                )
            await rig.loop.drain()
            if step % (3600 // STEP_S) == 0:
                for market in names:  # as `upbit-bot download` writes them
                    await target.write(market, tf, pending[market])
                    pending[market] = []
                await store.snapshot_balances([Balance("KRW", Decimal(1), Decimal(0), Decimal(0))])
            await reports.snapshot()
            if step % (status_every_s // STEP_S) == 0:
                tg_turn = (step // (status_every_s // STEP_S)) % 2 == 0
                status_ms.append(await (_status_telegram(tg) if tg_turn else _status_slack(slack)))
                run.statuses += 1
            if step % (86_400 // STEP_S) == 0:  # 00:00 UTC = 09:00 in Seoul
                day = step * STEP_S // 86_400
                if day:
                    await reports.daily_job()
                result = await retention.run()
                for table, count in result.deleted.items():
                    deleted[table] += count
                run.pushes_telegram += sum(1 for c in tg.sent if c.chat_id == TG_PUSH)
                run.pushes_slack += len(slack.messages(SL_PUSH))
                _trim(tg, slack)
                counts = await table_counts(store._sessions)
                lags = lag.take()
                run.samples.append(
                    DaySample(
                        day=day,
                        rss_kb=_rss_kb(),
                        store_kb=_file_kb(path),
                        rows=sum(counts.values()),
                        kept_rows=await _kept_rows(store),
                        lag_p99_ms=_pct(lags, 0.99),
                        status_p99_ms=_pct(status_ms, 0.99),
                        status_p50_ms=_pct(status_ms, 0.5),
                        queue_depth=await store.pending_notifications(),
                    )
                )
                status_ms = []
        run.wall_s = time.monotonic() - started
        await rig.loop.drain()
        run.fills = len(await store.fills(limit=1_000_000))
        run.deleted = deleted
        run.final_queue = await store.pending_notifications()
        await lag.stop()
        await notifier.stop()
        for transport in (telegram, slack_tx):
            await transport.stop()
        await rig.loop.stop()
        await bus.stop()
    await target.close()
    assert await database_bytes(store._sessions) > 0
    await db.dispose()
    return run


def run_once(
    days: int = 30,
    *,
    markets: int = MARKETS,
    seed: int = 11,
    status_every_s: int = 1800,
    keep_days: int = 5,
) -> SoakRun:
    """One soak; bounded by ``days`` of simulated time (it stops itself)."""
    shm = Path("/dev/shm")  # tmpfs: commits without a disk flush (see the module docstring)
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        return asyncio.run(_run(days, markets, Path(tmp), seed, status_every_s, keep_days))


def report(runs: Sequence[SoakRun]) -> list[str]:
    """The printed figures: first and last day of the median run, the slopes of every run."""

    ordered = sorted(runs, key=lambda r: r.slope("rss_kb"))
    mid = ordered[len(ordered) // 2]
    first, last = mid.samples[1], mid.samples[-1]
    plateau = mid.samples[-1].day // 2
    lines = [
        f"  {mid.days} simulated days in {mid.wall_s:.0f} s wall "
        f"({mid.days * 86_400 / mid.wall_s:,.0f}x), {mid.statuses} /status, "
        f"{mid.fills} fills, pushes telegram {mid.pushes_telegram} / slack {mid.pushes_slack}",
        f"  {'':22s}{'day ' + str(first.day):>12s}{'day ' + str(last.day):>12s}",
    ]
    for label, name, unit in (
        ("RSS", "rss_kb", "MB"),
        ("store (file + WAL)", "store_kb", "MB"),
        ("rows in pruned tables", "rows", ""),
        ("orders + attempts + fills", "kept_rows", ""),
        ("event-loop lag p99", "lag_p99_ms", "ms"),
        ("/status p50", "status_p50_ms", "ms"),
        ("/status p99", "status_p99_ms", "ms"),
        ("notify queue depth", "queue_depth", ""),
    ):
        a, b = getattr(first, name), getattr(last, name)
        if unit == "MB":
            a, b = a / 1024, b / 1024
        fmt = "{:>12,.1f}" if unit else "{:>12,.0f}"
        lines.append(f"  {label + (' ' + unit if unit else ''):22s}{fmt.format(a)}{fmt.format(b)}")
    slopes = ", ".join(f"{r.slope('rss_kb'):+.0f}" for r in runs)
    lines += [
        f"  RSS slope (least squares, days 2..{last.day}): median "
        f"{mid.slope('rss_kb'):+.0f} KB/day (runs: {slopes}); days {plateau}..{last.day} "
        f"{mid.slope('rss_kb', plateau):+.0f} KB/day  target ~0",
        f"  /status p50 slope {mid.slope('status_p50_ms'):+.3f} ms/day, p99 slope "
        f"{mid.slope('status_p99_ms'):+.3f} ms/day  target ~0",
        f"  store slope after day {plateau} {mid.slope('store_kb', plateau):+.0f} KB/day, "
        f"pruned rows {mid.slope('rows', plateau):+.0f}/day  target ~0 (bounded by retention; "
        f"orders and fills, kept forever, {mid.slope('kept_rows', plateau):+.0f} rows/day)",
        f"  retention deleted {sum(mid.deleted.values()):,} rows: "
        + ", ".join(f"{t} {n:,}" for t, n in mid.deleted.items()),
        f"  notify queue at the end {mid.final_queue}",
    ]
    return lines
