"""One small function per event class, found by the event's type: what replaces a ``match``
over every event in the renderer, the console log and the metrics.

A module makes a table (``RENDERINGS = ByEvent[Render]()``) and registers each function under
the classes it handles (``@RENDERINGS.on(OrderFilled)``); the tests walk every event class and
check the tables that must cover it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from trading.events import Event

F = TypeVar("F", bound=Callable[..., object])


class ByEvent(Generic[F]):
    """Functions keyed by event class; an event's exact type finds its function."""

    def __init__(self) -> None:
        self._by_type: dict[type[Event], F] = {}

    def on(self, *types: type[Event]) -> Callable[[F], F]:
        """Register the decorated function for ``types`` (each at most once)."""

        def register(fn: F) -> F:
            for cls in types:
                if cls in self._by_type:
                    raise ValueError(f"{cls.__name__} is registered twice")
                self._by_type[cls] = fn
            return fn

        return register

    def get(self, cls: type[Event]) -> F | None:
        return self._by_type.get(cls)

    def types(self) -> frozenset[type[Event]]:
        return frozenset(self._by_type)
