"""The engine's warm-up: enough closed candles for the strategy (and the ATR a stop needs).

The candle history is sized when the engine is built, from the strategy's warm-up then. A
live ``/set`` (or ``/undo``, or a stored override restored at start) may lengthen the warm-up
past what the history holds, or even past what it can hold: the engine would then stay
silent, candle after candle, with nobody told. So after every such change ``lengthen``

1. grows every builder's capacity to the new warm-up (nothing is dropped: history only
   grows), so the strategy is warm again at the latest after ``missing`` live candles;
2. backfills the missing older candles over REST (as the start does), when the engine has a
   candle source: the strategy then continues at its next candle;
3. says which markets still warm up and for how many candles (``Warming``), which the
   ``/set`` reply and ``/status`` show; a failed backfill is logged and leaves them warming.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trading.engine.core import Engine
from trading.errors import UpbitError
from trading.timeframes import timeframe_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Warming:
    """A market whose history is shorter than the strategy needs: no signal on it yet."""

    market: str
    held: int  # closed candles held now
    needed: int  # closed candles before the first signal
    timeframe_s: int

    @property
    def missing(self) -> int:
        return self.needed - self.held

    @property
    def seconds_left(self) -> int:
        """At the latest this long until the first signal (one candle closes per timeframe)."""
        return self.missing * self.timeframe_s


@dataclass(frozen=True, slots=True)
class Lengthened:
    """What ``lengthen`` did: candles loaded over REST per market, and who still warms up."""

    loaded: dict[str, int] = field(default_factory=dict)
    warming: tuple[Warming, ...] = ()


def warming(engine: Engine) -> tuple[Warming, ...]:
    """The traded markets whose history is shorter than the warm-up, in ``traded`` order."""
    needed = engine.bars_needed()
    seconds = timeframe_seconds(engine.config.timeframe)
    md = engine.market_data
    out = []
    for market in engine.traded:
        if market not in md.markets:
            continue
        held = len(md.history(market))
        if held < needed:
            out.append(Warming(market, held, needed, seconds))
    return tuple(out)


def reserve(engine: Engine) -> None:
    """Every builder can hold the current warm-up (synchronous: before any await, so no
    candle closing meanwhile can push the oldest one out)."""
    engine.market_data.reserve(engine.bars_needed())


async def lengthen(engine: Engine) -> Lengthened:
    """Make room for the current warm-up and backfill what is missing (see the module)."""
    reserve(engine)
    short = warming(engine)
    md = engine.market_data
    if not short or md.client is None:
        return Lengthened(warming=short)
    loaded: dict[str, int] = {}
    for gap in short:
        try:
            got = await md.warm_up(gap.missing, markets=(gap.market,))
        except (UpbitError, ValueError, OSError) as exc:  # live candles still warm it up
            log.warning("%s: history not lengthened over REST: %s", gap.market, exc)
            continue
        loaded.update(got)
    still = warming(engine)
    log.info(
        "warm-up of %d candles: loaded over REST %s, still warming %s",
        engine.bars_needed(),
        loaded,
        [w.market for w in still],
    )
    return Lengthened(loaded, still)


__all__ = ["Lengthened", "Warming", "lengthen", "reserve", "warming"]
