"""SIMPLE-to-DEFAULT key mapping and typed field readers for WebSocket messages (§8.3).

SIMPLE keys are renamed to their DEFAULT names first so each type has one parser; the same
abbreviation can mean different things per type (``ap`` is ``avg_price`` in myOrder but
``ask_price`` in an orderbook unit), hence one table per type.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class WsParseError(ValueError):
    """A frame that is not valid Upbit JSON; ``raw`` keeps the text for the log."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(f"{reason}: {raw[:300]!r}")
        self.reason = reason
        self.raw = raw


_COMMON: Final = {"ty": "type", "tms": "timestamp", "st": "stream_type"}
_SIMPLE: Final[dict[str, dict[str, str]]] = {
    "ticker": {
        "cd": "code", "op": "opening_price", "hp": "high_price", "lp": "low_price",
        "tp": "trade_price", "pcp": "prev_closing_price", "c": "change", "cp": "change_price",
        "scp": "signed_change_price", "cr": "change_rate", "scr": "signed_change_rate",
        "tv": "trade_volume", "atv": "acc_trade_volume", "atv24h": "acc_trade_volume_24h",
        "atp": "acc_trade_price", "atp24h": "acc_trade_price_24h", "tdt": "trade_date",
        "ttm": "trade_time", "ttms": "trade_timestamp", "ab": "ask_bid",
        "aav": "acc_ask_volume", "abv": "acc_bid_volume", "h52wp": "highest_52_week_price",
        "h52wdt": "highest_52_week_date", "l52wp": "lowest_52_week_price",
        "l52wdt": "lowest_52_week_date", "ms": "market_state", "dd": "delisting_date",
        "its": "is_trading_suspended", "mw": "market_warning",
    },
    "trade": {
        "cd": "code", "mk": "code", "tp": "trade_price", "tv": "trade_volume", "ab": "ask_bid",
        "pcp": "prev_closing_price", "c": "change", "cp": "change_price", "td": "trade_date",
        "ttm": "trade_time", "ttms": "trade_timestamp", "sid": "sequential_id",
        "bap": "best_ask_price", "bas": "best_ask_size", "bbp": "best_bid_price",
        "bbs": "best_bid_size",
    },
    "orderbook": {
        "cd": "code", "tas": "total_ask_size", "tbs": "total_bid_size",
        "obu": "orderbook_units", "lv": "level",
    },
    "candle": {
        "cd": "code", "cdttmu": "candle_date_time_utc", "cdttmk": "candle_date_time_kst",
        "op": "opening_price", "hp": "high_price", "lp": "low_price", "tp": "trade_price",
        "catv": "candle_acc_trade_volume", "catp": "candle_acc_trade_price",
    },
    "myOrder": {
        "cd": "code", "uid": "uuid", "ab": "ask_bid", "ot": "order_type", "s": "state",
        "tuid": "trade_uuid", "p": "price", "ap": "avg_price", "v": "volume",
        "rv": "remaining_volume", "ev": "executed_volume", "tc": "trades_count",
        "rsf": "reserved_fee", "rmf": "remaining_fee", "pf": "paid_fee", "l": "locked",
        "ef": "executed_funds", "tif": "time_in_force", "tf": "trade_fee", "im": "is_maker",
        "id": "identifier", "smpt": "smp_type", "pv": "prevented_volume",
        "pl": "prevented_locked", "ttms": "trade_timestamp", "otms": "order_timestamp",
    },
    "myAsset": {"astuid": "asset_uuid", "ast": "assets", "asttms": "asset_timestamp"},
}  # fmt: skip
_NESTED: Final = {
    "orderbook_units": {"ap": "ask_price", "bp": "bid_price", "as": "ask_size", "bs": "bid_size"},
    "assets": {"cu": "currency", "b": "balance", "l": "locked"},
}


def _rename(obj: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    return {keys.get(k, k): v for k, v in obj.items()}


def normalise(obj: Mapping[str, Any]) -> dict[str, Any]:
    if "ty" not in obj:
        return dict(obj)
    type_ = str(obj["ty"])
    keys = {**_COMMON, **_SIMPLE.get(type_.split(".")[0], {})}
    out = _rename(obj, keys)
    for name, sub in _NESTED.items():
        if name in out and isinstance(out[name], list):
            out[name] = [_rename(i, sub) if isinstance(i, Mapping) else i for i in out[name]]
    return out


# ---------------------------------------------------------------- field readers


class Fields:
    """Typed access to one normalised message; failures name the field and keep the raw."""

    def __init__(self, obj: Mapping[str, Any], raw: str) -> None:
        self._obj = obj
        self._raw = raw

    def fail(self, key: str, why: str) -> WsParseError:
        return WsParseError(f"{self._obj.get('type')}.{key}: {why}", self._raw)

    def get(self, key: str) -> Any:
        if self._obj.get(key) is None:
            raise self.fail(key, "missing")
        return self._obj[key]

    def text(self, key: str) -> str:
        return str(self.get(key))

    def opt_str(self, key: str) -> str | None:
        return None if self._obj.get(key) is None else self.text(key)

    def dec(self, key: str) -> Decimal:
        value = self.get(key)
        out: Decimal | None = None
        if isinstance(value, Decimal):
            out = value
        elif isinstance(value, float):
            out = Decimal(repr(value))
        elif isinstance(value, int | str) and not isinstance(value, bool):
            try:
                out = Decimal(value)
            except InvalidOperation:
                out = None
        if out is None or not out.is_finite():
            raise self.fail(key, f"not a number: {value!r}")
        return out

    def opt_dec(self, key: str) -> Decimal | None:
        return None if self._obj.get(key) is None else self.dec(key)

    def integer(self, key: str) -> int:
        value = self.dec(key)
        if value != value.to_integral_value():
            raise self.fail(key, f"not an integer: {value}")
        return int(value)

    def opt_int(self, key: str) -> int | None:
        return None if self._obj.get(key) is None else self.integer(key)

    def ts(self, key: str) -> datetime:
        """Epoch milliseconds -> aware UTC, exact (no float division)."""
        return _EPOCH + timedelta(milliseconds=self.integer(key))

    def opt_ts(self, key: str) -> datetime | None:
        return None if self._obj.get(key) is None else self.ts(key)

    def opt_bool(self, key: str) -> bool | None:
        value = self._obj.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(key, f"not a boolean: {value!r}")

    def opt_date(self, key: str) -> date | None:
        value = self._obj.get(key)
        try:
            if value == "":  # seen on the ticker's ``delisting_date`` for "none"
                return None
            if isinstance(value, str):
                return date.fromisoformat(value)
            if isinstance(value, Mapping):
                return date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise self.fail(key, f"not a date: {value!r}") from exc
        return None

    def utc(self, key: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(self.text(key))
        except ValueError as exc:
            raise self.fail(key, "not an ISO datetime") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def items(self, key: str) -> list[Fields]:
        value = self.get(key)
        if not isinstance(value, list) or not all(isinstance(i, Mapping) for i in value):
            raise self.fail(key, "not a list of objects")
        return [Fields({"type": f"{self._obj.get('type')}.{key}", **i}, self._raw) for i in value]
