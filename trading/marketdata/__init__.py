"""Market data: candles built from trades, REST backfill, feeds (live and replay), books.

See ``candles`` for the bar rules every consumer relies on (UTC-aligned, contiguous: empty
intervals are flat bars, late trades never reopen a closed bar).
"""

from trading.domain.book import BookSnapshot
from trading.marketdata.backfill import backfill, fetch_bars, fill_gap, native_timeframe
from trading.marketdata.bars import fill_holes, flat_bar, resample
from trading.marketdata.candles import CandleBuilder
from trading.marketdata.feeds import Feed
from trading.marketdata.orderbook import expected_fill
from trading.marketdata.replay import ReplayFeed, ReplayFile, ReplayFileError
from trading.marketdata.service import MarketData

__all__ = [
    "BookSnapshot",
    "CandleBuilder",
    "Feed",
    "MarketData",
    "ReplayFeed",
    "ReplayFile",
    "ReplayFileError",
    "backfill",
    "expected_fill",
    "fetch_bars",
    "fill_gap",
    "fill_holes",
    "flat_bar",
    "native_timeframe",
    "resample",
]
