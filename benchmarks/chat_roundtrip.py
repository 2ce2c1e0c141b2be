"""Command round trip through the fake Telegram: update in -> reply out, 10,000 trades stored.

The real bot stack: python-telegram-bot polling the fake Bot API, the dispatcher, the engine
facade on a SQLite store seeded with 10,000 fills (so /pnl and /trades read real volumes).
The time runs from the moment the fake queues the user's update to the moment it receives the
reply (one monotonic clock, one process). The fake's flood limits are off: this measures the
bot, not Telegram's pacing.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.telegram.transport import TelegramTransport
from handlers.auth import Authorizer, Policy
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.ratelimit import RateLimits
from trading.domain.orders import Side
from trading.engine.build import EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

CHAT, ADMIN = 100, 7
COMMANDS = ("/status", "/pnl day 7", "/trades 10", "/balance", "/positions")


async def _seed(store: Store, fills: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(fills):
        side = Side.BUY if n % 2 == 0 else Side.SELL
        price = Decimal(100_000_000 + (n % 50) * 10_000)
        volume = Decimal("0.001")
        await store.record_fill(
            trade_uuid=f"seed-{n}",
            market="KRW-BTC",
            side=side,
            price=price,
            volume=volume,
            funds=price * volume,
            fee=price * volume * Decimal("0.0005"),
            created_at=start + timedelta(minutes=n),
        )


async def _run(rounds: int, fills: int, workdir: Path) -> list[float]:
    url = f"sqlite+aiosqlite:///{workdir / 'chat.db'}"
    await upgrade(url)
    db = create_engine(url)
    store = Store(session_factory(db))
    await _seed(store, fills)
    rig = await assemble(
        EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=True),
        strategy=build_strategy("ma_cross", "", {}),
        limits=RiskLimits(),
        store=store,
        sink=lambda _event: None,
        rules=UpbitMarketRules(),
    )
    api = EngineFacade(rig.engine, store, sink=lambda _event: None, mode="paper")
    auth = Authorizer({"telegram": Policy.of(chats=[CHAT], admins=[ADMIN])})
    dispatcher = Dispatcher(build_registry(), api, auth, store, language="en")
    latencies: list[float] = []
    async with FakeTelegram(rate_limits=RateLimits(enabled=False)) as tg:
        transport = TelegramTransport(
            token=tg.token, dispatcher=dispatcher, base_url=tg.base_url, poll_timeout_s=1
        )
        await transport.start()
        for n in range(rounds + 10):
            seen = len(tg.sent)
            start = time.monotonic()
            tg.user_sends(CHAT, ADMIN, COMMANDS[n % len(COMMANDS)])
            reply = await tg.wait_for(lambda c, seen=seen: tg.sent.index(c) >= seen, timeout=10)
            if n >= 10:  # warm-up: first imports, connections
                latencies.append((reply.at - start) * 1000)
        await transport.stop()
    await db.dispose()
    return latencies


def run_once(rounds: int, fills: int = 10_000) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(rounds, fills, Path(tmp)))


def summary(runs: list[list[float]]) -> dict[str, float]:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50_ms": statistics.median(pct(r, 0.5) for r in runs),
        "p99_ms": statistics.median(pct(r, 0.99) for r in runs),
    }
