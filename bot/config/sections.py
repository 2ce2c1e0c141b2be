"""The config sections except ``risk``: every key, its default and its bounds.

Each ``Field`` description is the one-line comment of ``config.example.toml``; defaults follow
docs/shared design. Models are frozen: a change is a new, fully validated config.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config import fields as f
from bot.notify.kinds import KINDS as NOTIFY_KINDS
from trading.orders.refusals import REFUSALS_PER_HOUR
from trading.store.retention import TABLES as RETENTION_TABLES
from trading.timeframes import timeframe_seconds

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Severity = Literal["info", "warning", "critical"]
NotifyLevel = Literal["on", "silent", "off"]
Market = Annotated[str, AfterValidator(f.check_market)]
MarketOrTop = Annotated[str, AfterValidator(f.check_market_or_top)]


def _param(value: Any) -> Any:
    """Strategy parameters are scalars; TOML's Decimal floats become float for numpy."""
    if isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    raise ValueError("must be a number, true/false or a string")


ParamValue = Annotated[bool | int | float | str, BeforeValidator(_param)]

#: the shortest keep of a table, and why: what the bot itself reads back from it
RETENTION_FLOORS: dict[str, tuple[int, str]] = {
    "equity_snapshots": (30, "the monthly report reads 30 days of equity"),
    "candles": (90, "/backtest and /optimize read up to 90 days of candles"),
}

#: Appended to bound errors so the user learns why a bound exists.
BOUND_NOTES: dict[str, str] = {
    **{f"retention.{table}_days": why for table, (_, why) in RETENTION_FLOORS.items()},
    "risk.position_size_krw": "Upbit's minimum order total",
    "upbit.order_rate_per_s": "Upbit's order rate limit",
    "upbit.exchange_rate_per_s": "Upbit's exchange API rate limit",
    "upbit.quotation_rate_per_s": "Upbit's quotation API rate limit",
}


def _kinds(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(NOTIFY_KINDS))
    if unknown:
        raise ValueError(
            f"unknown event kind(s) {', '.join(unknown)} (known: {', '.join(NOTIFY_KINDS)})"
        )
    return value


#: A ``[notify]`` table of event kind -> level (``notify.events``, ``notify.<transport>``).
Levels = Annotated[dict[str, NotifyLevel], AfterValidator(_kinds)]


def cross_error(message: str) -> PydanticCustomError:
    """An already formatted multi-key message; the loader prints it verbatim."""
    return PydanticCustomError("config_cross", message)


