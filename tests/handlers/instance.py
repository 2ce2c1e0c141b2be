"""One bot instance as a restart sees it: a paper engine assembled like the bot's, its facade
restored from the store, a dispatcher in front. Starting a second one on the same store is a
restart (or, on PostgreSQL, the standby taking over); prints are placed on the tape by hand so
the test decides the market's moves and its clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from handlers.auth import Authorizer, Principal
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.reply import Reply
from tests.engine.conftest import limits
from tests.handlers.conftest import OPERATOR, VIEWER, Clock, policies
from trading.domain import TradePrint
from trading.engine.build import EngineRig, EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.events import Event, RiskBreached
from trading.positions import PositionState
from trading.risk.limits import RiskLimits
from trading.store import Store
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

KST = ZoneInfo("Asia/Seoul")
DAY1 = datetime(2025, 6, 20, 10, 0, tzinfo=KST)  # a Friday morning in Seoul
E = TypeVar("E", bound=Event)


@dataclass
class Instance:
    rig: EngineRig
    api: EngineFacade
    dispatcher: Dispatcher
    store: Store
    events: list[Event] = field(default_factory=list)

    @classmethod
    async def start(cls, store: Store, limits: RiskLimits) -> Instance:
        """Assemble, restore (what a restarted leader and a standby taking over run), start."""
        events: list[Event] = []
        rig = await assemble(
            EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=True),
            strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
            limits=limits,
            store=store,
            sink=events.append,
            rules=UpbitMarketRules(),
        )
        api = EngineFacade(rig.engine, store, sink=events.append, mode="paper")
        await api.restore()
        clock = Clock()
        authorizer = Authorizer(policies(), on_alert=lambda _: None, alert_after=3, clock=clock)
        dispatcher = Dispatcher(build_registry(), api, authorizer, store, clock=clock, version="t")
        rig.loop.start()
        return cls(rig, api, dispatcher, store, events)

    async def stop(self) -> None:
        """The process goes away (queued fills land first, as on a SIGTERM)."""
        await self.rig.loop.stop()

    async def trade(self, price: int | str, at: datetime) -> None:
        """One print on the tape at ``at``; returns once the engine has handled it."""
        self.rig.loop.put_print(TradePrint("KRW-BTC", Decimal(price), Decimal("0.01"), at))
        await self.rig.loop.drain()

    async def say(self, who: Principal, text: str) -> Reply:
        reply = await self.dispatcher.handle(who, text, "en")
        assert reply is not None
        return reply

    async def confirm(self, who: Principal, text: str) -> tuple[Reply, Reply]:
        """(preview, result) of a confirmed command."""
        preview = await self.say(who, text)
        assert preview.buttons, preview.plain_text()
        done = await self.dispatcher.press(who, preview.buttons[0].data, "en")
        assert done is not None
        await self.rig.loop.drain()  # the fills of a buy land before the next look
        return preview, done

    async def risk(self, who: Principal) -> tuple[bool, dict[str, str]]:
        """``/risk`` as read in chat: (entries allowed, {line name: text})."""
        reply = await self.say(who, "/risk")
        allowed = "New entries are allowed." in reply.lines
        return allowed, dict(reply.fields)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- the market moves that trip the limits ------------------------------------------------------

DAILY = limits(daily_loss_limit_krw=Decimal(5_000), max_drawdown_pct=Decimal(50))
DRAWDOWN = limits(
    daily_loss_limit_krw=Decimal(0),
    max_drawdown_pct=Decimal(1),
    position_size_krw=Decimal(5_000_000),
)
NEXT_DAY = DAY1.replace(hour=0, minute=5) + timedelta(days=1)  # 00:05 in Seoul


def breaches(bot: Instance) -> list[str]:
    return [b.check for b in bot.of(RiskBreached)]


async def buy(bot: Instance, krw: str) -> str:
    _, done = await bot.confirm(OPERATOR, f"/buy btc {krw}")
    return done.title


async def sell_all(bot: Instance, price: int, at: datetime) -> None:
    """Close the position at ``at``; two minutes later the market is flat and the last closed
    candle is not the exit's, so a ``/buy`` meets the risk gate."""
    await bot.trade(price, at)
    if bot.rig.engine.positions.get("KRW-BTC").state is PositionState.LONG:  # else stopped out
        assert "KRW-BTC" in (await bot.confirm(OPERATOR, "/close btc"))[1].plain_text()
    await bot.trade(price, at + minutes(1))
    await bot.trade(price, at + minutes(2))
    assert bot.rig.engine.positions.get("KRW-BTC").state is PositionState.FLAT


async def lose_the_day(bot: Instance) -> None:
    """Buy 1,000,000 KRW at 100,000,000, sell after a 1% fall: about -11,000 KRW today."""
    await bot.trade(100_000_000, DAY1)
    assert "sent" in await buy(bot, "1000000")
    assert bot.rig.engine.positions.get("KRW-BTC").state is PositionState.LONG
    await sell_all(bot, 99_000_000, DAY1 + minutes(5))


async def fall_from_the_peak(bot: Instance) -> None:
    """Buy 5,000,000 KRW, see the peak at +4% (~10,195,000 KRW), sell back at the start:
    ~2% below the peak, the limit is 1%."""
    await bot.trade(100_000_000, DAY1)
    assert "sent" in await buy(bot, "5000000")
    await bot.trade(104_000_000, DAY1 + minutes(5))
    assert (await bot.risk(VIEWER))[0]  # the peak is measured when someone looks
    await sell_all(bot, 100_000_000, DAY1 + minutes(10))
