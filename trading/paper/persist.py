"""The paper account as one JSON document in ``Store`` bot state, so a restart keeps it exactly.

Decimals are strings (JSON numbers are binary floats). Open orders and the last finished ones
are kept with their trades; identifiers are kept forever because Upbit never accepts one twice.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from trading.paper.ledger import Ledger
from trading.paper.orders import PaperOrder

if TYPE_CHECKING:
    from trading.paper.exchange import PaperExchange

STATE_KEY = "paper_exchange"
FORMAT = 1


class StateStore(Protocol):
    """The part of ``trading.store.Store`` the paper exchange needs."""

    async def get_state(self, key: str, default: Any = None) -> Any: ...

    async def set_state(self, key: str, value: Any) -> None: ...


def dump_state(exchange: PaperExchange) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "seq": exchange.seq,
        "ledger": exchange.ledger.to_json(),
        "orders": [o.to_json() for o in sorted(exchange.orders.values(), key=lambda o: o.seq)],
        "closed": list(exchange.closed),
        "identifiers": sorted(exchange.used_identifiers),
    }


def restore_state(exchange: PaperExchange, data: dict[str, Any]) -> None:
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown paper exchange state format {data.get('format')!r}")
    exchange.seq = int(data["seq"])
    exchange.ledger = Ledger.from_json(data["ledger"])
    exchange._matcher.ledger = exchange.ledger
    exchange.orders = {}
    exchange.by_identifier = {}
    for row in data["orders"]:
        order = PaperOrder.from_json(row)
        exchange.orders[order.uuid] = order
        if order.identifier is not None:
            exchange.by_identifier[order.identifier] = order.uuid
    exchange.closed = deque(u for u in data["closed"] if u in exchange.orders)
    exchange.used_identifiers = set(data["identifiers"])
