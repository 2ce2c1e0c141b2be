"""Money-moving commands; each shows a preview and runs only after the asker confirms."""

from __future__ import annotations

from decimal import Decimal

from handlers.commands.info import dust_lines
from handlers.fmt import krw, pct, price, volume
from handlers.refusals import Declined
from handlers.registry import ArgSpec, Call, Command, Role
from handlers.reply import Reply, Severity
from trading.command_api import Denied, PositionState

ZERO = Decimal(0)
MIN_ORDER_KRW = 5000


def _slippage(call: Call, market: str, buying: bool, amount: Decimal) -> list[tuple[str, str]]:
    """Expected average fill and slippage against the last price, when a book is there."""
    t = call.t
    quote = call.api.quote(market, buying=buying, amount=amount)
    last, fill = quote.last, quote.expected_fill
    if not quote.has_book or last is None or not amount:
        return [(t.t("trade.slippage"), t.t("trade.no_book"))]
    if fill is None:
        return [(t.t("trade.slippage"), t.t("trade.thin_book"))]
    bps = (fill - last) / last * 10000 * (1 if buying else -1)
    return [
        (t.t("trade.expected_fill"), f"{price(fill)} KRW"),
        (t.t("trade.slippage"), f"{pct(bps, '0.1')} bps"),
    ]


def _manual_limit(call: Call) -> bool:
    """Only an admin's ``/buy`` may use ``risk.manual_buy_max_krw``."""
    return call.role >= Role.ADMIN


async def buy_preview(call: Call) -> Reply:
    t, market, amount = call.t, call.args["market"], call.args["krw"]
    call.api.check_buy(market, amount, _manual_limit(call))  # what the press would refuse
    last = call.api.quote(market, buying=True, amount=amount).last
    fields = [
        (t.t("col.market"), market),
        (t.t("trade.amount"), f"{krw(amount)} KRW"),
        (t.t("col.last"), f"{price(last)} KRW"),
    ]
    size = call.api.buy_cap()
    if amount > size:  # an admin within the manual limit: say so before the press
        cap = call.api.buy_cap(_manual_limit(call))
        fields.append(
            (t.t("trade.manual_limit"), t.t("trade.above_size", size=krw(size), cap=krw(cap)))
        )
    if last:
        fields.append((t.t("trade.est_volume"), volume((amount / last).quantize(Decimal("1e-8")))))
    fields += _slippage(call, market, True, amount)
    return Reply(t.t("buy.preview", market=market), fields=tuple(fields))


async def buy(call: Call) -> Reply:
    t, market, amount = call.t, call.args["market"], call.args["krw"]
    decision = await call.api.buy(market, amount, by=call.by, manual_limit=_manual_limit(call))
    if isinstance(decision, Denied):
        why = t.coded("refusal", decision.code, decision.values, decision.reason)
        return Reply(t.t("buy.refused", market=market), (why,), severity=Severity.WARNING)
    return Reply(t.t("buy.sent", market=market, krw=krw(amount)))


def _long_volume(call: Call, market: str) -> Decimal:
    position = call.api.position(market)
    return position.volume if position.state is PositionState.LONG else ZERO


def _unsellable(call: Call, market: str) -> str | None:
    """Why nothing of ``market`` can be sold: a long worth less than the minimum order, or
    only dust; None when there is a position to sell or nothing at all."""
    if _long_volume(call, market):
        plan = call.api.exit_plan(market)
        if plan.blocked != "dust":
            return None
        return call.t.t(
            "sell.dust",
            market=market,
            volume=volume(plan.wanted + plan.dust),
            value="-" if plan.value is None else krw(plan.value),
            min=krw(plan.minimum),
        )
    lines = dust_lines(call, (market,), "close")
    return lines[0] if lines else None


