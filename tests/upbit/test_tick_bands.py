"""Every KRW tick band boundary of the table in force since 2025-07-31 (reference §9.1).

The table is written out in ``tests/tick_table.py``, independently of the code's
``KRW_TICKS``: a test that read the code's own table could not catch a wrong row. Each
boundary is checked on
both sides, rounding up and down, with a price that rounds across it, and then at the user's
level: the real client loads the ticks at start (``refresh_ticks``, as ``bot/app.py`` does),
the coin's price crosses the boundary, and a limit order priced by the client's rules must be
accepted by the fake Upbit, which checks the grid of the band the price is in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_UP
from decimal import Decimal as D

import pytest

from tests.fakes.upbit import FakeUpbit
from tests.tick_table import BOUNDARIES, Boundary
from trading.domain.rules import Rounding
from trading.errors import InvalidPrice
from trading.upbit.auth import Credentials
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy

RULES = UpbitMarketRules()


def check_band_rules(rules: UpbitMarketRules, market: str, b: Boundary) -> list[str]:
    """What ``rules`` get wrong about ``b``, as readable lines (empty: all right)."""
    wrong: list[str] = []

    def expect(what: str, got: object, want: object) -> None:
        if got != want:
            wrong.append(f"{market} at boundary {b}: {what} = {got}, want {want}")

    under, over = b.price - b.below, b.price + b.above
    expect("tick just below", rules.tick_size(market, under), b.below)
    expect("tick at the boundary", rules.tick_size(market, b.price), b.above)
    expect("tick just above", rules.tick_size(market, over), b.above)
    expect("on grid below", rules.is_on_grid(market, under), True)
    expect("on grid at", rules.is_on_grid(market, b.price), True)
    expect("on grid above", rules.is_on_grid(market, over), True)
    if b.below < b.above:  # a step of the lower grid is off the upper one
        expect("lower step above", rules.is_on_grid(market, b.price + b.below), False)
    half_below, half_above = b.price - b.below / 2, b.price + b.above / 2
    rnd = rules.round_price
    expect("down below", rnd(market, half_below, Rounding.DOWN), under)
    expect("up across, from below", rnd(market, half_below, Rounding.UP), b.price)
    expect("down across, from above", rnd(market, half_above, Rounding.DOWN), b.price)
    expect("up above", rnd(market, half_above, Rounding.UP), over)
    expect("nearest across", rnd(market, b.price - b.below * D("0.4"), Rounding.NEAREST), b.price)
    expect("down two steps in", rnd(market, over + b.above / 2, Rounding.DOWN), over)
    expect("up two steps in", rnd(market, under - b.below / 2, Rounding.UP), under)
    return wrong


@pytest.mark.parametrize("b", BOUNDARIES, ids=str)
def test_the_table_at_every_boundary(b: Boundary) -> None:
    assert check_band_rules(RULES, "KRW-BTC", b) == []


def market_of(i: int) -> str:
    return f"KRW-B{i:02d}"


MARKETS = [market_of(i) for i in range(len(BOUNDARIES))]


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit(markets=MARKETS, rate_limits={"order": 1000, "orderbook": 1000}) as srv:
        srv.set_balance("KRW", D(100_000_000))
        yield srv


@pytest.fixture
async def client(fake: FakeUpbit) -> AsyncIterator[UpbitRestClient]:
    rest = UpbitRestClient(
        fake.rest_url,
        credentials=Credentials("test-access", "test-secret"),
        timeout_s=2.0,
        retry=RetryPolicy(max_retries=2, base_s=0.01, max_s=0.05),
    )
    async with rest:
        yield rest


async def quote_at(fake: FakeUpbit, market: str, price: D, tick: D) -> None:
    """The coin trades at ``price``: a print there, best bid there, best ask one tick up."""
    await fake.trade(market, price, D(1))
    fake.set_orderbook(market, asks=[(price + tick, D(10**9))], bids=[(price, D(10**9))])


def volume_for(price: D) -> D:
    """A little over Upbit's 5,000 KRW minimum at ``price``."""
    return (D(6000) / price).quantize(D("0.00000001"), ROUND_UP)


