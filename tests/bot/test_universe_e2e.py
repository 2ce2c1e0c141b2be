"""Issue #13's market universe as a user meets it: the whole bot in this process (paper mode on
the fake Upbit's quotation API and WebSocket over loopback, Telegram faked) with
``bot.markets = "top:3"``. The fake's 24-hour values change so a held market leaves: the chat
is told, the position still exits by its own rules, and no new entry goes there, while the
market that joined is subscribed, warmed up and traded."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import App
from bot.cli import main
from bot.config import AppConfig, ConfigError, load_config
from bot.console import Console
from tests.bot.conftest import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upbit import FakeUpbit
from tests.fakes.upbit.candles import upbit_row
from trading import events as ev
from trading.positions import PositionState
from trading.upbit.feed import UpbitTradeFeed

CHAT, ADMIN = 100, 7
API_TOKEN = "universe-api-token-0123456789"
PRICES = {
    "KRW-BTC": D(100_000_000),
    "KRW-ETH": D(5_000_000),
    "KRW-XRP": D(3_000),
    "KRW-SOL": D(200_000),
    "KRW-DOGE": D(500),
}
BILLION = D(1_000_000_000)
# a strategy that wants in on every candle and out below 1,000 KRW: entries show where the
# bot may trade, and an exit signal is one print away
ALWAYS_IN = """
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from trading.strategies import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies import StrategyParams


class AlwaysInParams(StrategyParams):
    exit_below: float = Field(1000.0, ge=0.0, le=1e9, description="exit under this close")


class AlwaysIn(Strategy[AlwaysInParams]):
    name: ClassVar[str] = "always_in"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[AlwaysInParams]] = AlwaysInParams

    def warmup(self) -> int:
        return 2

    def signals(self, frame: CandleFrame) -> Signals:
        out = frame.close < self.params.exit_below
        return Signals(~out, out, entry_reason="always in", exit_reason="below the floor")
