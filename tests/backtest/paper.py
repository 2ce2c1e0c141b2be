"""Run the live engine in paper replay mode over a candle file and list its round trips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from trading.engine.build import EngineSpec, assemble
from trading.events import Event, OrderFilled
from trading.marketdata.replay import ReplayFeed, ReplayFile
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import Strategy
from trading.upbit.market_rules import UpbitMarketRules


@dataclass(frozen=True, slots=True)
class Fill:
    market: str
    side: str
    at: datetime
    price: Decimal
    volume: Decimal
    fee: Decimal


async def paper_fills(
    tmp: Path,
    files: list[tuple[str, Path]],
    *,
    strategy: Strategy[Any],
    limits: RiskLimits,
    timeframe: str,
    start: datetime,
    end: datetime,
    events: list[Event] | None = None,
    **spec: Any,
) -> list[Fill]:
    """Every fill of a paper replay of ``files`` (market, candle file) from ``start`` to
    ``end``: the engine, its inbox, the paper exchange and a SQLite store, as the bot runs.
    ``events``: a list to collect every event of the run in."""
    url = f"sqlite+aiosqlite:///{tmp / 'paper.db'}"
    await upgrade(url)
    db = create_engine(url)
    events = [] if events is None else events
    try:
        rig = await assemble(
            EngineSpec(
                markets=tuple(m for m, _ in files), timeframe=timeframe, paper=True, **spec
            ),
            strategy=strategy,
            limits=limits,
            store=Store(session_factory(db)),
            sink=events.append,
            rules=UpbitMarketRules(),
        )
        rig.loop.start()
        feed = ReplayFeed(
            [ReplayFile(path, market, timeframe) for market, path in files], start=start, end=end
        )
        await feed.start()
        count = 0
        async for print_ in feed.prints():
            rig.loop.put_print(print_)
            count += 1
            if count % 200 == 0:
                await rig.loop.drain()
        await feed.stop()
        await rig.loop.drain()
        await rig.loop.stop()
        assert rig.loop.errors == 0
    finally:
        await db.dispose()
    return [
        Fill(e.market, e.side, e.at.astimezone(UTC), e.price, e.volume, e.fee)
        for e in events
        if isinstance(e, OrderFilled)
    ]
