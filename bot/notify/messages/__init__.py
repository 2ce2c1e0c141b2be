"""Events as messages: one small function per event class, registered for its type.

Importing the package registers every function in ``RENDERINGS`` (``table.py``); the texts
come from the language catalogs (``notify.*``), through the ``Renderer`` each function gets.
To push a new event, add one function to the module of its topic.
"""

from bot.notify.messages import health, orders, reports, risk
from bot.notify.messages.table import RENDERINGS, Render, renders

__all__ = ["RENDERINGS", "Render", "health", "orders", "renders", "reports", "risk"]
