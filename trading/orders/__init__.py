"""Order execution: place through the risk-checked intent, track fills, reconcile on start."""

from trading.orders.manager import OrderManager
from trading.orders.reconcile import reconcile

__all__ = ["OrderManager", "reconcile"]
