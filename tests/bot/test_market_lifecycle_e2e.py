"""Issue #11.6 as a user meets it: the whole bot in this process (paper mode on the fake
Upbit's live quotation API over loopback, the console as the chat) reads Upbit's warning
designation (유의종목) and delisting schedule and acts on them."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal as D
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, bundled_replay_file
from bot.config import AppConfig
from bot.console import Console
from tests.bot.conftest import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upbit import FakeUpbit

MARKETS = ("KRW-BTC", "KRW-ETH")
CHAT, ADMIN = 100, 7


def config(
    fake: FakeUpbit, tmp_path: Path, *, extra: dict[str, Any] | None = None, **risk: Any
) -> AppConfig:
    data: dict[str, Any] = {
        "bot": {"mode": "paper", "feed": "upbit", "language": "en", "markets": MARKETS},
        # a slow average no data here reaches: the strategy never trades on its own
        "strategy": {"name": "ma_cross", "params": {"fast": 5, "slow": 500}},
        "risk": {"position_size_krw": 100_000, **risk},
        "upbit": {
            "rest_url": fake.rest_url,
            "ws_url": fake.ws_url,
            "ws_private_url": fake.ws_private_url,
            "market_status_poll_s": 1,
        },
        "http": {"host": "127.0.0.1", "port": free_port()},
        "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
    }
    for section, values in (extra or {}).items():
        data[section] = data.get(section, {}) | values
    return AppConfig.model_validate(data)


async def until(done: Callable[[], bool], within_s: float = 20.0) -> None:
    """Wait for ``done`` (a generous bound: the shared machine may be slow, never fast)."""
    for _ in range(int(within_s / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done within {within_s} s")


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit(markets=[*MARKETS, "KRW-XRP"]) as upbit:
        for market, price in (("KRW-BTC", D(100_000_000)), ("KRW-ETH", D(5_000_000))):
            upbit.set_orderbook(
                market,
                asks=[(price + price / 1000, D(100))],
                bids=[(price - price / 1000, D(100))],
            )
        yield upbit


async def running(app: App, fake: FakeUpbit) -> Console:
    """Start the bot and give every market a print, so a ``/buy`` has a price."""
    await app.start()
    assert app.trader is not None
    assert app.trader.rig is not None
    assert app.chatops is not None
    assert app.chatops.dispatcher is not None
    md = app.trader.rig.engine.market_data
    for market, price in (("KRW-BTC", D(100_000_000)), ("KRW-ETH", D(5_000_000))):
        await until(lambda: app.trader is not None and app.trader.feed is not None)
        await asyncio.sleep(0)
        for _ in range(200):  # until the trade stream is subscribed on the fake's side
            await fake.trade(market, price, D("0.01"))
            if md.price(market) is not None:
                break
            await asyncio.sleep(0.1)
        assert md.price(market) is not None
    return Console(app.chatops.dispatcher, "en")


async def buy(console: Console, text: str) -> str:
    """``/buy``, confirmed if the bot asks: the text the user finally reads."""
    reply = await console.line(text)
    assert reply is not None
    if "yes" in reply.lower() and console.dispatcher.latest_pending(console.who) is not None:
        reply = await console.line("yes")
        assert reply is not None
    return reply


async def test_no_buy_into_a_market_under_an_upbit_warning(
    fake: FakeUpbit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    fake.set_market_warning("KRW-ETH")
    app = App(config(fake, tmp_path), asyncio.Event())
    try:
        console = await running(app, fake)
        refused = await buy(console, "/buy KRW-ETH 100000")
        risk = await console.line("/risk")
        flagged = {
            (m, f): app.metrics.registry.get_sample_value(
                "upbit_bot_market_flagged", {"market": m, "flag": f}
            )
            for m in MARKETS
            for f in ("warning", "delisting")
        }
        assert app.trader is not None
        assert app.trader.facade is not None
        orders = await app.trader.facade.store.recent_orders(10)
    finally:
        await app.stop()
    assert "investment warning" in refused, refused
    assert orders == []
    assert flagged == {
        ("KRW-BTC", "warning"): 0,
        ("KRW-BTC", "delisting"): 0,
        ("KRW-ETH", "warning"): 1,
        ("KRW-ETH", "delisting"): 0,
    }
    assert risk is not None
    assert "KRW-ETH" in risk


async def test_a_held_market_flagged_on_upbit_is_pushed_to_chat_and_sold_in_time(
    fake: FakeUpbit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule (``upbit.market_status_poll_s``) reads the flags while the bot runs: the
    warning and then the delisting date of a held market reach the chat, and with
    ``risk.exit_before_delisting_days`` the bot sells it through its usual exit."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    async with FakeTelegram() as tg:
        chat = {
            "telegram": {
                "enabled": True,
                "base_url": tg.base_url,
                "allowed_chat_ids": [CHAT],
                "admin_ids": [ADMIN],
            },
            "secrets": {"telegram_bot_token": tg.token},
            # push each alert as it comes; do not wait on the shutdown message at the end
            "notify": {"coalesce_s": 0.2, "stop_grace_s": 0},
        }
        app = App(
            config(fake, tmp_path, extra=chat, exit_before_delisting_days=3), asyncio.Event()
        )
        try:
            console = await running(app, fake)
            assert app.trader is not None
            assert app.trader.rig is not None
            engine = app.trader.rig.engine
            held = engine.positions.get
            await tg.wait_for(method="sendMessage", chat_id=CHAT, timeout=20)  # "Bot started"
            assert "sent" in await buy(console, "/buy KRW-BTC 100000")
            await until(lambda: held("KRW-BTC").state.value == "long")

            fake.set_market_warning("KRW-BTC")
            warned = await tg.wait_for(
                lambda c: "Upbit flags a market you hold · KRW-BTC" in (c.text or ""),
                timeout=20,
                method="sendMessage",
            )
            seoul = datetime.now(ZoneInfo("Asia/Seoul")).date()
            fake.set_market_state("KRW-BTC", delisting_date=seoul + timedelta(days=1))
            dated = await tg.wait_for(
                lambda c: "Upbit delists KRW-BTC on" in (c.text or ""),
                timeout=20,
                method="sendMessage",
            )
            await until(lambda: held("KRW-BTC").state.value not in ("long", "exiting"))
            stats = ""
            for _ in range(200):  # the sell's fill is stored right after the position moves
                stats = await console.line("/stats") or ""
                if "before a delisting" in stats:
                    break
                await asyncio.sleep(0.1)
        finally:
            await app.stop()
    assert "investment warning (유의종목)" in (warned.text or "")
    assert "The bot sells the position on" in (dated.text or "")
    assert "before a delisting" in stats


async def test_a_replay_in_paper_mode_runs_without_upbit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No quotation API, no watch: the replay trades as a backtest does, /risk says none."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    replay = tmp_path / "upbit_KRW-BTC_1m.csv"
    with bundled_replay_file().open() as source:
        replay.write_text("".join(islice(source, 121)))
    cfg = AppConfig.model_validate(
        {
            "bot": {"mode": "paper", "feed": "replay", "replay_file": str(replay)},
            "upbit": {"rest_url": "http://127.0.0.1:9"},  # nothing listens: never asked
            "http": {"host": "127.0.0.1", "port": free_port()},
            "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        }
    )
    app = App(cfg, asyncio.Event())
    try:
        await app.start()
        assert app.trader is not None
        await asyncio.wait_for(app.trader.feed_done.wait(), 30)
        assert app.chatops is not None
        assert app.chatops.dispatcher is not None
        risk = await Console(app.chatops.dispatcher, "en").line("/risk")
        watch, rest = app.trader.watch, app.rest
    finally:
        await app.stop()
    assert watch is None
    assert rest is None
    assert risk is not None
    assert "No market being delisted" in risk
