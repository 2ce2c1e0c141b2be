"""What the metrics read at scrape time, attached by ``App`` as each part starts.

Everything is optional: a part that is not running (no REST client in a replay, no chat
transport) simply has no series, rather than a made-up zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.metrics.views import RateLimiterView, StreamView
from bot.notify.notifier import Notifier
from trading.bus import EventBus
from trading.circuit import CircuitBreaker
from trading.engine.facade import EngineFacade
from trading.engine.loop import EngineLoop
from trading.store import Store


def _no_streams() -> Sequence[StreamView]:
    return ()


def _no_notifier() -> Notifier | None:
    return None


@dataclass(slots=True)
class Sources:
    facade: EngineFacade | None = None
    store: Store | None = None  # order lookups for cancels and rejections
    engine_loop: EngineLoop | None = None
    limiter: RateLimiterView | None = None
    circuit: CircuitBreaker | None = None
    bus: EventBus | None = None
    streams: Callable[[], Sequence[StreamView]] = _no_streams
    notifier: Callable[[], Notifier | None] = _no_notifier
    loop_lag_s: Callable[[], float] | None = None
    #: typed name -> the command's canonical name, None when no such command exists
    command_name: Callable[[str], str | None] | None = None
    #: chat platform -> its token still accepted (``TokenWatch.ready``)
    chat_ready: Callable[[], Mapping[str, bool]] | None = None