async def sell_preview(call: Call) -> Reply:
    t, market, percent = call.t, call.args["market"], call.args["percent"]
    call.api.check_market(market)
    held = _long_volume(call, market)
    why = _unsellable(call, market)
    if not held or why is not None:
        raise Declined(why or t.t("trade.no_position", market=market))
    plan = call.api.sell_plan(market, percent)  # the order the press sends, or a refusal
    sold = plan.volume - plan.dust
    fields = [
        (t.t("col.market"), market),
        (t.t("trade.percent"), f"{pct(percent)}%" + (" → 100%" if plan.grown else "")),
        (t.t("col.volume"), f"{volume(sold)} / {volume(held)}"),
    ]
    if plan.dust:
        fields.append((t.t("trade.dust_along"), volume(plan.dust)))
    if plan.value is not None:
        fields.append((t.t("trade.est_value"), f"{krw(plan.value)} KRW"))
    fields += _slippage(call, market, False, plan.volume)
    lines: tuple[str, ...] = ()
    if plan.grown and plan.rest_value is not None:
        lines = (t.t("sell.sells_all", left=krw(plan.rest_value), min=krw(plan.minimum)),)
    return Reply(t.t("sell.preview", market=market), lines, fields=tuple(fields))


async def sell(call: Call) -> Reply:
    t, market, percent = call.t, call.args["market"], call.args["percent"]
    plan = call.api.sell_plan(market, percent)
    sent = await call.api.sell(market, percent, by=call.by)
    key = "sell.sent" if sent else "sell.nothing"
    return Reply(t.t(key, market=market, percent=pct(Decimal(100) if plan.grown else percent)))


def _exposure(call: Call, markets: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(a line per long an exit would sell, with the dust going along; a line per market
    where nothing can be sold, and why)."""
    prices = call.api.prices()
    lines, unsellable = [], []
    for market in markets:
        why = _unsellable(call, market)
        if why is not None:
            unsellable.append(why)
        elif _long_volume(call, market):
            plan = call.api.exit_plan(market)
            last = prices.get(market)
            value = "-" if last is None else f"{krw(plan.volume * last)} KRW"
            lines.append(f"{market}: {volume(plan.volume)} ≈ {value}")
    return lines, unsellable


async def close_preview(call: Call) -> Reply:
    t, target = call.t, call.args["market"]
    markets = call.api.markets if target == "all" else (target,)
    if target != "all":
        call.api.check_market(target)
    lines, unsellable = _exposure(call, tuple(markets))
    if not lines:  # nothing an order could sell: say why instead of asking
        raise Declined("\n".join(unsellable) or t.t("close.nothing"))
    return Reply(t.t("close.preview"), tuple(lines + unsellable))


async def close(call: Call) -> Reply:
    target = call.args["market"]
    markets = call.api.markets if target == "all" else (target,)
    sent = await call.api.close(None if target == "all" else target, by=call.by)
    kept = dust_lines(call, tuple(m for m in markets if m not in sent), "close")
    return Reply(call.t.t("close.done", markets=", ".join(sent) or "-"), tuple(kept))


async def cancel_preview(call: Call) -> Reply:
    t, target = call.t, call.args["order"]
    open_orders = await call.api.orders()
    if target == "all":
        if not open_orders:
            raise Declined(t.t("orders.none"))
        return Reply(t.t("cancel.preview_all", n=len(open_orders)))
    order = next((o for o in open_orders if o.intent_id == target), None)
    if order is None:
        raise Declined(t.t("cancel.unknown", order=target))
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
    exits, unsellable = _exposure(call, call.api.markets)
    lines += (exits or [t.t("positions.none")]) + unsellable
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
    Command.confirmed(
        "buy",
        buy,
        buy_preview,
        ArgSpec("market", "market"),
        ArgSpec("krw", "money", min=MIN_ORDER_KRW),
    ),
    Command.confirmed(
        "sell",
        sell,
        sell_preview,
        ArgSpec("market", "market"),
        ArgSpec("percent", "decimal", False, min=0.01, max=100, default=Decimal(100)),
    ),
    Command.confirmed(
        "close", close, close_preview, ArgSpec("market", "market", choices=("all",))
    ),
    Command.confirmed("cancel", cancel, cancel_preview, ArgSpec("order", "str", choices=("all",))),
    Command.confirmed(
        "flatten", flatten, flatten_preview, role=Role.ADMIN, aliases=("killswitch",)
    ),
]
