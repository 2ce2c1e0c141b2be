"""Dust is no open position; its count and KRW value are their own gauges (issue #11.2)."""

from __future__ import annotations

from decimal import Decimal as D

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from tests.engine.conftest import limits
from tests.handlers.conftest import OPERATOR
from tests.handlers.instance import DAY1, Instance, minutes
from trading.store import Store


async def test_dust_is_counted_apart_from_open_positions(store: Store) -> None:
    bot = await Instance.start(store, limits(max_open_positions=1))
    try:
        await bot.trade(100_000_000, DAY1)
        await bot.confirm(OPERATOR, "/buy btc 1000000")
        await bot.confirm(OPERATOR, "/sell btc 99")  # ~10,000 KRW left
        await bot.trade(40_000_000, DAY1 + minutes(1))  # now worth ~4,000 KRW: dust
        dust = bot.rig.engine.positions.get("KRW-BTC").dust
        assert dust

        metrics = Metrics(version="t", mode="paper", strategy="ma_cross", cache_s=0.0)
        metrics.sources.facade = bot.api
        values = {
            s.name: s.value
            for family in text_string_to_metric_families((await metrics.scrape()).decode())
            for s in family.samples
        }
    finally:
        await bot.stop()
    assert values["upbit_bot_open_positions"] == 0
    assert values["upbit_bot_dust_holdings"] == 1
    assert values["upbit_bot_dust_krw"] == float(dust * D(40_000_000))
