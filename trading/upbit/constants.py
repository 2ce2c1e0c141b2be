"""Upbit's published limits and vocabularies, in one place (reference §7, §4.2)."""

from __future__ import annotations

from types import MappingProxyType

#: requests per second per rate-limit group (reference §7.1, rate-limits page of 2026-09-08).
#: ``order`` (``POST /orders`` and ``POST /orders/cancel_and_new``) is 12/s per pocket since
#: 2026-08-21 (8/s before); ``upbit.order_rate_per_s`` can only set it lower, and the
#: ``Remaining-Req`` header slows us further when the server has counted more than we sent.
RATE_LIMITS = MappingProxyType(
    {
        "market": 10.0,
        "candle": 10.0,
        "trade": 10.0,
        "ticker": 10.0,
        "orderbook": 10.0,
        "default": 30.0,
        "order": 12.0,
        "order-test": 8.0,
        "order-cancel-all": 0.5,
    }
)
QUOTATION_GROUPS = ("market", "candle", "trade", "ticker", "orderbook")

#: ``Remaining-Req`` spells some groups differently from the docs.
HEADER_GROUP_ALIASES = MappingProxyType({"candles": "candle"})

MINUTE_UNITS = (1, 3, 5, 10, 15, 30, 60, 240)
MAX_CANDLES_PER_CALL = 200
MAX_TRADES_PER_CALL = 500
MAX_IDS_PER_LOOKUP = 100
MAX_IDS_PER_CANCEL = 20

#: candle timeframes our config uses -> the REST path below /v1/candles/
TIMEFRAME_PATHS = MappingProxyType(
    {
        "1s": "seconds",
        **{f"{u}m": f"minutes/{u}" for u in MINUTE_UNITS},
        "1h": "minutes/60",
        "4h": "minutes/240",
        "1d": "days",
        "1w": "weeks",
        "1M": "months",
        "1y": "years",
    }
)
