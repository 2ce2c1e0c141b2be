"""The whole bot in this process (paper mode, replay of the bundled data, HTTP on loopback):
``/metrics`` is scraped over real HTTP before and after an order fills."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal as D
from itertools import islice
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, bundled_replay_file
from bot.chatops import version
from bot.config import AppConfig
from bot.console import Console
from tests.bot.conftest import free_port
from tests.fakes.upbit import FakeUpbit

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
SECRETS = {
    "upbit_access_key": "AKtestaccess0123456789",
    "upbit_secret_key": "SKtestsecret0123456789",
    "api_token": "api-token-0123456789abcdef",
}


def parse(text: str) -> Samples:
    """Every sample by (name, sorted labels); parsing validates the exposition format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def replay_file(tmp_path: Path) -> Path:
    """Three hours of the bundled KRW-BTC minutes: enough history for the ATR stop."""
    path = tmp_path / "upbit_KRW-BTC_1m.csv"
    with bundled_replay_file().open() as source:
        path.write_text("".join(islice(source, 181)))
    return path


@pytest.fixture
async def app(
    tmp_path: Path, replay_file: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the console reads nothing
    config = AppConfig.model_validate(
        {
            "bot": {
                "mode": "paper",
                "feed": "replay",
                "replay_file": str(replay_file),
                "language": "en",
            },
            # a slow average longer than the file: the strategy never trades on its own
            "strategy": {"name": "ma_cross", "params": {"fast": 5, "slow": 500}},
            "http": {"host": "127.0.0.1", "port": free_port()},
            "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "secrets": SECRETS,
        }
    )
    app = App(config, asyncio.Event())
    try:
        await app.start()
        assert app.trader is not None
        await asyncio.wait_for(app.trader.feed_done.wait(), 30)
        yield app
    finally:
        await app.stop()


class Scraper:
    """GET /metrics over real HTTP; keeps every text it read for the leak check."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.texts: list[str] = []

    async def __call__(self) -> Samples:
        response = await self.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=")
        self.texts.append(response.text)
        return parse(response.text)

    async def until(self, done: Callable[[Samples], bool], within_s: float = 10.0) -> Samples:
        for _ in range(int(within_s / 0.1)):
            samples = await self()
            if done(samples):
                return samples
            await asyncio.sleep(0.1)
        raise AssertionError(f"metrics did not get there within {within_s}s")


async def test_metrics_move_when_an_order_fills(app: App) -> None:
    assert app.http is not None
    assert app.chatops is not None
    assert app.chatops.dispatcher is not None
    console = Console(app.chatops.dispatcher, "en")
    base = f"http://127.0.0.1:{app.http.port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        scrape = Scraper(http)
        before = await scrape()
        assert (
            get(before, "upbit_bot_info", version=version(), mode="paper", strategy="ma_cross")
            == 1
        )
        assert get(before, "upbit_bot_leader") == 1
        assert get(before, "upbit_bot_open_positions") == 0
        equity_before = get(before, "upbit_bot_equity_krw")
        assert equity_before > 0
        assert ("upbit_bot_loop_lag_seconds", ()) in before

        preview = await console.line("/buy KRW-BTC 100000")
        assert preview is not None
        assert "yes" in preview.lower() or "confirm" in preview.lower()
        assert await console.line("yes") is not None
        after = await scrape.until(
            lambda s: (
                get(s, "upbit_bot_open_positions") == 1
                and get(s, "upbit_bot_fills_total", market="KRW-BTC", side="bid") >= 1
            ),
        )

        fills = get(after, "upbit_bot_fills_total", market="KRW-BTC", side="bid")
        placed = get(
            after, "upbit_bot_orders_total", side="bid", ord_type="price", result="placed"
        )
        assert fills >= 1
        assert placed == 1
        assert (
            get(before, "upbit_bot_orders_total", side="bid", ord_type="price", result="placed")
            == 0
        )
        volume = get(after, "upbit_bot_fill_volume_krw_total", market="KRW-BTC", side="bid")
        assert 95_000 <= volume <= 100_000  # what the 100,000 KRW market buy bought
        assert get(after, "upbit_bot_equity_krw") != equity_before  # the buy paid its fee
        assert (
            get(after, "upbit_bot_commands_total", command="buy", outcome="confirm_pending") == 1
        )
        assert get(after, "upbit_bot_commands_total", command="buy", outcome="confirmed") == 1

        # selling closes the round trip: realized PnL and the win/loss counter move
        await console.line("/sell KRW-BTC")
        await console.line("yes")
        closed = await scrape.until(
            lambda s: (
                get(s, "upbit_bot_open_positions") == 0
                and get(s, "upbit_bot_trades_closed_total", result="win")
                + get(s, "upbit_bot_trades_closed_total", result="loss")
                == 1
            ),
        )
        assert get(closed, "upbit_bot_fills_total", market="KRW-BTC", side="ask") >= 1
        assert (
            get(closed, "upbit_bot_orders_total", side="ask", ord_type="market", result="placed")
            == 1
        )
        assert get(closed, "upbit_bot_realized_pnl_krw") != 0  # at least the fees
        assert get(closed, "upbit_bot_unrealized_pnl_krw") == 0

    # no secret, order id or uuid ever reaches a label
    assert app.trader is not None
    assert app.trader.facade is not None
    fills = await app.trader.facade.store.fills(limit=100)
    ids = {f.trade_uuid for f in fills} | {
        x for f in fills for x in (f.intent_id, f.order_uuid) if x
    }
    assert len(ids) >= 4
    leaked = [x for x in (*SECRETS.values(), *ids) if any(x in t for t in scrape.texts)]
    assert leaked == []


async def test_live_mode_series_from_the_fake_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live wiring: the REST client's samples, Upbit's rate-limit headroom, the three
    WebSocket streams, and a market buy filled by the fake exchange."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    async with FakeUpbit(keys={"m-access": "m-secret-0123456789"}) as fake:
        fake.set_balance("KRW", D("5000000"))
        fake.set_orderbook(
            "KRW-BTC",
            asks=[(D("100010000"), D("0.3")), (D("100020000"), D("1.0"))],
            bids=[(D("100000000"), D("0.4")), (D("99990000"), D("1.0"))],
        )
        config = AppConfig.model_validate(
            {
                "bot": {"mode": "live", "feed": "upbit", "language": "en"},
                "strategy": {"name": "ma_cross", "params": {"fast": 5, "slow": 500}},
                "upbit": {
                    "rest_url": fake.rest_url,
                    "ws_url": fake.ws_url,
                    "ws_private_url": fake.ws_private_url,
                    "order_poll_s": 0.5,
                },
                "http": {"host": "127.0.0.1", "port": free_port()},
                "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"},
                "secrets": {
                    "upbit_access_key": "m-access",
                    "upbit_secret_key": "m-secret-0123456789",
                },
            }
        )
        app = App(config, asyncio.Event())
        try:
            await app.start()
            assert app.http is not None
            assert app.chatops is not None
            assert app.chatops.dispatcher is not None
            base = f"http://127.0.0.1:{app.http.port}"
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                scrape = Scraper(http)
                up = await scrape.until(
                    lambda s: all(
                        get(s, "upbit_bot_ws_connected", stream=name) == 1
                        for name in ("trades", "orderbook", "private")
                    )
                )
                await fake.trade("KRW-BTC", D("100005000"), D("0.01"))
                assert (
                    get(up, "upbit_bot_info", version=version(), mode="live", strategy="ma_cross")
                    == 1
                )
                accounts = get(
                    up,
                    "upbit_bot_rest_requests_total",
                    endpoint="/v1/accounts",
                    method="GET",
                    status="200",
                )
                assert accounts >= 1
                assert get(up, "upbit_bot_rate_limit_remaining", group="default") > 0
                assert get(up, "upbit_bot_rate_limit_remaining", group="market") >= 0
                assert ("upbit_bot_rate_limit_remaining", (("group", "default"),)) in up
                assert get(up, "upbit_bot_circuit_state") == 0
                assert get(up, "upbit_bot_equity_krw") == 5_000_000
                age = [v for (n, _), v in up.items() if n == "upbit_bot_ws_message_age_seconds"]
                assert len(age) == 3
                assert all(0 <= a < 30 for a in age)

                console = Console(app.chatops.dispatcher, "en")
                await console.line("/buy KRW-BTC 100000")
                await console.line("yes")
                after = await scrape.until(
                    lambda s: (
                        get(s, "upbit_bot_fills_total", market="KRW-BTC", side="bid") >= 1
                        and get(s, "upbit_bot_open_positions") == 1
                    )
                )
                posted = get(
                    after,
                    "upbit_bot_rest_request_seconds_count",
                    endpoint="/v1/orders",
                    method="POST",
                )
                assert posted == 1
                assert (
                    get(
                        after,
                        "upbit_bot_rest_requests_total",
                        endpoint="/v1/orders",
                        method="POST",
                        status="201",
                    )
                    == 1
                )
                assert (
                    get(
                        after,
                        "upbit_bot_orders_total",
                        side="bid",
                        ord_type="price",
                        result="placed",
                    )
                    == 1
                )
                assert get(after, "upbit_bot_equity_krw") < 5_000_000  # the fee was paid
        finally:
            await app.stop()
