"""Orders and positions: placed, filled (merged with the exit's PnL), cancelled, refused,
settled; the position and its stop; the book adjusted to the account; a market suspended."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.notify.messages.table import renders
from handlers.reply import Reply, Severity
from trading import events as ev

if TYPE_CHECKING:
    from bot.notify.render import Renderer


@renders(ev.OrderFilled, ev.PositionClosed)
def order_filled(r: Renderer, event: ev.OrderFilled | ev.PositionClosed) -> Reply | None:
    return fills(r, [event])


def fills(r: Renderer, events: Sequence[ev.Event]) -> Reply | None:
    """The fills of one order as one message; with the ``PositionClosed`` of an exit, its PnL."""
    fills = [e for e in events if isinstance(e, ev.OrderFilled)]
    closes = [e for e in events if isinstance(e, ev.PositionClosed)]
    first = events[0]
    if not fills and closes:
        return _closes(r, closes)
    if not fills:
        return None
    market, side = fills[0].market, fills[0].side
    volume = sum((f.volume for f in fills), Decimal(0))
    funds = sum((f.price * f.volume for f in fills), Decimal(0))
    fee = sum((f.fee for f in fills), Decimal(0))
    avg = funds / volume if volume else fills[0].price
    fields = [
        (
            r.t("field.avg_price" if len(fills) > 1 else "field.price"),
            r.price(market, avg),
        ),
        (r.t("field.volume"), r.volume(volume)),
        (r.t("field.total"), r.krw(funds)),
        (r.t("field.fee"), r.krw(fee)),
    ]
    if len(fills) > 1:
        fields.append((r.t("field.fills"), str(len(fills))))
    if not fills[-1].complete:
        fields.append((r.t("field.state"), r.t("value.partial")))
    intents = list(dict.fromkeys(f.intent_id for f in fills))
    fields.append((r.t("field.order"), ", ".join(intents)))
    lines: tuple[str, ...] = ()
    severity = Severity.INFO
    if closes:
        pnl = sum((c.pnl_krw for c in closes), Decimal(0))
        fees = sum((c.fees_krw for c in closes), Decimal(0))
        last = closes[-1]
        fields += [
            (r.t("field.pnl"), r.signed_krw(pnl)),
            (r.t("field.entry"), r.price(market, last.entry_price)),
            (r.t("field.exit"), r.price(market, last.exit_price)),
            (r.t("field.round_trip_fees"), r.krw(fees)),
            (r.t("field.reason"), r.exit_reasons(closes)),
        ]
        lines = (r.t("exit_line", pnl=r.signed_krw(pnl)),)
    fields.append(r.at(first))
    return Reply(
        r.title(fills[0], "fill", market=market, side=r.side(side)),
        lines=lines,
        fields=tuple(fields),
        severity=severity,
    )


def _closes(r: Renderer, closes: Sequence[ev.PositionClosed]) -> Reply:
    last = closes[-1]
    pnl = sum((c.pnl_krw for c in closes), Decimal(0))
    return Reply(
        r.title(last, "position_closed", market=last.market),
        lines=(r.t("exit_line", pnl=r.signed_krw(pnl)),),
        fields=(
            (r.t("field.volume"), r.volume(sum((c.volume for c in closes), Decimal(0)))),
            (r.t("field.entry"), r.price(last.market, last.entry_price)),
            (r.t("field.exit"), r.price(last.market, last.exit_price)),
            (r.t("field.pnl"), r.signed_krw(pnl)),
            (
                r.t("field.round_trip_fees"),
                r.krw(sum((c.fees_krw for c in closes), Decimal(0))),
            ),
            (r.t("field.reason"), r.exit_reasons(closes)),
            r.at(last),
        ),
    )


@renders(ev.OrderPlaced)
def order_placed(r: Renderer, event: ev.OrderPlaced) -> Reply:
    price = (
        r.price(event.market, event.price)
        if event.price is not None
        else r.t("value.market_price")
    )
    fields = [(r.t("field.type"), event.ord_type), (r.t("field.price"), price)]
    if event.volume is not None:
        fields.append((r.t("field.volume"), r.volume(event.volume)))
    if event.price is not None and event.volume is not None:
        fields.append((r.t("field.total"), r.krw(event.price * event.volume)))
    fields += [(r.t("field.order"), event.intent_id), r.at(event)]
    return Reply(
        r.title(event, "order_placed", market=event.market, side=r.side(event.side)),
        fields=tuple(fields),
    )


def _order_warning(
    r: Renderer,
    event: ev.OrderCancelled | ev.OrderRejected | ev.OrderBecameUncertain,
    msg: str,
    *,
    lines: Sequence[str] = (),
    fields: Sequence[tuple[str, str]] = (),
) -> Reply:
    """An order that did not go as sent: a warning titled with its market, naming the order
    (its intent id) after the event's own fields."""
    return r.notice(
        event,
        msg,
        lines=lines,
        fields=(*fields, (r.t("field.order"), event.intent_id)),
        severity=Severity.WARNING,
        market=event.market,
    )


