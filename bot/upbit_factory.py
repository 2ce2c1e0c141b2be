"""Build the Upbit adapter from config: the one place config keys meet client parameters."""

from __future__ import annotations

from bot.config import AppConfig
from trading.circuit import CircuitBreaker
from trading.events import EventSink
from trading.upbit.auth import Credentials
from trading.upbit.constants import MAX_CANDLES_PER_CALL, QUOTATION_GROUPS
from trading.upbit.ratelimit import RateLimiter
from trading.upbit.rest import RequestObserver, UpbitRestClient
from trading.upbit.retry import RetryPolicy

#: candles per request Upbit serves at most: the history downloader's page size (the
#: downloader is venue-neutral and takes it from here)
CANDLE_PAGE_SIZE = MAX_CANDLES_PER_CALL


def credentials(config: AppConfig) -> Credentials | None:
    access, secret = config.secrets.upbit_access_key, config.secrets.upbit_secret_key
    if access is None or secret is None:
        return None
    return Credentials(access.get_secret_value(), secret.get_secret_value())


def rest_client(
    config: AppConfig, on_event: EventSink, *, on_request: RequestObserver | None = None
) -> UpbitRestClient:
    up = config.upbit
    rates: dict[str, float] = {g: float(up.quotation_rate_per_s) for g in QUOTATION_GROUPS}
    rates["default"] = float(up.exchange_rate_per_s)
    rates["order"] = float(up.order_rate_per_s)
    return UpbitRestClient(
        up.rest_url,
        credentials=credentials(config),
        timeout_s=up.request_timeout_s,
        connect_timeout_s=up.connect_timeout_s,
        retry=RetryPolicy(up.max_read_retries, up.backoff_base_s, up.backoff_max_s),
        limiter=RateLimiter(rates, on_event=on_event),
        circuit=CircuitBreaker(
            failure_threshold=up.circuit_failure_threshold,
            reset_s=up.circuit_reset_s,
            on_event=on_event,
        ),
        on_event=on_event,
        on_request=on_request,
    )