@pytest.mark.parametrize("start", ["below", "above"])
async def test_a_coin_that_crossed_a_band_since_start_is_priced_on_its_new_grid(
    fake: FakeUpbit, client: UpbitRestClient, start: str
) -> None:
    for i, b in enumerate(BOUNDARIES):
        if start == "below":
            await quote_at(fake, market_of(i), b.price - b.below, b.below)
        else:
            await quote_at(fake, market_of(i), b.price, b.above)
    rules = await client.refresh_ticks(MARKETS)  # what the bot does at start

    wrong: list[str] = []
    for i, b in enumerate(BOUNDARIES):
        wrong += check_band_rules(client.rules, market_of(i), b)
    assert rules is client.rules

    # the prices move across their boundaries; the client builds a limit buy with its rules
    refused: list[str] = []
    for i, b in enumerate(BOUNDARIES):
        market = market_of(i)
        if start == "below":
            now, tick = b.price + b.above, b.above
            wanted = b.price + b.above + b.above / 2  # rounds down onto the upper grid
        else:
            now, tick = b.price - 2 * b.below, b.below
            wanted = b.price - b.below - b.below / 2  # rounds down onto the lower grid
        await quote_at(fake, market, now, tick)
        price = client.rules.round_price(market, wanted, Rounding.DOWN)
        body = client.order_body(
            market=market,
            side="bid",
            ord_type="limit",
            identifier=f"band-{start}-{i}",
            price=price,
            volume=volume_for(price),
        )
        try:
            await client.create_order(body)
        except Exception as exc:  # collected: one readable assertion for all markets
            refused.append(f"{market} ({b}): {price:f} refused: {exc}")
    assert refused == []
    assert wrong == []


async def test_an_instruments_answer_that_disagrees_is_logged_and_kept_to_its_band(
    fake: FakeUpbit, client: UpbitRestClient, caplog: pytest.LogCaptureFixture
) -> None:
    coarse, fine, agrees = market_of(0), market_of(1), market_of(2)
    for market in (coarse, fine, agrees):
        await quote_at(fake, market, D(1400), D(1))
    fake.set_tick_exception(coarse, D(1000), D(5000), D(10))  # Upbit: 10, table: 1
    fake.set_tick_exception(fine, D(1000), D(5000), D("0.5"))  # Upbit: 0.5, table: 1

    with caplog.at_level("WARNING", logger="trading.upbit.rest"):
        rules = await client.refresh_ticks([coarse, fine, agrees])

    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2
    assert f"{coarse}: Upbit's tick at 1,400 is 10, the table says 1" in logged[0]
    assert f"{fine}: Upbit's tick at 1,400 is 0.5, the table says 1" in logged[1]
    # the coarser answer holds in its band only; a finer one keeps the table's grid
    assert [rules.tick_size(coarse, D(p)) for p in (999, 1000, 4999, 5000)] == [1, 10, 10, 5]
    assert rules.tick_size(fine, D(1400)) == 1
    assert rules.tick_size(agrees, D(1400)) == 1

    async def buy(market: str, price: D, n: int) -> None:
        await client.create_order(
            client.order_body(
                market=market,
                side="bid",
                ord_type="limit",
                identifier=f"exc-{n}",
                price=price,
                volume=volume_for(price),
            )
        )

    await buy(coarse, rules.round_price(coarse, D(1404), Rounding.DOWN), 1)  # 1,400
    await buy(fine, rules.round_price(fine, D("1401.7"), Rounding.DOWN), 2)  # 1,401
    with pytest.raises(InvalidPrice):  # what the table alone would have sent
        await buy(coarse, RULES.round_price(coarse, D(1404), Rounding.DOWN), 3)
    placed = [fake.order_by_identifier(f"exc-{n}") for n in (1, 2, 3)]
    assert [o.price if o else None for o in placed] == [D(1400), D(1401), None]
