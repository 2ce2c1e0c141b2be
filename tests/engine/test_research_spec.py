"""Chat's /backtest and /optimize start from the bot's ``[paper]`` account, live or paper, by
the CLI's recipe (issue #14: a live bot used a hard-coded 10,000,000 KRW and 5 bps)."""

from __future__ import annotations

from decimal import Decimal as D

from tests.engine.conftest import limits
from tests.fakes.upbit import FakeUpbit
from trading.engine.build import EngineSpec, assemble
from trading.engine.research import spec_fields
from trading.strategies import build_strategy
from trading.upbit.auth import Credentials
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.rest import UpbitRestClient


async def test_a_live_bot_backtests_from_its_paper_settings_not_hard_coded_ones(store) -> None:
    async with (
        FakeUpbit() as fake,
        UpbitRestClient(
            fake.rest_url, credentials=Credentials("test-access", "test-secret")
        ) as client,
    ):
        rig = await assemble(
            EngineSpec(
                markets=("KRW-BTC",),
                timeframe="1m",
                paper=False,
                paper_start_krw=D(3_000_000),
                paper_slippage_bps=D(12),
                cooldown_candles=2,
            ),
            strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
            limits=limits(),
            store=store,
            sink=lambda _: None,
            live_exchange=client,
            rules=UpbitMarketRules(),
        )
        fields = spec_fields(rig.engine)

    assert (fields["start_krw"], fields["slippage_bps"]) == (D(3_000_000), D(12))
    assert fields["fee_rate"] == rig.engine.limits.fee_rate  # live: the exchange's fee
    assert fields["cooldown_candles"] == 2
    assert (fields["slippage_check"], fields["same_candle_reentry"]) == (True, False)


async def test_by_default_the_spec_is_what_it_was(store) -> None:
    rig = await assemble(
        EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=True),
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(),
        store=store,
        sink=lambda _: None,
        rules=UpbitMarketRules(),
    )
    fields = spec_fields(rig.engine)

    assert (fields["start_krw"], fields["fee_rate"], fields["slippage_bps"]) == (
        D(10_000_000),
        D("0.0005"),
        D(5),
    )
