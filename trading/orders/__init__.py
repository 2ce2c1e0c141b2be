"""Order execution: place through the risk-checked intent, track fills, reconcile on start."""

from trading.orders.manager import OrderManager
from trading.orders.reconcile import ReconcileReport, reconcile
from trading.orders.reports import FillReport, fill_from_my_order, fills_from_order

__all__ = [
    "FillReport",
    "OrderManager",
    "ReconcileReport",
    "fill_from_my_order",
    "fills_from_order",
    "reconcile",
]
