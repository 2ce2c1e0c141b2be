"""Paper trading: real market data, simulated fills, no keys (the default mode).

``PaperExchange`` implements ``trading.exchange.Exchange``. Feed it market data with
``await on_trade(print)`` (fills resting limit orders as maker) and ``set_orderbook``
(takers walk it); read fills from ``on_fill`` or ``get_order``. With a
store, ``await PaperExchange.load(store, start_krw=...)`` restores the account after a restart.
"""

from trading.paper.exchange import PaperExchange
from trading.paper.orders import PaperFill
from trading.paper.persist import STATE_KEY

__all__ = ["STATE_KEY", "PaperExchange", "PaperFill"]
