"""Money-moving commands; each shows a preview and runs only after the asker confirms."""

from __future__ import annotations

from decimal import Decimal

from handlers.fmt import krw, pct, price, volume
from handlers.registry import ArgSpec, Call, Command, Role
from handlers.reply import Reply, Severity
from trading.positions import PositionState
from trading.refusal import Refused
from trading.risk.decision import Denied

ZERO = Decimal(0)
MIN_ORDER_KRW = 5000


def _known(call: Call, market: str) -> None:
    markets = call.api.engine.config.markets
    if market not in markets:
        raise ValueError(call.t.t("trade.unknown_market", market=market, known=", ".join(markets)))


def _slippage(call: Call, market: str, side: str, amount: Decimal) -> list[tuple[str, str]]:
    """Expected average fill and slippage against the last price, when a book is there."""
    t, md = call.t, call.api.engine.market_data
    last = md.price(market)
    if md.orderbook(market) is None or last is None or not amount:
        return [(t.t("trade.slippage"), t.t("trade.no_book"))]
    fill = md.expected_fill(market, "bid" if side == "bid" else "ask", amount)
    if fill is None:
        return [(t.t("trade.slippage"), t.t("trade.thin_book"))]
    bps = (fill - last) / last * 10000 * (1 if side == "bid" else -1)
    return [
        (t.t("trade.expected_fill"), f"{price(fill)} KRW"),
        (t.t("trade.slippage"), f"{pct(bps, '0.1')} bps"),
    ]


def _manual_limit(call: Call) -> bool:
    """Only an admin's ``/buy`` may use ``risk.manual_buy_max_krw``."""
    return call.role >= Role.ADMIN


async def buy_preview(call: Call) -> Reply:
    t, market, amount = call.t, call.args["market"], call.args["krw"]
    _known(call, market)
    call.api.check_buy_size(amount, _manual_limit(call))
    flagged = call.api.engine.gate.lifecycle.refusal(market)
    if flagged is not None:  # Upbit's warning or delisting: the gate would refuse the press
        raise Refused(flagged.code, flagged.reason, **dict(flagged.values))
    last = call.api.engine.market_data.price(market)
    fields = [
        (t.t("col.market"), market),
        (t.t("trade.amount"), f"{krw(amount)} KRW"),
        (t.t("col.last"), f"{price(last)} KRW"),
    ]
    size = call.api.engine.limits.position_size_krw
    if amount > size:  # an admin within the manual limit: say so before the press
        cap = call.api.buy_cap(_manual_limit(call))
        fields.append(
            (t.t("trade.manual_limit"), t.t("trade.above_size", size=krw(size), cap=krw(cap)))
        )
    if last:
        fields.append((t.t("trade.est_volume"), volume((amount / last).quantize(Decimal("1e-8")))))
    fields += _slippage(call, market, "bid", amount)
    return Reply(t.t("buy.preview", market=market), fields=tuple(fields))


async def buy(call: Call) -> Reply:
    t, market, amount = call.t, call.args["market"], call.args["krw"]
    decision = await call.api.buy(market, amount, by=call.by, manual_limit=_manual_limit(call))
    if isinstance(decision, Denied):
        why = t.coded("refusal", decision.code, decision.values, decision.reason)
        return Reply(t.t("buy.refused", market=market), (why,), severity=Severity.WARNING)
    return Reply(t.t("buy.sent", market=market, krw=krw(amount)))


def _long_volume(call: Call, market: str) -> Decimal:
    position = call.api.engine.positions.get(market)
    return position.volume if position.state is PositionState.LONG else ZERO


async def sell_preview(call: Call) -> Reply:
    t, market, percent = call.t, call.args["market"], call.args["percent"]
    _known(call, market)
    held = _long_volume(call, market)
    if not held:
        raise LookupError(t.t("trade.no_position", market=market))
    amount = held * percent / 100
    last = call.api.engine.market_data.price(market)
    fields = [
        (t.t("col.market"), market),
        (t.t("trade.percent"), f"{pct(percent)}%"),
        (t.t("col.volume"), f"{volume(amount.quantize(Decimal('1e-8')))} / {volume(held)}"),
    ]
    if last:
        fields.append((t.t("trade.est_value"), f"{krw(amount * last)} KRW"))
    fields += _slippage(call, market, "ask", amount)
    return Reply(t.t("sell.preview", market=market), fields=tuple(fields))


