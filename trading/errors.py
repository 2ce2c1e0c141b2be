"""Exchange errors, grouped by what the caller does about them, and the one order refusal
that is not the exchange's.

::

    TradingError                     an order or a read that did not happen; ``name``, ``message``
    ├── NotLeader                    this instance lost (or never held) the leader lock: no order
    └── UpbitError                   carries Upbit's ``name``, ``message`` and HTTP status
    ├── TransientError               safe to retry a read; an order POST is resolved by identifier
    │   ├── NetworkError             connection refused/reset, response lost
    │   │   └── RequestTimeout       no answer within the configured timeout
    │   ├── ServerError              5xx
    │   ├── RateLimited              429 (``retry_after`` seconds)
    │   └── Banned                   418: the whole rate-limit group is blocked until ``until``
    ├── CircuitOpen                  the client refuses calls fast after repeated failures
    ├── AuthError                    401/403 auth names: keys, nonce, IP allow-list, scope
    ├── NotFound                     404 (``order_not_found``, unknown market code)
    ├── ValidationError              400 the request itself is wrong (parameters, types)
    ├── OrderRejected                the exchange (or our pre-send check) refused an order
    │   ├── InsufficientFunds        ``insufficient_funds_bid/ask``
    │   ├── BelowMinTotal            ``under_min_total_bid/ask`` (5,000 KRW)
    │   ├── InvalidPrice             ``invalid_price_bid/ask`` (off the tick grid)
    │   ├── InvalidOrder             parameter combinations, time-in-force, max total, identifier
    │   ├── MarketOffline            403 ``market_offline`` (maintenance, suspended pair)
    │   ├── RefusedBefore            ours: this very body was refused within the hour
    │   └── OrderingSuspended        ours: the market reached its hourly bound of refusals
    └── OrderOutcomeUnknown          an order may or may not exist; reconciliation must decide

``raise_for_upbit_error`` is the one place that maps a response to this tree.

Each class names its ``code`` (the catalog entry ``refusal.<code>`` a user reads in their
language) and ``values()`` fills it: the venue's own error name and HTTP status are shown as a
value (``insufficient_funds_bid, HTTP 400``), never its English sentence.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import ClassVar


class TradingError(Exception):
    """An order (or a read) that did not happen, whoever refused it; the order path ends the
    intent on any of them. ``name`` is a short code (Upbit's ``error.name`` for its errors)."""

    #: the catalog entry ``refusal.<code>`` this error is shown as; one per class below
    code: ClassVar[str] = "trading_error"

    def __init__(self, message: str, *, name: str | int = "") -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    def values(self) -> dict[str, str]:
        """The fields of ``refusal.<code>``: ``venue`` is the exchange's own name for the
        error (and its HTTP status), ``-`` when there is none."""
        return {"venue": self.venue()}

    def venue(self) -> str:
        return str(self.name) if self.name != "" else "-"

    def __str__(self) -> str:
        return f"{self.message} [{self.name}]" if self.name != "" else self.message


class NotLeader(TradingError):
    """Refused before sending: another instance may lead, so this one must not place orders.
    Not an exchange error: nothing left the process, and no exchange is to blame."""

    code = "not_leader"

    def __init__(self, message: str) -> None:
        super().__init__(message, name="not_leader")


class UpbitError(TradingError):
    """Base of every exchange error; ``name`` is Upbit's ``error.name`` (int for quotation)."""

    code = "exchange_error"

    def __init__(self, message: str, *, name: str | int = "", status: int | None = None) -> None:
        super().__init__(message, name=name)
        self.status = status

    def __str__(self) -> str:
        text = super().__str__()
        return text if self.status is None else f"{text} (HTTP {self.status})"

    def venue(self) -> str:
        parts = [str(self.name)] if self.name != "" else []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        return ", ".join(parts) or "-"


class TransientError(UpbitError):
    """A failure that may go away: reads are retried, order POSTs are looked up by identifier."""

    code = "exchange_unavailable"


class NetworkError(TransientError):
    code = "exchange_network"


class RequestTimeout(NetworkError):
    code = "exchange_timeout"


class ServerError(TransientError):
    code = "exchange_server"


class RateLimited(TransientError):
    code = "exchange_rate_limited"

    def __init__(
        self,
        message: str,
        *,
        group: str,
        retry_after: float = 1.0,
        name: str | int = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, name=name, status=status)
        self.group = group
        self.retry_after = retry_after

    def values(self) -> dict[str, str]:
        return {**super().values(), "seconds": f"{self.retry_after:g}"}


class Banned(TransientError):
    code = "exchange_banned"

    def __init__(
        self,
        message: str,
        *,
        group: str,
        until: datetime,
        name: str | int = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, name=name, status=status)
        self.group = group
        self.until = until

    def values(self) -> dict[str, str]:
        return {**super().values(), "until": self.until.isoformat(timespec="seconds")}


class CircuitOpen(UpbitError):
    code = "exchange_circuit_open"


class AuthError(UpbitError):
    code = "exchange_auth"


class NotFound(UpbitError):
    code = "exchange_not_found"


class ValidationError(UpbitError):
    code = "exchange_invalid_request"


class OrderRejected(UpbitError):
    code = "order_rejected"


class InsufficientFunds(OrderRejected):
    code = "order_insufficient_funds"


class BelowMinTotal(OrderRejected):
    code = "order_below_min_total"


class InvalidPrice(OrderRejected):
    code = "order_invalid_price"


class InvalidOrder(OrderRejected):
    code = "order_invalid"


class MarketOffline(OrderRejected):
    code = "order_market_offline"


class RefusedBefore(OrderRejected):
    """Not sent: Upbit refused this very order body within the window; it would again."""

    code = "order_refused_before"

    def __init__(self, message: str, *, refused_as: str | int) -> None:
        super().__init__(message, name="refused_before")
        self.refused_as = refused_as

    def venue(self) -> str:
        return str(self.refused_as)


class OrderingSuspended(OrderRejected):
    """Not sent: the market's orders were refused too often; an operator's ``/resume`` lifts."""

    code = "order_suspended"

    def __init__(self, message: str, *, market: str) -> None:
        super().__init__(message, name="market_suspended")
        self.market = market

    def values(self) -> dict[str, str]:
        return {**super().values(), "market": self.market}


class OrderOutcomeUnknown(UpbitError):
    """Raised when neither the create call nor the identifier lookups could settle an order."""

    code = "order_outcome_unknown"

    def __init__(self, message: str, *, identifier: str) -> None:
        super().__init__(message, name="outcome_unknown")
        self.identifier = identifier

    def values(self) -> dict[str, str]:
        return {**super().values(), "identifier": self.identifier}


_EXACT: dict[str, type[UpbitError]] = {
    "invalid_query_payload": AuthError,
    "jwt_verification": AuthError,
    "expired_access_key": AuthError,
    "nonce_used": AuthError,
    "no_authorization_ip": AuthError,
    "no_authorization_i_p": AuthError,
    "no_authorization_token": AuthError,
    "invalid_access_key": AuthError,
    "out_of_scope": AuthError,
    "thirdparty_agreement_required": AuthError,
    "order_not_found": NotFound,
    "notfoundmarket": InvalidOrder,
    "market_offline": MarketOffline,
    "invalid_time_in_force": InvalidOrder,
    "create_bid_error": InvalidOrder,
    "create_ask_error": InvalidOrder,
    "over_krw_funds_bid": InvalidOrder,
    "over_krw_funds_ask": InvalidOrder,
    "volume_too_large": InvalidOrder,
    "invalid_funds": InvalidOrder,
    "validation_error": ValidationError,
    "invalid_parameter": ValidationError,
}
_PREFIX: tuple[tuple[str, type[UpbitError]], ...] = (
    ("insufficient_funds", InsufficientFunds),
    ("under_min_total", BelowMinTotal),
    ("invalid_price", InvalidPrice),
    ("duplicate", InvalidOrder),
    ("identifier", InvalidOrder),
)
_BY_STATUS: dict[int, type[UpbitError]] = {
    400: ValidationError,
    401: AuthError,
    403: AuthError,
    404: NotFound,
}
_BAN_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:초|s\b|sec|second)", re.IGNORECASE)


