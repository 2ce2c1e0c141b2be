"""A paper exchange on a fixed clock, recording its fills."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from trading.domain import TradePrint
from trading.domain.orders import SIDE_FROM_CODE, TYPE_FROM_CODE, SubmitOrder
from trading.paper import PaperExchange, PaperFill
from trading.paper.orders import PaperOrder
from trading.timeframes import KST
from trading.upbit.market_rules import UpbitMarketRules

T0 = datetime(2025, 7, 4, 15, 0, tzinfo=KST)
_ids = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def fills() -> list[PaperFill]:
    return []


@pytest.fixture
def make(fills: list[PaperFill]) -> Callable[..., PaperExchange]:
    def factory(start_krw: D = D("1000000"), **kw: Any) -> PaperExchange:
        kw.setdefault("on_fill", fills.append)
        return PaperExchange(UpbitMarketRules(), start_krw=start_krw, clock=Clock(), **kw)

    return factory


@pytest.fixture
def ex(make: Callable[..., PaperExchange]) -> PaperExchange:
    return make()


def command(
    *,
    market: str,
    side: str,
    ord_type: str,
    price: D | None = None,
    volume: D | None = None,
    time_in_force: str | None = None,
) -> SubmitOrder:
    """An order in the tests' shorthand (Upbit's codes: a ``price`` order spends ``price``)."""
    order = SubmitOrder("t", market, SIDE_FROM_CODE[side], TYPE_FROM_CODE[ord_type])
    if order.is_budget:
        return replace(order, funds=price, volume=volume, time_in_force=time_in_force)
    return replace(order, price=price, volume=volume, time_in_force=time_in_force)


async def place(ex: PaperExchange, identifier: str | None = None, **kw: Any) -> PaperOrder:
    identifier = identifier or f"t-{next(_ids)}"
    return await ex.place(command(**kw), identifier)


def tape(price: str, volume: str, market: str = "KRW-BTC") -> TradePrint:
    return TradePrint(market=market, price=D(price), volume=D(volume), at=T0)


async def balance(ex: PaperExchange, currency: str) -> tuple[D, D]:
    for account in await ex.accounts():
        if account.currency == currency:
            return account.free, account.locked
    return D(0), D(0)
