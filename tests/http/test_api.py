"""The JSON API against a real paper engine: bodies, auth, bad input, the OpenAPI schema."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from bot.api.routes import Sources
from tests.bot.conftest import free_port
from tests.http.conftest import AUTH, TOKEN, Served, Traded, assert_matches_openapi
from trading.engine.facade import EngineFacade
from trading.positions import PositionState
from trading.store import Store, create_engine, session_factory

ENDPOINTS = ["status", "positions", "orders", "trades", "pnl", "risk", "settings", "audit"]


@pytest.mark.parametrize("name", ENDPOINTS)
async def test_every_endpoint_answers_valid_json_with_the_token(api: Served, name: str):
    response = await api.get(f"/api/v1/{name}", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = assert_matches_openapi(f"/api/v1/{name}", response)
    assert body


async def test_no_token_or_a_wrong_one_is_refused(serve):
    # the token is checked first: no engine is needed to be refused
    api = await serve(Sources(facade=lambda: None, token=TOKEN))
    for name, headers in itertools.product(
        ENDPOINTS,
        (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": "Bearer"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": b"Bearer \xff\xfe"},  # not even text
        ),
    ):
        path = f"/api/v1/{name}"
        response = await api.get(path, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = assert_matches_openapi(path, response)
        assert body["error"] in ("missing bearer token", "wrong bearer token")
        assert TOKEN not in response.text


async def test_without_a_configured_token_the_api_is_disabled(traded: Traded, serve):
    served = await serve(Sources(facade=lambda: traded.facade, token=None))
    for name in ENDPOINTS:
        for headers in ({}, AUTH, {"Authorization": "Bearer"}):
            response = await served.get(f"/api/v1/{name}", headers=headers)
            assert response.status_code == 503
            body = assert_matches_openapi(f"/api/v1/{name}", response)
            assert body == {"error": "API disabled: set UPBIT_BOT_API_TOKEN"}
    # the description holds no data: it stays readable
    assert (await served.get("/api/v1/openapi.json")).status_code == 200


async def test_before_the_engine_starts_the_api_says_so(serve):
    served = await serve(Sources(facade=lambda: None, token=TOKEN, app_state=lambda: "starting"))
    response = await served.get("/api/v1/status", headers=AUTH)
    assert response.status_code == 503
    assert "bot starting" in assert_matches_openapi("/api/v1/status", response)["error"]


async def test_status_reports_the_engine_with_exact_money(api: Served, traded: Traded):
    body = (await api.get("/api/v1/status", headers=AUTH)).json()
    status = await traded.facade.status()
    assert body["mode"] == "paper"
    assert body["version"] == "9.9.9"
    assert body["markets"] == ["KRW-BTC"]
    assert body["strategy"] == "ma_cross"
    assert body["trading"] == "active"
    assert D(body["equity_krw"]) == status.equity_krw  # exact, not rounded through a float
    assert D(body["free_krw"]) == status.free_krw
    assert isinstance(body["equity_krw"], str)
    assert body["open_positions"] == 1
    assert D(body["prices"]["KRW-BTC"]) == status.prices["KRW-BTC"]
    assert body["market_time"].startswith(status.market_time.strftime("%Y-%m-%dT%H:%M"))


async def test_positions_lists_the_open_position(api: Served, traded: Traded):
    body = (await api.get("/api/v1/positions", headers=AUTH)).json()
    position = traded.rig.engine.positions.get("KRW-BTC")
    assert position.state is PositionState.LONG
    [row] = body["positions"]
    assert row["market"] == "KRW-BTC"
    assert row["state"] == "long"
    assert D(row["volume"]) == position.volume
    assert D(row["avg_entry_price"]) == position.avg_entry_price
    assert D(row["stop_price"]) == position.stop_price
    last = traded.rig.engine.market_data.price("KRW-BTC")
    assert last is not None
    expected = position.volume * last - position.entry_cost - position.entry_fees
    assert D(row["unrealized_pnl_krw"]) == expected


async def test_orders_open_and_recent_with_limit_and_market(api: Served, traded: Traded):
    body = (await api.get("/api/v1/orders", headers=AUTH)).json()
    assert body["open"] == []  # paper market orders fill at once
    recent = body["recent"]
    assert len(recent) == len(await traded.store.recent_orders(500))
    assert len(recent) >= 5  # two round trips and an entry
    assert [o["created_at"] for o in recent] == sorted(
        (o["created_at"] for o in recent), reverse=True
    )
    assert {o["side"] for o in recent} == {"bid", "ask"}
    limited = (await api.get("/api/v1/orders?limit=2&market=KRW-BTC", headers=AUTH)).json()
    assert [o["intent_id"] for o in limited["recent"]] == [o["intent_id"] for o in recent[:2]]
    lower = (await api.get("/api/v1/orders?market=krw-btc", headers=AUTH)).json()
    assert len(lower["recent"]) == len(recent[:50])


async def test_trades_are_the_stored_fills_newest_first(api: Served, traded: Traded):
    body = (await api.get("/api/v1/trades?limit=3", headers=AUTH)).json()
    fills = await traded.store.fills(limit=3)
    assert [t["trade_uuid"] for t in body["trades"]] == [f.trade_uuid for f in fills]
    first, fill = body["trades"][0], fills[0]
    assert D(first["price"]) == fill.price
    assert D(first["fee"]) == fill.fee
    assert first["side"] == fill.side
    everything = (await api.get("/api/v1/trades?limit=500", headers=AUTH)).json()["trades"]
    assert len(everything) == len(await traded.store.fills(limit=500)) >= 5


async def test_pnl_has_the_equity_curve_and_realized_per_day(api: Served, traded: Traded):
    body = (await api.get("/api/v1/pnl?days=3", headers=AUTH)).json()
    status = await traded.facade.status()
    snapshots = await traded.store.equity_history()
    equity = body["equity"]
    assert len(equity) == len(snapshots) + 1  # the stored curve, then the equity now
    assert [D(p["equity_krw"]) for p in equity[:-1]] == [s.equity_krw for s in snapshots]
    assert equity[0]["equity_krw"] == f"{snapshots[0].equity_krw:f}"  # every digit kept
    assert D(equity[-1]["equity_krw"]) == status.equity_krw
    assert len(body["daily"]) == 3
    assert [d["day"] for d in body["daily"]] == sorted(d["day"] for d in body["daily"])
    rows = await traded.facade.pnl("day", 3)
    assert D(body["realized_krw"]) == sum(r.pnl_krw for r in rows)
    assert sum(d["sells"] for d in body["daily"]) == sum(r.sells for r in rows) >= 2
    paid = sum((f.fee for f in await traded.store.fills(limit=500)), D(0))
    assert sum(D(d["fees_krw"]) for d in body["daily"]) == paid  # buys' fees too (#11.5)
    few = (await api.get("/api/v1/pnl?points=2", headers=AUTH)).json()
    assert len(few["equity"]) == 2


async def test_risk_lists_limits_and_halts(api: Served, traded: Traded):
    body = (await api.get("/api/v1/risk", headers=AUTH)).json()
    names = [limit["name"] for limit in body["limits"]]
    assert names[:2] == ["trading", "max_positions"]
    assert "halt_window" in names
    positions = next(lim for lim in body["limits"] if lim["name"] == "max_positions")
    assert positions["text"] == "1 of 3 positions"
    assert positions["values"] == {"open": "1", "limit": "3"}
    assert body["entries_allowed"] is True
    [halt] = body["halts"]
    assert halt["name"] == "lunch <break>"
    assert (halt["start"], halt["end"], halt["recurring"]) == ("12:00", "13:00", True)
    assert halt["next_start"] is not None


async def test_audit_pages_back_by_id(api: Served, traded: Traded):
    first = (await api.get("/api/v1/audit?limit=3", headers=AUTH)).json()
    ids = [e["id"] for e in first["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert first["entries"][0]["detail"] == "<b>bold</b>"  # data, returned as it is
    assert first["next_before"] == ids[-1]
    seen = list(ids)
    before = first["next_before"]
    for _ in range(5):  # 7 entries: pages of 3, 3, 1
        page = (await api.get(f"/api/v1/audit?limit=3&before={before}", headers=AUTH)).json()
        seen += [e["id"] for e in page["entries"]]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == len(set(seen)) == 7
    last = await traded.store.audit_page(1)
    assert seen[0] == last[0].id


BAD_QUERIES = [
    ("orders?limit=0", "limit must be from 1 to 500, got 0"),
    ("orders?limit=501", "limit must be from 1 to 500, got 501"),
    ("orders?limit=ten", "limit must be a whole number from 1 to 500, got 'ten'"),
    ("orders?limit=-1", "limit must be a whole number from 1 to 500, got '-1'"),
    ("trades?market=bitcoin", "market must look like KRW-BTC, got 'bitcoin'"),
    (
        "trades?market=KRW-ETH",
        "market KRW-ETH is not traded by this bot (markets: KRW-BTC)",
    ),
    ("pnl?days=400", "days must be from 1 to 366, got 400"),
    ("pnl?points=1", "points must be from 2 to 5000, got 1"),
    ("audit?before=x", "before must be a whole number from 1 to 4611686018427387904, got 'x'"),
    ("status?verbose=1", "unknown query parameter 'verbose' (allowed: none)"),
    ("orders?limt=5", "unknown query parameter 'limt' (allowed: limit, market)"),
]


async def test_bad_query_parameters_get_a_clear_400(api: Served):
    for query, message in BAD_QUERIES:
        response = await api.get(f"/api/v1/{query}", headers=AUTH)
        assert response.status_code == 400, query
        body = assert_matches_openapi("/api/v1/" + query.split("?")[0], response)
        assert body == {"error": message}, query


async def test_a_long_bad_value_is_not_echoed_whole(api: Served):
    response = await api.get("/api/v1/orders?limit=" + "9" * 5000, headers=AUTH)
    assert response.status_code == 400
    assert len(response.json()["error"]) < 120


async def test_unknown_paths_are_404(api: Served):
    assert (await api.get("/api/v1/nothing", headers=AUTH)).status_code == 404


async def test_a_store_that_is_down_gives_503_not_a_traceback(traded: Traded, serve, caplog):
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    try:
        down = EngineFacade(
            traded.rig.engine, Store(session_factory(engine)), sink=print, mode="paper"
        )
        served = await serve(Sources(facade=lambda: down, token=TOKEN))
        for name in ("orders", "trades", "audit"):
            response = await served.get(f"/api/v1/{name}", headers=AUTH)
            assert response.status_code == 503
            body = assert_matches_openapi(f"/api/v1/{name}", response)
            assert body["error"].startswith("store unavailable: ")
    finally:
        await engine.dispose()
    assert "Traceback" not in caplog.text


async def test_settings_lists_every_setting_with_its_bounds(api):
    """Issue #10.3: the API reads the one settings definition chat and the file use."""
    body = (await api.get("/api/v1/settings", headers=AUTH)).json()
    by_key = {row["key"]: row for row in body["settings"]}
    size = by_key["risk.position_size_krw"]
    assert (size["min"], size["max"], size["type"], size["live"]) == (
        "5000",
        "1000000000",
        "decimal",
        True,
    )
    assert by_key["risk.manual_buy_max_krw"]["live"] is False
    assert by_key["risk.slippage_mode"]["choices"] == ["refuse", "limit"]
    assert by_key["strategy.fast"]["type"] == "int"
