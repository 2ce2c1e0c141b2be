"""The live engine against the fake Upbit after a coin crossed a tick band since start.

KRW-XRP trades at 99,900 KRW (tick 50) when the bot starts and loads its ticks; then it rises
to 100,200 (tick 100). A buy whose expected fill is over the slippage limit becomes a limit
IOC at the worst acceptable price (``slippage_mode = "limit"``). That price must be on the
100 KRW grid, or Upbit refuses it (``invalid_price_bid``) and the entry never happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from tests.engine.conftest import limits
from tests.fakes.upbit import FakeUpbit
from trading.domain import TradePrint
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.events import OrderPlaced, OrderRejected
from trading.risk.decision import Approved
from trading.strategies import build_strategy
from trading.upbit.auth import Credentials
from trading.upbit.mapping import book_snapshot
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

MARKET = "KRW-XRP"


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[FakeUpbit, UpbitRestClient]]:
    async with FakeUpbit(rate_limits={"order": 1000, "default": 1000}) as fake:
        fake.set_balance("KRW", D(10_000_000))
        client = UpbitRestClient(
            fake.rest_url,
            credentials=Credentials("test-access", "test-secret"),
            timeout_s=2.0,
            retry=RetryPolicy(max_retries=3, base_s=0.01, max_s=0.05),
        )
        async with client:
            yield fake, client


async def live_rig(client: UpbitRestClient, store, events) -> EngineRig:
    return await assemble(
        EngineSpec(markets=(MARKET,), timeframe="1m", paper=False, order_settle_s=0.05),
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(slippage_mode="limit", max_slippage_bps=25),
        store=store,
        sink=events.append,
        live_exchange=client,
        circuit=client.circuit,
        rules=UpbitMarketRules(),
    )


async def test_a_limit_buy_after_a_band_crossing_is_accepted(exchange, store, events):
    fake, client = exchange
    await fake.trade(MARKET, D(99_900), D(1))
    fake.set_orderbook(MARKET, asks=[(D(99_950), D(1000))], bids=[(D(99_900), D(1000))])
    await client.refresh_ticks([MARKET])  # start-up, as bot/app.py does, at 99,900 KRW
    rig = await live_rig(client, store, events)

    # the coin rises over 100,000 KRW; the book is thin at the top
    await fake.trade(MARKET, D(100_200), D(1))
    fake.set_orderbook(
        MARKET,
        asks=[(D(100_300), D("0.5")), (D(100_900), D(1000))],
        bids=[(D(100_200), D(1000))],
    )
    rig.engine.market_data.set_orderbook(
        MARKET, book_snapshot((await client.orderbook([MARKET]))[0])
    )
    rig.loop.start()
    rig.loop.put_print(TradePrint(MARKET, D(100_200), D(1), datetime.now(UTC)))
    await rig.loop.drain()

    decision = await rig.engine.enter_now(MARKET, D(1_000_000), "manual buy")
    await rig.loop.stop()

    # 100,200 * 1.0025 = 100,450.5: on the 100 KRW grid that is 100,400, never 100,450
    assert isinstance(decision, Approved)
    assert decision.limit_price == D(100_400)
    assert [e.name for e in events if isinstance(e, OrderRejected)] == []
    (placed,) = [e for e in events if isinstance(e, OrderPlaced)]
    sent = fake.order_by_identifier(placed.identifier)
    assert sent is not None
    assert (sent.ord_type, sent.price, sent.time_in_force) == ("limit", D(100_400), "ioc")