"""


def seed_candles(fake: FakeUpbit, market: str, end: datetime, count: int = 80) -> None:
    """``count`` one-second candles before ``end``, for the warm-up over REST."""
    price = PRICES[market]
    step = price / 1000
    rows = []
    for i in range(count, 0, -1):
        start = (end - timedelta(seconds=i)).replace(microsecond=0)
        close = price + step * (i % 3 - 1)
        rows.append(
            upbit_row(
                market, "seconds", start, close, close + step, close - step, close, D(1), close
            )
        )
    fake.set_candles(market, "seconds", rows[::-1])


def book(fake: FakeUpbit, market: str, price: D) -> None:
    fake.set_orderbook(
        market, asks=[(price + price / 1000, D(1000))], bids=[(price - price / 1000, D(1000))]
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit(markets=list(PRICES)) as upbit:
        now = datetime.now(UTC)
        for market, price in PRICES.items():
            seed_candles(upbit, market, now)
            book(upbit, market, price)
        for market, value in (("KRW-BTC", 9), ("KRW-ETH", 8), ("KRW-XRP", 7), ("KRW-SOL", 1)):
            upbit.set_trade_value_24h(market, BILLION * value)
        upbit.set_trade_value_24h("KRW-DOGE", BILLION * 50)  # the most traded, but warned
        upbit.set_market_warning("KRW-DOGE")
        yield upbit


def config(fake: FakeUpbit, tg: FakeTelegram, tmp_path: Path) -> AppConfig:
    strategy = tmp_path / "always_in.py"
    strategy.write_text(textwrap.dedent(ALWAYS_IN), encoding="utf-8")
    return AppConfig.model_validate(
        {
            "bot": {"mode": "paper", "feed": "upbit", "language": "en", "markets": "top:3"},
            "strategy": {"name": "always_in", "file": str(strategy), "timeframe": "1s"},
            "risk": {"position_size_krw": 100_000, "max_open_positions": 5},
            "upbit": {
                "rest_url": fake.rest_url,
                "ws_url": fake.ws_url,
                "ws_private_url": fake.ws_private_url,
            },
            "telegram": {
                "enabled": True,
                "base_url": tg.base_url,
                "allowed_chat_ids": [CHAT],
                "admin_ids": [ADMIN],
            },
            "secrets": {"telegram_bot_token": tg.token, "api_token": API_TOKEN},
            "notify": {"coalesce_s": 0.2, "stop_grace_s": 0},
            "http": {"host": "127.0.0.1", "port": free_port()},
            "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        }
    )


async def until(done: Callable[[], bool], within_s: float = 30.0) -> None:
    """Wait for ``done`` (a generous bound: the shared machine may be slow, never fast)."""
    for _ in range(int(within_s / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done within {within_s} s")


async def tape(fake: FakeUpbit, prices: dict[str, D]) -> None:
    """A trade print on every market several times a second (the fake sends each only to
    the connections subscribed to it), at ``prices`` as the test sets them."""
    while True:
        for market, price in list(prices.items()):
            await fake.trade(market, price, D("0.01"))
        await asyncio.sleep(0.2)


async def read_api_and_metrics(app: App) -> tuple[dict[str, Any], str]:
    """``/api/v1/status`` and ``/metrics`` of the running app, as an operator reads them."""
    base = f"http://127.0.0.1:{app.config.http.port}"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as http:
        status = await http.get("/api/v1/status")
        metrics = await http.get("/metrics")
    assert status.status_code == 200, status.text
    assert metrics.status_code == 200, metrics.text
    return status.json(), metrics.text


async def test_top_3_follows_the_24h_values_and_a_leaver_keeps_its_position_until_its_exit(
    fake: FakeUpbit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    seen: list[ev.Event] = []

    async def record(event: ev.Event) -> None:
        seen.append(event)

    prices = dict(PRICES)
    async with FakeTelegram() as tg:
        app = App(config(fake, tg, tmp_path), asyncio.Event())
        app.bus.subscribe_callback("test-record", record)
        printer = asyncio.get_running_loop().create_task(tape(fake, prices))
        try:
            # Arrange: the bot chose BTC, ETH, XRP (DOGE is warned) and holds all three
            await app.start()
            assert app.trader is not None
            assert app.trader.rig is not None
            assert app.universe_job is not None
            assert app.chatops is not None
            assert app.chatops.dispatcher is not None
            engine = app.trader.rig.engine
            state = engine.positions.get
            chosen = await tg.wait_for(
                lambda c: "Markets chosen · top 3" in (c.text or ""),
                timeout=30,
                method="sendMessage",
            )
            await until(lambda: all(state(m).state is PositionState.LONG for m in engine.universe))
            assert state("KRW-SOL").state is PositionState.FLAT

            # Act: SOL out-trades XRP; the scheduled refresh runs
            fake.set_trade_value_24h("KRW-XRP", BILLION / 2)
            fake.set_trade_value_24h("KRW-SOL", BILLION * 15 / 2)
            seed_candles(fake, "KRW-SOL", datetime.now(UTC))
            change = await app.universe_job.run()
            changed = await tg.wait_for(
                lambda c: "Markets changed" in (c.text or ""), timeout=30, method="sendMessage"
            )
            # the joiner is subscribed, warmed up and traded
            await until(lambda: state("KRW-SOL").state is PositionState.LONG)
            status = await Console(app.chatops.dispatcher, "en").line("/status") or ""
            api, metrics = await read_api_and_metrics(app)
            assert state("KRW-XRP").state is PositionState.LONG  # kept: still held
            # the leaver's position still exits by its own rules (stop or exit signal)
            prices["KRW-XRP"] = D(900)
            book(fake, "KRW-XRP", D(900))
            await until(lambda: state("KRW-XRP").state not in (PositionState.LONG,))
            await until(lambda: any(isinstance(e, ev.PositionClosed) for e in seen))
            # more candles on which the strategy wants in (the cooldown, then flat): no entry
            prices["KRW-XRP"] = D(3_000)
            book(fake, "KRW-XRP", D(3_000))
            await until(lambda: state("KRW-XRP").state is PositionState.FLAT)  # cooldown over
            await asyncio.sleep(2)
            await app.trader.rig.loop.drain()
            orders = await app.trader.facade.store.recent_orders(50, market="KRW-XRP")  # type: ignore[union-attr]
            # the next refresh (same values) drops the flat leaver's feed and candles
            unchanged = await app.universe_job.run()
            feed = app.trader.feed
            subscribed = feed.markets if isinstance(feed, UpbitTradeFeed) else ()
            tracked = engine.market_data.markets
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            await app.stop()

    # Assert: the announcements
    assert "KRW-BTC, KRW-ETH, KRW-XRP" in (chosen.text or "")
    text = changed.text or ""
    assert "KRW-SOL joins: #3 by 24-hour traded value (7,500,000,000 KRW)" in text
    assert "KRW-XRP leaves: now #4 by 24-hour traded value (500,000,000 KRW)" in text
    assert "KRW-XRP: the position is kept" in text
    assert change is not None
    assert (change.joined, change.left, change.held) == (("KRW-SOL",), ("KRW-XRP",), ("KRW-XRP",))
    assert engine.universe == ("KRW-BTC", "KRW-ETH", "KRW-SOL")
    # /status shows the universe and when it was refreshed
    assert "top 3 by 24-hour traded value: KRW-BTC, KRW-ETH, KRW-SOL" in status
    assert "held outside it, exits only: KRW-XRP" in status
    # the JSON API and /metrics show the same universe (issue #13)
    universe = api["universe"]
    assert (universe["chosen_by"], universe["top"]) == ("top", 3)
    assert universe["markets"] == ["KRW-BTC", "KRW-ETH", "KRW-SOL"]
    assert universe["held_outside"] == ["KRW-XRP"]
    assert universe["excluded"] == [{"market": "KRW-DOGE", "reason": "warning"}]
    assert universe["changes"] == 1
    assert universe["refreshed_at"] is not None
    assert "upbit_bot_universe_size 3.0" in metrics
    assert 'upbit_bot_universe_member{market="KRW-SOL"} 1.0' in metrics
    assert 'upbit_bot_universe_member{market="KRW-XRP"} 0.0' in metrics
    assert "upbit_bot_universe_changes_total 1.0" in metrics
    # the exit: the stop or the signal, never a manual one
    closed = [e for e in seen if isinstance(e, ev.PositionClosed) and e.market == "KRW-XRP"]
    assert len(closed) == 1
    assert closed[0].reason in ("stop", "signal"), closed[0].reason
    assert unchanged is None
    assert subscribed == tracked == ("KRW-BTC", "KRW-ETH", "KRW-SOL")
    # one buy (before it left) and one sell: no entry after it left
    assert sorted(o.side for o in orders) == ["ask", "bid"], orders
    left_at = next(e.at for e in seen if isinstance(e, ev.UniverseChanged) and not e.first)
    entries = [
        e
        for e in seen
        if isinstance(e, ev.SignalRaised) and e.market == "KRW-XRP" and e.action == "enter"
    ]
    assert all(e.at < left_at for e in entries)


async def test_top_n_needs_upbits_feed_and_n_within_bounds(tmp_path: Path) -> None:
    """A replay (the default ``make run``) trades the markets of its file: "top:N" there is
    refused at load, with the key and what to do."""
    path = tmp_path / "config.toml"
    path.write_text('[bot]\nmarkets = "top:3"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as replay:
        load_config(path, environ={})
    path.write_text('[bot]\nfeed = "upbit"\nmarkets = "top:51"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bounds:
        load_config(path, environ={})
    mixed: dict[str, Any] = {"bot": {"feed": "upbit", "markets": ["top:3", "KRW-BTC"]}}
    with pytest.raises(ValueError, match="stands alone"):
        AppConfig.model_validate(mixed)

    assert 'bot.markets = "top:3": needs bot.feed = "upbit"' in str(replay.value)
    assert "top:N takes N from 1 to 50" in str(bounds.value)
    top = load_config(
        None, environ={"UPBIT_BOT_BOT__MARKETS": "top:5", "UPBIT_BOT_BOT__FEED": "upbit"}
    )
    assert (top.bot.top_n, top.bot.fixed_markets) == (5, ())


def test_a_backtest_of_a_top_n_config_asks_for_its_markets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backtest replays the markets it is given: "top:N" is chosen live, so it says so."""
    path = tmp_path / "config.toml"
    path.write_text('[bot]\nfeed = "upbit"\nmarkets = "top:3"\n', encoding="utf-8")

    code = main(["backtest", "--config", str(path)])

    err = capsys.readouterr().err
    assert code == 2
    assert 'bot.markets = "top:3" is chosen live' in err
    assert "--market KRW-BTC" in err
