"""Parsing of Upbit WebSocket frames (reference §8.3 examples) and the subscription message."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trading.upbit.ws_messages import (
    Candle,
    MyAsset,
    MyOrder,
    Orderbook,
    RawMessage,
    Status,
    Subscription,
    Ticker,
    Trade,
    WsError,
    WsParseError,
    build_subscription,
    parse_message,
)

TICKER = (
    '{"type":"ticker","code":"KRW-BTC","opening_price":31883000,"high_price":32310000,'
    '"low_price":31855000,"trade_price":32287000,"prev_closing_price":31883000.0,'
    '"acc_trade_price":78039261076.51241,"change":"RISE","change_price":404000.0,'
    '"signed_change_price":404000.0,"change_rate":0.0126713295,"signed_change_rate":0.0126713295,'
    '"ask_bid":"ASK","trade_volume":0.03103806,"acc_trade_volume":2429.58834336,'
    '"trade_date":"20230221","trade_time":"074102","trade_timestamp":1676965262139,'
    '"acc_ask_volume":1146.25573608,"acc_bid_volume":1283.33260728,'
    '"highest_52_week_price":57678000.0,"highest_52_week_date":"2022-03-28",'
    '"lowest_52_week_price":20700000.0,"lowest_52_week_date":"2022-12-30",'
    '"market_state":"ACTIVE","delisting_date":null,"timestamp":1676965262177,'
    '"acc_trade_price_24h":228827082483.70729,"acc_trade_volume_24h":7158.8028356,'
    '"stream_type":"REALTIME"}'
)
TICKER_SIMPLE = (
    '{"ty":"ticker","cd":"KRW-BTC","op":31883000,"hp":32310000,"lp":31855000,"tp":32287000,'
    '"pcp":31883000.0,"atp":78039261076.51241,"c":"RISE","cp":404000.0,"scp":404000.0,'
    '"cr":0.0126713295,"scr":0.0126713295,"ab":"ASK","tv":0.03103806,"atv":2429.58834336,'
    '"tdt":"20230221","ttm":"074102","ttms":1676965262139,"aav":1146.25573608,'
    '"abv":1283.33260728,"h52wp":57678000.0,"h52wdt":"2022-03-28","l52wp":20700000.0,'
    '"l52wdt":"2022-12-30","ms":"ACTIVE","dd":null,"tms":1676965262177,'
    '"atp24h":228827082483.70729,"atv24h":7158.8028356,"st":"REALTIME"}'
)
TRADE = (
    '{"type":"trade","code":"KRW-BTC","timestamp":1787728554853,"trade_date":"2026-08-26",'
    '"trade_time":"07:15:54","trade_timestamp":1787728554797,"trade_price":109847000.0,'
    '"trade_volume":0.00509799,"ask_bid":"ASK","prev_closing_price":109165000.0,"change":"RISE",'
    '"change_price":682000.0,"sequential_id":17877285547970000,"best_ask_price":109867000,'
    '"best_ask_size":0.0099545,"best_bid_price":109847000,"best_bid_size":0.1583673,'
    '"stream_type":"SNAPSHOT"}'
)
TRADE_SIMPLE = (
    '{"ty":"trade","cd":"KRW-BTC","tms":1787728554853,"td":"2026-08-26","ttm":"07:15:54",'
    '"ttms":1787728554797,"tp":109847000.0,"tv":0.00509799,"ab":"ASK","pcp":109165000.0,'
    '"c":"RISE","cp":682000.0,"sid":17877285547970000,"bap":109867000,"bas":0.0099545,'
    '"bbp":109847000,"bbs":0.1583673,"st":"SNAPSHOT"}'
)
ORDERBOOK = (
    '{"type":"orderbook","code":"KRW-BTC","timestamp":1746601573804,"total_ask_size":4.79158413,'
    '"total_bid_size":2.65609625,"orderbook_units":[{"ask_price":137002000,'
    '"bid_price":137001000,"ask_size":0.10623869,"bid_size":0.03656812}],'
    '"stream_type":"SNAPSHOT","level":0}'
)
ORDERBOOK_SIMPLE = (
    '{"ty":"orderbook","cd":"KRW-BTC","tms":1746601573804,"tas":4.79158413,"tbs":2.65609625,'
    '"obu":[{"ap":137002000,"bp":137001000,"as":0.10623869,"bs":0.03656812}],'
    '"st":"SNAPSHOT","lv":0}'
)
CANDLE = (
    '{"type":"candle.1m","code":"KRW-BTC","candle_date_time_utc":"2026-08-26T08:08:00",'
    '"candle_date_time_kst":"2026-08-26T17:08:00","opening_price":109715000.0,'
    '"high_price":109756000.0,"low_price":109714000.0,"trade_price":109756000.0,'
    '"candle_acc_trade_volume":0.71326612,"candle_acc_trade_price":78269528.64757,'
    '"timestamp":1787731717049,"stream_type":"SNAPSHOT"}'
)
CANDLE_SIMPLE = (
    '{"ty":"candle.1m","cd":"KRW-BTC","cdttmu":"2026-08-26T08:08:00",'
    '"cdttmk":"2026-08-26T17:08:00","op":109715000.0,"hp":109756000.0,"lp":109714000.0,'
    '"tp":109756000.0,"catv":0.71326612,"catp":78269528.64757,"tms":1787731717049,'
    '"st":"SNAPSHOT"}'
)
MY_ORDER = (
    '{"type":"myOrder","code":"KRW-BTC","uuid":"ac2dc2a3-fce9-40a2-a4f6-5987c25c438f",'
    '"ask_bid":"BID","order_type":"limit","state":"trade",'
    '"trade_uuid":"68315169-fba4-4175-ade3-aff14a616657","price":0.001453,'
    '"avg_price":0.00145372,"volume":30925891.29839369,"remaining_volume":29968038.09235948,'
    '"executed_volume":30925891.29839369,"trades_count":1,"reserved_fee":44.23943970238218,'
    '"remaining_fee":21.77177967409916,"paid_fee":22.467660028283017,'
    '"locked":43565.33112787242,"executed_funds":44935.32005656603,"time_in_force":null,'
    '"trade_fee":22.467660028283017,"is_maker":true,"identifier":"test-1",'
    '"smp_type":"cancel_maker","prevented_volume":1.174291929,'
    '"prevented_locked":0.001706246173,"trade_timestamp":1710751590421,'
    '"order_timestamp":1710751590000,"timestamp":1710751597500,"stream_type":"REALTIME"}'
)
MY_ORDER_SIMPLE = (
    '{"ty":"myOrder","cd":"KRW-BTC","uid":"ac2dc2a3-fce9-40a2-a4f6-5987c25c438f","ab":"BID",'
    '"ot":"limit","s":"trade","tuid":"68315169-fba4-4175-ade3-aff14a616657","p":0.001453,'
    '"ap":0.00145372,"v":30925891.29839369,"rv":29968038.09235948,"ev":30925891.29839369,'
    '"tc":1,"rsf":44.23943970238218,"rmf":21.77177967409916,"pf":22.467660028283017,'
    '"l":43565.33112787242,"ef":44935.32005656603,"tif":null,"tf":22.467660028283017,'
    '"im":true,"id":"test-1","smpt":"cancel_maker","pv":1.174291929,"pl":0.001706246173,'
    '"ttms":1710751590421,"otms":1710751590000,"tms":1710751597500,"st":"REALTIME"}'
)
MY_ASSET = (
    '{"type":"myAsset","asset_uuid":"e635f223-1609-4969-8fb6-4376937baad6",'
    '"assets":[{"currency":"KRW","balance":1386929.37231066771348207123,'
    '"locked":10329.670127489597585685}],"asset_timestamp":1710146517259,'
    '"timestamp":1710146517267,"stream_type":"REALTIME"}'
)
MY_ASSET_SIMPLE = (
    '{"ty":"myAsset","astuid":"e635f223-1609-4969-8fb6-4376937baad6",'
    '"ast":[{"cu":"KRW","b":1386929.37231066771348207123,"l":10329.670127489597585685}],'
    '"asttms":1710146517259,"tms":1710146517267,"st":"REALTIME"}'
)


def one(raw: str | bytes) -> object:
    frames = parse_message(raw)
    assert len(frames) == 1
    return frames[0]


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, UTC).replace(microsecond=value % 1000 * 1000)


@pytest.mark.parametrize("raw", [TICKER, TICKER_SIMPLE])
def test_ticker(raw: str) -> None:
    t = one(raw)
    assert isinstance(t, Ticker)
    assert t.code == "KRW-BTC"
    assert t.trade_price == Decimal(32287000)
    assert t.acc_trade_price == Decimal("78039261076.51241")
    assert t.acc_trade_price_24h == Decimal("228827082483.70729")
    assert t.change_rate == Decimal("0.0126713295")
    assert t.trade_volume == Decimal("0.03103806")
    assert t.change == "RISE"
    assert t.ask_bid == "ASK"
    assert t.market_state == "ACTIVE"
    assert t.delisting_date is None
    assert t.highest_52_week_price == Decimal("57678000.0")
    assert t.timestamp == ms(1676965262177)
    assert t.timestamp.tzinfo is UTC
    assert t.trade_timestamp == ms(1676965262139)
    assert t.stream_type == "REALTIME"


def test_ticker_delisting_date_object_and_deprecated_fields() -> None:
    data = json.loads(TICKER)
    data |= {"delisting_date": {"year": 2026, "month": 9, "day": 1}, "market_warning": "NONE"}
    t = one(json.dumps(data))
    assert isinstance(t, Ticker)
    assert t.delisting_date == date(2026, 9, 1)


def test_ticker_empty_delisting_date_means_none() -> None:
    """Some tickers say "no delisting" with "" rather than null: not a broken message."""
    data = json.loads(TICKER) | {"delisting_date": "", "market_state": "ACTIVE"}
    t = one(json.dumps(data))
    assert isinstance(t, Ticker)
    assert t.delisting_date is None


@pytest.mark.parametrize("raw", [TRADE, TRADE_SIMPLE])
def test_trade(raw: str) -> None:
    t = one(raw)
    assert isinstance(t, Trade)
    assert t.code == "KRW-BTC"
    assert t.trade_price == Decimal("109847000.0")
    assert t.trade_volume == Decimal("0.00509799")
    assert t.ask_bid == "ASK"
    assert t.sequential_id == 17877285547970000
    assert t.best_ask_price == Decimal(109867000)
    assert t.best_bid_size == Decimal("0.1583673")
    assert t.trade_timestamp == ms(1787728554797)
    assert t.timestamp == ms(1787728554853)
    assert t.stream_type == "SNAPSHOT"


def test_trade_legacy_simple_mk_key() -> None:
    t = one(TRADE_SIMPLE.replace('"cd"', '"mk"'))
    assert isinstance(t, Trade)
    assert t.code == "KRW-BTC"


@pytest.mark.parametrize("raw", [ORDERBOOK, ORDERBOOK_SIMPLE])
def test_orderbook(raw: str) -> None:
    ob = one(raw)
    assert isinstance(ob, Orderbook)
    assert ob.code == "KRW-BTC"
    assert ob.total_ask_size == Decimal("4.79158413")
    assert ob.total_bid_size == Decimal("2.65609625")
    assert len(ob.units) == 1
    unit = ob.units[0]
    assert unit.ask_price == Decimal(137002000)
    assert unit.bid_price == Decimal(137001000)
    assert unit.ask_size == Decimal("0.10623869")
    assert unit.bid_size == Decimal("0.03656812")
    assert ob.level == 0
    assert ob.timestamp == ms(1746601573804)


@pytest.mark.parametrize("raw", [CANDLE, CANDLE_SIMPLE])
def test_candle(raw: str) -> None:
    c = one(raw)
    assert isinstance(c, Candle)
    assert c.unit == "1m"
    assert c.candle_date_time_utc == datetime(2026, 8, 26, 8, 8, tzinfo=UTC)
    assert c.candle_acc_trade_price == Decimal("78269528.64757")
    assert c.trade_price == Decimal("109756000.0")


@pytest.mark.parametrize("raw", [MY_ORDER, MY_ORDER_SIMPLE])
def test_my_order(raw: str) -> None:
    o = one(raw)
    assert isinstance(o, MyOrder)
    assert o.uuid == "ac2dc2a3-fce9-40a2-a4f6-5987c25c438f"
    assert o.ask_bid == "BID"
    assert o.order_type == "limit"
    assert o.state == "trade"
    assert o.trade_uuid == "68315169-fba4-4175-ade3-aff14a616657"
    assert o.price == Decimal("0.001453")
    assert o.avg_price == Decimal("0.00145372")
    assert o.volume == Decimal("30925891.29839369")
    assert o.remaining_volume == Decimal("29968038.09235948")
    assert o.executed_volume == Decimal("30925891.29839369")
    assert o.trades_count == 1
    assert o.paid_fee == Decimal("22.467660028283017")
    assert o.trade_fee == Decimal("22.467660028283017")
    assert o.locked == Decimal("43565.33112787242")
    assert o.executed_funds == Decimal("44935.32005656603")
    assert o.is_maker is True
    assert o.time_in_force is None
    assert o.identifier == "test-1"
    assert o.smp_type == "cancel_maker"
    assert o.prevented_locked == Decimal("0.001706246173")
    assert o.order_timestamp == ms(1710751590000)
    assert o.trade_timestamp == ms(1710751590421)
    assert o.timestamp == ms(1710751597500)


def test_my_order_wait_has_null_trade_fields() -> None:
    data = json.loads(MY_ORDER) | {"state": "wait", "trade_fee": None, "is_maker": None}
    del data["trade_uuid"]
    o = one(json.dumps(data))
    assert isinstance(o, MyOrder)
    assert (o.state, o.trade_fee, o.is_maker, o.trade_uuid) == ("wait", None, None, None)


@pytest.mark.parametrize("raw", [MY_ASSET, MY_ASSET_SIMPLE])
def test_my_asset_keeps_every_digit(raw: str) -> None:
    a = one(raw)
    assert isinstance(a, MyAsset)
    assert a.asset_uuid == "e635f223-1609-4969-8fb6-4376937baad6"
    (krw,) = a.assets
    assert krw.currency == "KRW"
    assert krw.balance == Decimal("1386929.37231066771348207123")
    assert str(krw.balance) == "1386929.37231066771348207123"
    assert krw.locked == Decimal("10329.670127489597585685")
    assert a.asset_timestamp == ms(1710146517259)
    assert a.timestamp == ms(1710146517267)


def test_binary_frames_are_utf8_json() -> None:
    assert isinstance(one(TRADE.encode()), Trade)


@pytest.mark.parametrize(
    "raw", [f"[{TRADE},{TICKER}]", f"[{TRADE_SIMPLE},{TICKER_SIMPLE}]"], ids=["JSON", "SIMPLE"]
)
def test_list_formats(raw: str) -> None:
    frames = parse_message(raw.encode())
    assert [type(f) for f in frames] == [Trade, Ticker]


def test_status_up() -> None:
    assert one('{"status":"UP"}') == Status("UP")
    assert one(b'{"status":"UP"}') == Status("UP")


def test_error_frame() -> None:
    raw = '{"error":{"name":"INVALID_AUTH","message":"인증 정보가 올바르지 않습니다."}}'
    assert one(raw.encode()) == WsError("INVALID_AUTH", "인증 정보가 올바르지 않습니다.")


def test_unknown_type_and_typeless_frames_are_raw() -> None:
    raw = one('{"type":"announcement","title":"x"}')
    assert raw == RawMessage(type="announcement", data={"type": "announcement", "title": "x"})
    listing = one('{"mthd":"LIST_SUBSCRIPTIONS","rslt":[{"ty":"ticker"}],"tckt":"x"}')
    assert isinstance(listing, RawMessage)
    assert listing.type == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        "42",
        '{"type":"trade","code":"KRW-BTC"}',
        TRADE.replace('"trade_price":109847000.0', '"trade_price":"abc"'),
        TRADE.replace('"trade_price":109847000.0', '"trade_price":true'),
        ORDERBOOK.replace('"orderbook_units":[', '"orderbook_units":[1,'),
        MY_ORDER.replace('"is_maker":true', '"is_maker":"yes"'),
    ],
)
def test_malformed_frames_raise_with_raw_text(raw: str | bytes) -> None:
    with pytest.raises(WsParseError) as info:
        parse_message(raw)
    expected = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    assert info.value.raw == expected


def test_build_subscription_shape() -> None:
    text = build_subscription(
        "t-1",
        [
            Subscription("trade", ["krw-btc", "KRW-ETH"]),
            Subscription("orderbook", ["KRW-BTC"], depth=15),
            Subscription("ticker", ["KRW-BTC"], only_realtime=True),
            Subscription("myOrder"),
            Subscription("myAsset"),
        ],
        "SIMPLE",
    )
    assert json.loads(text) == [
        {"ticket": "t-1"},
        {"type": "trade", "codes": ["KRW-BTC", "KRW-ETH"]},
        {"type": "orderbook", "codes": ["KRW-BTC.15"]},
        {"type": "ticker", "codes": ["KRW-BTC"], "is_only_realtime": True},
        {"type": "myOrder", "codes": []},
        {"type": "myAsset"},
        {"format": "SIMPLE"},
    ]


def test_build_subscription_default_format_and_snapshot_flag() -> None:
    text = build_subscription("t", [Subscription("ticker", ["KRW-BTC"], only_snapshot=True)])
    assert json.loads(text)[1:] == [
        {"type": "ticker", "codes": ["KRW-BTC"], "is_only_snapshot": True},
        {"format": "DEFAULT"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"type": "myAsset", "codes": ["KRW-BTC"]}, "no codes"),
        ({"type": "trade"}, "at least one code"),
        ({"type": "orderbook", "codes": ["KRW-BTC"], "depth": 7}, "depth"),
        ({"type": "trade", "codes": ["KRW-BTC"], "depth": 15}, "depth"),
        (
            {"type": "ticker", "codes": ["KRW-BTC"], "only_realtime": True, "only_snapshot": True},
            "exclude",
        ),
    ],
)
def test_subscription_validation(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Subscription(**kwargs)  # type: ignore[arg-type]


def test_build_subscription_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="format"):
        build_subscription("t", [Subscription("trade", ["KRW-BTC"])], "XML")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one type"):
        build_subscription("t", [])
