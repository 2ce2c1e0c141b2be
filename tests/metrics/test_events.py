"""Each event and hook moves exactly the series it should; outside input cannot add series."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import EVENT_KINDS, BoundedLabel, Metrics, endpoint_template
from tests.metrics.conftest import value
from trading.bus import EventBus
from trading.domain.orders import OrderType, Side
from trading.events import (
    CandleClosed,
    CircuitStateChanged,
    OrderBecameUncertain,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    PositionClosed,
    RiskBreached,
)
from trading.store import Store, create_engine, session_factory
from trading.upbit.rest import RequestSample


def placed(intent: str, side: str = "bid", ord_type: str = "price") -> OrderPlaced:
    return OrderPlaced(
        intent_id=intent,
        identifier=f"ubot-{intent}-1",
        uuid=f"uuid-{intent}",
        market="KRW-BTC",
        side="bid" if side == "bid" else "ask",
        ord_type=ord_type,
        price=D(100_000),
        volume=None,
        paper=True,
    )


def filled(side: str, price: str, volume: str) -> OrderFilled:
    return OrderFilled(
        intent_id="i1",
        identifier="ubot-i1-1",
        market="KRW-BTC",
        side="bid" if side == "bid" else "ask",
        price=D(price),
        volume=D(volume),
        fee=D(0),
        trade_uuid="t1",
        complete=True,
        paper=True,
    )


def closed(pnl: str) -> PositionClosed:
    return PositionClosed(
        market="KRW-BTC",
        volume=D("0.001"),
        entry_price=D(100_000_000),
        exit_price=D(100_000_000),
        pnl_krw=D(pnl),
        fees_krw=D(100),
        reason="signal",
    )


async def test_orders_fills_and_closed_trades(metrics: Metrics) -> None:
    await metrics.on_event(placed("i1"))
    await metrics.on_event(placed("i2", "ask", "market"))
    await metrics.on_event(filled("bid", "100000000", "0.001"))
    await metrics.on_event(filled("bid", "100000000", "0.002"))
    await metrics.on_event(filled("ask", "101000000", "0.003"))
    await metrics.on_event(closed("1500"))
    await metrics.on_event(closed("-20"))
    await metrics.on_event(closed("0"))  # break-even after fees is not a win

    orders = "upbit_bot_orders_total"
    assert value(metrics, orders, side="bid", ord_type="price", result="placed") == 1
    assert value(metrics, orders, side="ask", ord_type="market", result="placed") == 1
    assert value(metrics, "upbit_bot_fills_total", market="KRW-BTC", side="bid") == 2
    assert value(metrics, "upbit_bot_fills_total", market="KRW-BTC", side="ask") == 1
    krw = "upbit_bot_fill_volume_krw_total"
    assert value(metrics, krw, market="KRW-BTC", side="bid") == 300_000
    assert value(metrics, krw, market="KRW-BTC", side="ask") == 303_000
    assert value(metrics, "upbit_bot_trades_closed_total", result="win") == 1
    assert value(metrics, "upbit_bot_trades_closed_total", result="loss") == 2


async def test_an_order_of_unknown_outcome_is_counted_as_unknown(metrics: Metrics) -> None:
    uncertain = OrderBecameUncertain(
        intent_id="i9", market="KRW-BTC", side="ask", ord_type="market", reason="timeout"
    )
    await metrics.on_event(uncertain)
    orders = "upbit_bot_orders_total"
    assert value(metrics, orders, side="ask", ord_type="market", result="unknown") == 1
    assert value(metrics, orders, side="ask", ord_type="market", result="placed") == 0


async def test_cancel_and_rejections_are_labelled_from_the_store(
    metrics: Metrics, store: Store
) -> None:
    metrics.sources.store = store
    # rejected by Upbit: the journal's attempt says "rejected"
    await store.record_intent(
        intent_id="rej1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        identifier="ubot-rej1-1",
    )
    await store.mark_attempt("ubot-rej1-1", "rejected", "insufficient funds")
    # lost to transient errors: every attempt confirmed absent
    await store.record_intent(
        intent_id="fail1",
        market="KRW-BTC",
        side=Side.SELL,
        type=OrderType.MARKET,
        identifier="ubot-fail1-1",
    )
    await store.mark_attempt("ubot-fail1-1", "confirmed_absent", "timeout")
    # refused before sending (circuit open): our refusal, a rejection
    await store.record_intent(
        intent_id="ns1",
        market="KRW-BTC",
        side=Side.BUY,
        type=OrderType.MARKET,
        identifier="ubot-ns1-1",
    )
    await store.mark_attempt("ubot-ns1-1", "not_sent", "circuit open")

    await metrics.on_event(
        OrderRejected(
            intent_id="rej1", market="KRW-BTC", name="insufficient_funds_bid", reason="no"
        )
    )
    await metrics.on_event(
        OrderRejected(intent_id="fail1", market="KRW-BTC", name="timeout", reason="lost")
    )
    await metrics.on_event(
        OrderRejected(intent_id="ns1", market="KRW-BTC", name="circuit_open", reason="open")
    )
    await metrics.on_event(placed("c1", "bid", "limit"))
    await metrics.on_event(
        OrderCancelled(intent_id="c1", identifier="ubot-c1-1", market="KRW-BTC", reason="x")
    )

    orders = "upbit_bot_orders_total"
    assert value(metrics, orders, side="bid", ord_type="limit", result="rejected") == 1
    assert value(metrics, orders, side="ask", ord_type="market", result="failed") == 1
    assert value(metrics, orders, side="bid", ord_type="price", result="rejected") == 1
    assert value(metrics, orders, side="bid", ord_type="limit", result="cancelled") == 1
    reasons = "upbit_bot_order_rejections_total"
    assert value(metrics, reasons, reason="insufficient_funds_bid", market="KRW-BTC") == 1
    assert value(metrics, reasons, reason="circuit_open", market="KRW-BTC") == 1
    assert value(metrics, reasons, reason="timeout", market="KRW-BTC") == 0  # not a refusal


async def test_risk_circuit_leader_and_info(metrics: Metrics) -> None:
    await metrics.on_event(RiskBreached(check="daily_loss", market=None, reason="limit"))
    await metrics.on_event(RiskBreached(check="daily_loss", market=None, reason="limit"))
    await metrics.on_event(RiskBreached(check="slippage", market="KRW-BTC", reason="book"))
    for old, new in (("closed", "open"), ("open", "half_open"), ("half_open", "open")):
        await metrics.on_event(CircuitStateChanged(name="upbit-rest", old=old, new=new, reason=""))
    assert value(metrics, "upbit_bot_risk_breaches_total", check="daily_loss") == 2
    assert value(metrics, "upbit_bot_risk_breaches_total", check="slippage") == 1
    assert value(metrics, "upbit_bot_circuit_opens_total") == 2
    assert value(metrics, "upbit_bot_circuit_state") == 2  # open
    await metrics.on_event(
        CircuitStateChanged(name="upbit-rest", old="open", new="closed", reason="")
    )
    assert value(metrics, "upbit_bot_circuit_state") == 0
    assert value(metrics, "upbit_bot_leader") == 1
    metrics.set_leader(False)
    assert value(metrics, "upbit_bot_leader") == 0
    info = {"version": "1.2.3", "mode": "paper", "strategy": "ma_cross"}
    assert value(metrics, "upbit_bot_info", **info) == 1


async def test_counts_arrive_through_the_bus_and_candles_are_not_subscribed(
    metrics: Metrics,
) -> None:
    # only critical kinds, which the bus never drops; candle floods never reach metrics
    assert all(kind.critical for kind in EVENT_KINDS)
    assert CandleClosed not in EVENT_KINDS
    bus = EventBus()
    sub = metrics.subscribe(bus)
    bus.publish(placed("b1"))
    bus.publish(filled("bid", "50000000", "0.01"))
    await bus.stop()
    assert value(metrics, "upbit_bot_orders_total", side="bid", ord_type="price", result="placed")
    assert value(metrics, "upbit_bot_fills_total", market="KRW-BTC", side="bid") == 1
    assert sub.stats().errors == 0


def test_endpoint_templates() -> None:
    uuid = "9ca023a5-851b-4fec-9f0a-48cd83c2eaae"
    assert endpoint_template(f"/v1/order?uuid={uuid}") == "/v1/order"
    assert endpoint_template(f"https://api.upbit.com/v1/order?uuid={uuid}") == "/v1/order"
    assert endpoint_template(f"/v1/orders/{uuid}") == "/v1/orders/{id}"
    assert endpoint_template("/v1/orders/0123456789abcdef0123") == "/v1/orders/{id}"
    assert endpoint_template("/v1/candles/minutes/1") == "/v1/candles/minutes/1"
    assert endpoint_template("/v1/orders/open") == "/v1/orders/open"


def test_rest_samples_with_ids_make_one_series(metrics: Metrics) -> None:
    for n in range(300):
        metrics.on_request(
            RequestSample(
                endpoint=f"/v1/order?uuid=00000000-0000-0000-0000-{n:012d}",
                method="GET",
                group="default",
                status="200",
                seconds=0.01,
            )
        )
    metrics.on_request(RequestSample("/v1/orders", "POST", "order", "timeout", 0.5))
    metrics.on_request(RequestSample("/v1/orders", "POST", "order", "<script>", 0.5))
    families = {
        f.name: f
        for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())
    }
    requests = families["upbit_bot_rest_requests"].samples
    endpoints = {s.labels["endpoint"] for s in requests if s.name.endswith("_total")}
    assert endpoints == {"/v1/order", "/v1/orders"}
    statuses = {s.labels["status"] for s in requests if s.name.endswith("_total")}
    assert statuses == {"200", "timeout", "other"}
    count = "upbit_bot_rest_request_seconds_count"
    assert value(metrics, count, endpoint="/v1/order", method="GET") == 300


async def test_outside_text_cannot_grow_label_sets(metrics: Metrics, store: Store) -> None:
    metrics.sources.store = store
    for n in range(200):
        await metrics.on_event(
            OrderRejected(intent_id=f"x{n}", market="KRW-BTC", name=f"weird_{n}", reason="")
        )
    metrics.sources.command_name = {"status": "status", "st": "status"}.get
    for n in range(200):
        metrics.on_command(f"hack{n}", "denied")
    metrics.on_command("st", "ok")
    metrics.on_command("press", "expired")
    metrics.on_command("status", "ok; DROP TABLE")
    families = {
        f.name: f
        for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())
    }
    reasons = {s.labels["reason"] for s in families["upbit_bot_order_rejections"].samples}
    assert len(reasons) <= 65
    assert "other" in reasons
    commands = {
        (s.labels["command"], s.labels["outcome"])
        for s in families["upbit_bot_commands"].samples
        if s.name.endswith("_total")
    }
    assert commands == {
        ("other", "denied"),
        ("status", "ok"),
        ("press", "expired"),
        ("status", "other"),
    }
    assert value(metrics, "upbit_bot_commands_total", command="other", outcome="denied") == 200


def test_bounded_label_caps_and_sanitizes() -> None:
    label = BoundedLabel(2, preset=("KRW-BTC",))
    assert label("KRW-BTC") == "KRW-BTC"
    assert label("KRW-ETH") == "KRW-ETH"
    assert label("KRW-XRP") == "other"  # over the cap
    assert label("a b") == "other"  # not a safe value
    assert label("x" * 65) == "other"


async def test_an_unreachable_store_still_counts_the_event(
    metrics: Metrics, tmp_path: Path
) -> None:
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'no.db'}")
    metrics.sources.store = Store(session_factory(db))
    await metrics.on_event(
        OrderCancelled(intent_id="zz", identifier="", market="KRW-BTC", reason="")
    )
    await metrics.on_event(OrderRejected(intent_id="zz", market="KRW-BTC", name="x", reason=""))
    await db.dispose()
    orders = "upbit_bot_orders_total"
    assert value(metrics, orders, side="unknown", ord_type="unknown", result="cancelled") == 1
    assert value(metrics, orders, side="unknown", ord_type="unknown", result="rejected") == 1


def test_a_failing_part_is_left_out_not_the_scrape(metrics: Metrics) -> None:
    def broken_lag() -> float:
        raise RuntimeError("heartbeat gone")

    metrics.sources.loop_lag_s = broken_lag
    text = generate_latest(metrics.registry).decode()
    assert "upbit_bot_loop_lag_seconds" not in text
    assert 'upbit_bot_info{mode="paper",strategy="ma_cross",version="1.2.3"} 1.0' in text
    assert "upbit_bot_circuit_state 0.0" in text
    metrics.sources.loop_lag_s = lambda: 0.25
    assert value(metrics, "upbit_bot_loop_lag_seconds") == 0.25


async def test_market_flags_appear_once_upbit_was_read(metrics: Metrics, store: Store) -> None:
    """A replay never reads Upbit's flags: no series rather than made-up zeros; once read,
    one 1/0 per configured market and flag."""
    from tests.engine.conftest import facade, paper_rig
    from trading.risk.lifecycle import MarketStatus

    events: list = []
    rig = await paper_rig(store, events)
    metrics.sources.facade = facade(rig, store, events)
    assert (
        metrics.registry.get_sample_value(
            "upbit_bot_market_flagged", {"market": "KRW-BTC", "flag": "warning"}
        )
        is None
    )

    rig.engine.gate.lifecycle.update([MarketStatus("KRW-BTC", warning=True)])

    assert value(metrics, "upbit_bot_market_flagged", market="KRW-BTC", flag="warning") == 1
    assert (
        metrics.registry.get_sample_value(
            "upbit_bot_market_flagged", {"market": "KRW-BTC", "flag": "delisting"}
        )
        == 0
    )