async def sell(call: Call) -> Reply:
    t, market, percent = call.t, call.args["market"], call.args["percent"]
    sent = await call.api.sell(market, percent, by=call.by)
    key = "sell.sent" if sent else "sell.nothing"
    return Reply(t.t(key, market=market, percent=pct(percent)))


def _exposure(call: Call, markets: tuple[str, ...]) -> list[str]:
    md = call.api.engine.market_data
    lines = []
    for market in markets:
        held = _long_volume(call, market)
        if held:
            last = md.price(market)
            value = "-" if last is None else f"{krw(held * last)} KRW"
            lines.append(f"{market}: {volume(held)} ≈ {value}")
    return lines


async def close_preview(call: Call) -> Reply:
    t, target = call.t, call.args["market"]
    markets = call.api.engine.config.markets if target == "all" else (target,)
    if target != "all":
        _known(call, target)
    lines = _exposure(call, tuple(markets))
    if not lines:
        raise LookupError(t.t("close.nothing"))
    return Reply(t.t("close.preview"), tuple(lines))


async def close(call: Call) -> Reply:
    target = call.args["market"]
    sent = await call.api.close(None if target == "all" else target, by=call.by)
    return Reply(call.t.t("close.done", markets=", ".join(sent) or "-"))


async def cancel_preview(call: Call) -> Reply:
    t, target = call.t, call.args["order"]
    open_orders = await call.api.orders()
    if target == "all":
        if not open_orders:
            raise LookupError(t.t("orders.none"))
        return Reply(t.t("cancel.preview_all", n=len(open_orders)))
    order = next((o for o in open_orders if o.intent_id == target), None)
    if order is None:
        raise LookupError(t.t("cancel.unknown", order=target))
    return Reply(
        t.t("cancel.preview", order=target),
        (f"{order.market} {t.t(f'side.{order.side}')} {order.ord_type} {order.state}",),
    )


async def cancel(call: Call) -> Reply:
    target = call.args["order"]
    count = await call.api.cancel(None if target == "all" else target)
    return Reply(call.t.t("cancel.done", n=count))


async def flatten_preview(call: Call) -> Reply:
    t = call.t
    open_orders = len(await call.api.orders())
    lines = [t.t("flatten.orders", n=open_orders)]
    lines += _exposure(call, call.api.engine.config.markets) or [t.t("positions.none")]
    lines.append(t.t("flatten.after"))
    return Reply(t.t("flatten.preview"), tuple(lines), severity=Severity.CRITICAL)


async def flatten(call: Call) -> Reply:
    report = await call.api.flatten(by=call.by)
    return Reply(
        call.t.t("flatten.done"),
        (
            call.t.t("flatten.orders_cancelled", n=report.cancelled_orders),
            call.t.t("close.done", markets=", ".join(report.exits) or "-"),
            call.t.t("flatten.after"),
        ),
        severity=Severity.CRITICAL,
    )


COMMANDS = [
    Command(
        "buy",
        buy,
        args=(ArgSpec("market", "market"), ArgSpec("krw", "money", min=MIN_ORDER_KRW)),
        role=Role.OPERATOR,
        confirm=True,
        preview=buy_preview,
    ),
    Command(
        "sell",
        sell,
        args=(
            ArgSpec("market", "market"),
            ArgSpec("percent", "decimal", False, min=0.01, max=100, default=Decimal(100)),
        ),
        role=Role.OPERATOR,
        confirm=True,
        preview=sell_preview,
    ),
    Command(
        "close",
        close,
        args=(ArgSpec("market", "market", choices=("all",)),),
        role=Role.OPERATOR,
        confirm=True,
        preview=close_preview,
    ),
    Command(
        "cancel",
        cancel,
        args=(ArgSpec("order", "str", choices=("all",)),),
        role=Role.OPERATOR,
        confirm=True,
        preview=cancel_preview,
    ),
    Command(
        "flatten",
        flatten,
        role=Role.ADMIN,
        confirm=True,
        preview=flatten_preview,
        aliases=("killswitch",),
    ),
]