@renders(ev.OrderCancelled)
def order_cancelled(r: Renderer, event: ev.OrderCancelled) -> Reply:
    return _order_warning(r, event, "cancelled", fields=((r.t("field.reason"), event.reason),))


@renders(ev.OrderRejected)
def order_rejected(r: Renderer, event: ev.OrderRejected) -> Reply:
    error = (r.t("field.error"), event.name)
    return _order_warning(r, event, "rejected", lines=(event.reason,), fields=(error,))


@renders(ev.OrderBecameUncertain)
def order_became_uncertain(r: Renderer, event: ev.OrderBecameUncertain) -> Reply:
    return _order_warning(r, event, "order_uncertain", lines=(event.reason,))


@renders(ev.OrderResubmitted)
def order_resubmitted(r: Renderer, event: ev.OrderResubmitted) -> Reply:
    identifiers = f"{event.old_identifier} → {event.new_identifier}"
    return r.notice(
        event,
        "order_resubmitted",
        lines=(event.reason,),
        fields=((r.t("field.order"), event.intent_id), (r.t("field.identifier"), identifiers)),
        severity=Severity.WARNING,
    )


@renders(ev.OrderSettled)
def order_settled(r: Renderer, event: ev.OrderSettled) -> Reply:
    return r.notice(
        event,
        "order_settled",
        fields=(
            (r.t("field.state"), event.state),
            (r.t("field.volume"), r.volume(event.executed_volume)),
            (r.t("field.order"), event.intent_id),
        ),
        market=event.market,
        side=r.side(event.side),
    )


@renders(ev.PositionOpened)
def position_opened(r: Renderer, event: ev.PositionOpened) -> Reply:
    fields = [
        (r.t("field.volume"), r.volume(event.volume)),
        (r.t("field.avg_price"), r.price(event.market, event.avg_price)),
    ]
    if event.stop_price is not None:
        fields.append((r.t("field.stop"), r.price(event.market, event.stop_price)))
    return r.notice(event, "position_opened", fields=fields, market=event.market)


@renders(ev.StopMoved)
def stop_moved(r: Renderer, event: ev.StopMoved) -> Reply:
    old = "-" if event.old is None else r.price(event.market, event.old)
    stop = f"{old} → {r.price(event.market, event.new)}"
    return r.notice(event, "stop_moved", fields=((r.t("field.stop"), stop),), market=event.market)


@renders(ev.BookAdjusted)
def book_adjusted(r: Renderer, event: ev.BookAdjusted) -> Reply:
    coin = event.market.partition("-")[2]
    lines = [
        r.t(
            "book_adjusted_line",
            market=event.market,
            exchange=f"{r.volume(event.exchange)} {coin}",
            book=f"{r.volume(event.book)} {coin}",
        )
    ]
    if event.state == "flat":
        lines.append(r.t("book_adjusted_flat", market=event.market))
    return r.notice(
        event, "book_adjusted", lines=lines, severity=Severity.WARNING, market=event.market
    )


@renders(ev.OrdersSuspended)
def orders_suspended(r: Renderer, event: ev.OrdersSuspended) -> Reply:
    line = r.t(
        "orders_suspended_line",
        market=event.market,
        refusals=event.refusals,
        minutes=event.window_s // 60,
        reasons=", ".join(event.reasons) or "-",
    )
    return r.notice(
        event, "orders_suspended", lines=(line,), severity=Severity.CRITICAL, market=event.market
    )
