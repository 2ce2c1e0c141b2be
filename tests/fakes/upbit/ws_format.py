"""WebSocket output formats (reference §8.2/§8.3): DEFAULT, SIMPLE, JSON_LIST, SIMPLE_LIST.

SIMPLE renames keys with Upbit's abbreviations (nested ``orderbook_units`` and ``assets``
items too).  Messages are UTF-8 JSON sent as binary frames.
"""

from __future__ import annotations

from typing import Any

from .jsonenc import dumps

FORMATS = ("DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST")

COMMON = {"type": "ty", "code": "cd", "timestamp": "tms", "stream_type": "st"}
TICKER = {
    **COMMON,
    "opening_price": "op",
    "high_price": "hp",
    "low_price": "lp",
    "trade_price": "tp",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "signed_change_price": "scp",
    "change_rate": "cr",
    "signed_change_rate": "scr",
    "trade_volume": "tv",
    "acc_trade_volume": "atv",
    "acc_trade_volume_24h": "atv24h",
    "acc_trade_price": "atp",
    "acc_trade_price_24h": "atp24h",
    "trade_date": "tdt",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "ask_bid": "ab",
    "acc_ask_volume": "aav",
    "acc_bid_volume": "abv",
    "highest_52_week_price": "h52wp",
    "highest_52_week_date": "h52wdt",
    "lowest_52_week_price": "l52wp",
    "lowest_52_week_date": "l52wdt",
    "market_state": "ms",
    "delisting_date": "dd",
    "is_trading_suspended": "its",
    "market_warning": "mw",
}
TRADE = {
    **COMMON,
    "trade_price": "tp",
    "trade_volume": "tv",
    "ask_bid": "ab",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "trade_date": "td",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "sequential_id": "sid",
    "best_ask_price": "bap",
    "best_ask_size": "bas",
    "best_bid_price": "bbp",
    "best_bid_size": "bbs",
}
ORDERBOOK = {
    **COMMON,
    "total_ask_size": "tas",
    "total_bid_size": "tbs",
    "orderbook_units": "obu",
    "level": "lv",
}
ORDERBOOK_UNIT = {"ask_price": "ap", "bid_price": "bp", "ask_size": "as", "bid_size": "bs"}
MY_ORDER = {
    **COMMON,
    "uuid": "uid",
    "ask_bid": "ab",
    "order_type": "ot",
    "state": "s",
    "trade_uuid": "tuid",
    "price": "p",
    "avg_price": "ap",
    "volume": "v",
    "remaining_volume": "rv",
    "executed_volume": "ev",
    "trades_count": "tc",
    "reserved_fee": "rsf",
    "remaining_fee": "rmf",
    "paid_fee": "pf",
    "locked": "l",
    "executed_funds": "ef",
    "time_in_force": "tif",
    "trade_fee": "tf",
    "is_maker": "im",
    "identifier": "id",
    "smp_type": "smpt",
    "prevented_volume": "pv",
    "prevented_locked": "pl",
    "trade_timestamp": "ttms",
    "order_timestamp": "otms",
}
MY_ASSET = {
    "type": "ty",
    "timestamp": "tms",
    "stream_type": "st",
    "asset_uuid": "astuid",
    "assets": "ast",
    "asset_timestamp": "asttms",
}
ASSET_ITEM = {"currency": "cu", "balance": "b", "locked": "l"}
BY_TYPE = {
    "ticker": TICKER,
    "trade": TRADE,
    "orderbook": ORDERBOOK,
    "myOrder": MY_ORDER,
    "myAsset": MY_ASSET,
}
NESTED = {"orderbook_units": ORDERBOOK_UNIT, "assets": ASSET_ITEM}


def simplify(message: dict[str, Any]) -> dict[str, Any]:
    table = BY_TYPE.get(str(message.get("type")), COMMON)
    out: dict[str, Any] = {}
    for key, value in message.items():
        if key in NESTED and isinstance(value, list):
            sub = NESTED[key]
            value = [{sub.get(k, k): v for k, v in item.items()} for item in value]
        out[table.get(key, key)] = value
    return out


def encode(message: dict[str, Any], fmt: str) -> bytes:
    body: Any = simplify(message) if fmt.startswith("SIMPLE") else message
    if fmt.endswith("_LIST"):
        body = [body]
    return dumps(body).encode("utf-8")