def parse_error_body(body: bytes) -> tuple[str | int, str]:
    """Return ``(name, message)``; tolerate plain-text bodies (429s often are) and odd shapes."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return "", text or "(empty body)"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        name = err.get("name", "")
        if not isinstance(name, str | int):
            name = str(name)
        return name, str(err.get("message", ""))
    return "", text


def ban_seconds(message: str, default: float = 60.0) -> float:
    """How long a 418 ban lasts, read from Upbit's message when it says."""
    match = _BAN_SECONDS.search(message)
    return float(match.group(1)) if match else default


def raise_for_upbit_error(status: int, body: bytes, *, group: str) -> None:
    """Raise the exception for a non-2xx response; do nothing for success."""
    if status < 400:
        return
    name, message = parse_error_body(body)
    if status == 429:
        raise RateLimited(message or "Too many requests", group=group, name=name, status=status)
    if status == 418:
        until = datetime.now(UTC) + timedelta(seconds=ban_seconds(message))
        raise Banned(message or "Blocked", group=group, until=until, name=name, status=status)
    if status >= 500:
        raise ServerError(message or "Upbit server error", name=name, status=status)
    cls: type[UpbitError] | None = None
    if isinstance(name, str) and name:
        cls = _EXACT.get(name)
        if cls is None:
            cls = next((c for prefix, c in _PREFIX if name.startswith(prefix)), None)
    if cls is None:
        cls = _BY_STATUS.get(status, UpbitError)
    raise cls(message or f"HTTP {status}", name=name, status=status)
