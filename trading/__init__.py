"""The trading engine: Upbit adapter, market data, risk, orders, store. Knows nothing of chat."""
