"""The console/log line of the events an operator reads there."""

from __future__ import annotations

from bot.event_log import describe
from trading import events as ev


def test_a_finished_research_job_is_one_readable_line() -> None:
    event = ev.ResearchFinished(
        job="backtest",
        by="console:console",
        transport="console",
        chat_id="console",
        ok=True,
        title="Backtest · ma_cross · KRW-BTC",
        lines=("840 candles, 1m",),
        fields=(("trades", "7"), ("return", "-0.42%")),
        chart_png="aGVsbG8=",
    )
    assert describe(event) == (
        "Backtest · ma_cross · KRW-BTC | 840 candles, 1m | trades 7; return -0.42%"
    )


def test_an_order_of_unknown_outcome_names_the_order() -> None:
    event = ev.OrderUncertain(
        intent_id="i1", market="KRW-BTC", side="bid", ord_type="price", reason="timeout"
    )
    assert describe(event) == "KRW-BTC: order i1 outcome unknown: timeout"