class Section(BaseModel):
    """Base of every section: unknown keys are errors, instances never change."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class BotConfig(Section):
    """Process-wide behaviour: trading mode, markets, language, logging, market data feed."""

    mode: Literal["paper", "live"] = Field(
        "paper",
        description='paper = simulated fills, no keys; live = real orders (keys, feed = "upbit")',
    )
    language: Literal["ko", "en"] = Field("ko", description="language of chat replies and reports")
    timezone: str = Field("Asia/Seoul", description="IANA zone for schedules and halt windows")
    markets: tuple[MarketOrTop, ...] = Field(
        ("KRW-BTC",),
        max_length=50,
        description='Upbit KRW markets to trade, or "top:N": the N KRW markets of the highest'
        " 24-hour traded value without an Upbit warning or delisting (N 1..50; needs"
        ' feed = "upbit")',
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_json: bool = Field(False, description="log one JSON object per line (for collectors)")
    identifier_prefix: str = Field(
        "ubot",
        min_length=1,
        max_length=12,
        description="prefix of Upbit order identifiers, [a-z0-9-], tells our orders apart",
    )
    feed: Literal["upbit", "replay"] = Field(
        "replay", description="market data source: upbit (live WebSocket) or replay (a file)"
    )
    replay_file: str = Field(
        "", description='recorded candles for feed = "replay"; "" = the bundled KRW-BTC file'
    )
    replay_speed: str = Field("max", description='replay pace: "max" or a multiplier like "60x"')
    cancel_orders_on_stop: bool = Field(
        False, description="cancel open orders on shutdown (false = leave them on the exchange)"
    )
    # market universe (issue #13): how often "top:N" is chosen again
    universe_refresh_s: float = Field(
        3600.0,
        ge=60,
        le=86400,
        description='markets = "top:N": rank the KRW markets again this often (joiners are'
        " subscribed and warmed up; a leaver with a position keeps it until its own exit)",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("identifier_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return f.check_pattern(value, r"[a-z0-9-]+", 'must use only a-z, 0-9 and "-"')

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return f.check_timezone(value)

    @field_validator("markets", mode="before")
    @classmethod
    def _top(cls, value: object) -> object:
        """``"top:N"`` (or one market code) as text stands for a one-item list."""
        if isinstance(value, str):
            f.top_n(value)  # N out of bounds: said for the value as the user wrote it
            return (value,)
        return value

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one market")
        if len(value) > 1 and any(f.top_n(m) is not None for m in value):
            raise ValueError('"top:N" stands alone: it cannot be mixed with market codes')
        dupes = sorted({m for m in value if value.count(m) > 1})
        if dupes:
            raise ValueError(f"lists {', '.join(dupes)} more than once")
        return value

    @property
    def top_n(self) -> int | None:
        """N of ``markets = "top:N"``; None for a fixed list."""
        return f.top_n(self.markets[0]) if len(self.markets) == 1 else None

    @property
    def fixed_markets(self) -> tuple[str, ...]:
        """The markets of a fixed list; () for ``"top:N"`` (chosen at start, from Upbit)."""
        return () if self.top_n is not None else self.markets

    @field_validator("replay_speed")
    @classmethod
    def _speed(cls, value: str) -> str:
        f.replay_factor(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def replay_factor(self) -> float | None:
        """Replay speed multiplier, None = as fast as possible."""
        return f.replay_factor(self.replay_speed)


class UpbitConfig(Section):
    """Upbit endpoints, timeouts, retries, circuit breaker, rate limits and WebSocket health."""

    rest_url: str = Field("https://api.upbit.com", description="REST base; paths add /v1/...")
    ws_url: str = Field("wss://api.upbit.com/websocket/v1", description="public WebSocket")
    ws_private_url: str = Field(
        "wss://api.upbit.com/websocket/v1/private", description="private WebSocket (myOrder)"
    )
    request_timeout_s: float = Field(5.0, gt=0, le=60, description="whole-request timeout")
    connect_timeout_s: float = Field(3.0, gt=0, le=60, description="TCP/TLS connect timeout")
    max_read_retries: int = Field(3, ge=0, le=10, description="retries of GETs (never orders)")
    backoff_base_s: float = Field(0.2, gt=0, le=60, description="first retry backoff (jittered)")
    backoff_max_s: float = Field(5.0, gt=0, le=300, description="cap of the retry backoff")
    circuit_failure_threshold: int = Field(
        5, ge=1, le=100, description="consecutive failures that open the circuit breaker"
    )
    circuit_reset_s: float = Field(30.0, gt=0, le=3600, description="open circuit probe delay")
    order_rate_per_s: int = Field(
        12, ge=1, le=12, description="order requests per second (Upbit allows 12 since 2026-08)"
    )
    exchange_rate_per_s: int = Field(30, ge=1, le=30, description="other private API calls/s")
    quotation_rate_per_s: int = Field(10, ge=1, le=10, description="public API calls/s per group")
    ws_ping_interval_s: float = Field(20.0, gt=0, le=120, description="WebSocket ping interval")
    ws_stale_after_s: float = Field(
        30.0, gt=0, le=600, description="reconnect when no message arrives for this long"
    )
    ws_reconnect_max_s: float = Field(30.0, gt=0, le=600, description="cap of reconnect backoff")
    order_poll_s: float = Field(
        5.0, gt=0, le=600, description="REST check of open orders (fallback to myOrder)"
    )
    market_status_poll_s: float = Field(
        600.0,
        ge=1,
        le=86400,
        description="read Upbit's warnings and delisting dates this often (live, feed upbit)",
    )
    balance_check_s: float = Field(
        60.0,
        ge=5,
        le=3600,
        description="compare the account's balances with the book this often (and at once "
        "after an insufficient-funds refusal); a smaller balance is adopted",
    )
    max_refused_orders_per_hour: int = Field(
        REFUSALS_PER_HOUR,
        ge=1,
        le=20,
        description="order requests Upbit may refuse per market and hour; the one that "
        "reaches it suspends the market's orders until /resume",
    )

    @field_validator("rest_url")
    @classmethod
    def _rest(cls, value: str) -> str:
        return f.check_url(value, f.HTTP_SCHEMES).rstrip("/")

    @field_validator("ws_url", "ws_private_url")
    @classmethod
    def _ws(cls, value: str) -> str:
        return f.check_url(value, f.WS_SCHEMES)

    @model_validator(mode="after")
    def _backoff(self) -> UpbitConfig:
        if self.backoff_base_s > self.backoff_max_s:
            raise cross_error(
                f"upbit.backoff_base_s = {self.backoff_base_s}: must be <= upbit.backoff_max_s"
                f" ({self.backoff_max_s})"
            )
        return self


class StrategyConfig(Section):
    """Which strategy trades, on which candles, with which parameters."""

    name: str = Field(
        "ma_cross", pattern=r"^[a-z][a-z0-9_]*$", description="built-in strategy name"
    )
    timeframe: str = Field("1m", description="candle length: 1s, 5s, 1m, 15m, 1h, 4h, 1d, ...")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="strategy parameters; empty = the strategy's defaults"
    )
    file: str = Field(
        "",
        description=(
            'path to a user strategy .py file; "" = use name. It runs as Python inside the bot'
            " with every secret in its environment: only your own code, in a file of the bot's"
            " user (or root) that neither it nor its folder lets others write"
        ),
    )

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        timeframe_seconds(value)
        return value

    @property
    def timeframe_seconds(self) -> int:
        return timeframe_seconds(self.timeframe)


class ReportConfig(Section):
    """The daily PnL report pushed to every notify channel."""

    enabled: bool = Field(True, description="send the daily report")
    daily_time: time = Field(time(9, 0), description='"HH:MM" in bot.timezone')
    include_chart: bool = Field(True, description="attach an equity chart image")
    snapshot_every_s: int = Field(
        300, ge=10, le=86400, description="equity snapshot for the chart every this many seconds"
    )

    @field_validator("daily_time", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return f.parse_clock(value)


class HttpConfig(Section):
    """Health, readiness, metrics, read-only JSON API and dashboard; token UPBIT_BOT_API_TOKEN."""

    enabled: bool = Field(True, description="serve /healthz, /readyz, /metrics, the API")
    host: str = Field("127.0.0.1", min_length=1, description="listen address")
    port: int = Field(8080, ge=1, le=65535, description="listen port")
    loop_stale_s: float = Field(
        5.0, gt=0, le=300, description="/healthz fails when the event loop lags this long"
    )
    feed_stale_candles: int = Field(
        5, ge=1, le=1000, description="/readyz fails after this many candles without a trade"
    )
    store_timeout_s: float = Field(
        2.0, gt=0, le=60, description="/readyz: the store must answer SELECT 1 within this"
    )
    exchange_down_s: float = Field(
        300.0, gt=0, le=86400, description="/readyz fails when Upbit's circuit is open this long"
    )
    metrics_auth: bool = Field(
        False,
        description=(
            "/metrics requires UPBIT_BOT_API_TOKEN as a bearer token (it shows equity and PnL;"
            " Prometheus: authorization.credentials_file)"
        ),
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="a new connection must send a whole request header within this",
    )
    body_timeout_s: float = Field(
        10.0, gt=0, le=600, description="a request body must arrive within this"
    )
    keepalive_timeout_s: float = Field(
        75.0,
        gt=0,
        le=3600,
        description=(
            "an idle keep-alive connection is closed after this (longer than Prometheus'"
            " scrape interval, so scrapes reuse their connection)"
        ),
    )
    max_connections: int = Field(
        100,
        ge=4,
        le=10000,
        description=(
            "open connections at most (and a quarter of ulimit -n); at the cap a new one"
            " closes the one waiting longest for its header, so /healthz still answers"
        ),
    )
    max_body_bytes: int = Field(
        65536, ge=1024, le=16 * 1024 * 1024, description="a larger request body gets 413"
    )
    max_header_bytes: int = Field(
        8190, ge=1024, le=65536, description="a longer request line or header field gets 400"
    )


class StoreConfig(Section):
    """Where orders, fills, positions and the audit log are kept."""

    url: str = Field(
        "sqlite+aiosqlite:///data/upbit-bot.db",
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    echo: bool = Field(False, description="log every SQL statement")
    failover_s: float = Field(
        15.0, gt=0, le=3600, description="PostgreSQL: seconds before a standby takes the lead"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return f.check_store_url(value)


class PaperConfig(Section):
    """The simulated account of paper mode (real market data, simulated fills)."""

    start_krw: Decimal = Field(
        Decimal(10_000_000), ge=5000, le=Decimal(10) ** 12, description="starting KRW balance"
    )
    slippage_bps: Decimal = Field(
        Decimal(5), ge=0, le=1000, description="market-order slippage when there is no book"
    )
    fee_rate: Decimal = Field(
        Decimal("0.0005"), ge=0, le=Decimal("0.01"), description="fee per fill (Upbit KRW: 0.05%)"
    )


class NotifyBase(Section):
    """How events become chat messages: which kinds, how loud, pacing, coalescing, retries.

    The root config adds each transport's table of levels (``notify.<transport>``) and its
    own keys (``TransportKind.notify_fields``) to this base as ``NotifyConfig``."""

    min_severity: Severity = Field("info", description="info, warning or critical")
    events: Levels = Field(
        default_factory=dict,
        description=(
            'per event kind, every transport: "on", "silent" (no sound) or "off", e.g.'
            ' { feed = "off", fill = "silent" }; kinds: ' + ", ".join(NOTIFY_KINDS)
        ),
    )
    console: Levels = Field(
        default_factory=dict, description="per event kind for the console (over notify.events)"
    )
    max_per_minute: int = Field(
        20, ge=1, le=600, description="messages per chat per minute (Telegram groups: 20)"
    )
    min_interval_s: float = Field(
        1.0, ge=0, le=60, description="seconds between two messages in one chat (platforms: 1)"
    )
    coalesce_s: float = Field(5.0, ge=0, le=3600, description="merge bursts within this window")
    retry_max: int = Field(
        3, ge=0, le=10, description="retries of a failed send (critical ones retry until sent)"
    )
    backoff_base_s: float = Field(
        1.0, gt=0, le=60, description="first retry delay after a network error (jittered)"
    )
    backoff_max_s: float = Field(300.0, gt=0, le=3600, description="cap of the retry delay")
    late_after_s: float = Field(
        60.0, gt=0, le=86400, description='mark messages delivered later than this "(late: ...)"'
    )
    max_queue: int = Field(
        1000, ge=10, le=1_000_000, description="unsent messages before non-critical ones are shed"
    )
    stop_grace_s: float = Field(
        5.0, ge=0, le=300, description="on shutdown, keep sending this long; the rest waits"
    )

    @model_validator(mode="after")
    def _backoff(self) -> NotifyBase:
        if self.backoff_base_s > self.backoff_max_s:
            raise cross_error(
                f"notify.backoff_base_s = {self.backoff_base_s}: must be <= notify.backoff_max_s"
                f" ({self.backoff_max_s})"
            )
        return self

    def transport_key(self, key: str) -> Any:
        """A key a transport added to ``[notify]`` (``TransportKind.notify_fields``)."""
        return getattr(self, key)


class RetentionConfig(Section):
    """How long rows are kept; orders, fills and positions are kept forever (not here)."""

    enabled: bool = Field(True, description="delete old rows daily and once at start")
    daily_time: time = Field(
        time(4, 30), description='"HH:MM" in bot.timezone: the quiet hour retention runs at'
    )
    notifications_days: int = Field(
        30, ge=1, le=36500, description="delivered or dropped messages; unsent ones stay"
    )
    audit_log_days: int = Field(365, ge=1, le=36500, description="the chat command audit log")
    equity_snapshots_days: int = Field(
        400, ge=RETENTION_FLOORS["equity_snapshots"][0], le=36500, description="equity curve"
    )
    balance_snapshots_days: int = Field(90, ge=1, le=36500, description="account snapshots")
    candles_days: int = Field(
        365,
        ge=RETENTION_FLOORS["candles"][0],
        le=36500,
        description="downloaded candles; the newest 1,000 of each series always stay",
    )
    batch_rows: int = Field(
        1000,
        ge=100,
        le=100_000,
        description="rows deleted per transaction (SQLite: ~10 ms of write lock per 1,000)",
    )

    @field_validator("daily_time", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return f.parse_clock(value)

    def keep(self) -> dict[str, timedelta]:
        """Each pruned table's keep, for ``trading.store.retention.Retention``."""
        return {t: timedelta(days=getattr(self, f"{t}_days")) for t in RETENTION_TABLES}
