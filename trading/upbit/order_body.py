"""The JSON bodies of ``POST /v1/orders`` and ``POST /v1/orders/cancel_and_new``, validated
against the market rules first.

Private to the adapter: callers outside ``trading/upbit/`` place a neutral ``SubmitOrder``
through ``trading.exchange.Exchange``. Keys in a fixed order (the query hash covers
them in body order), amounts as plain decimal strings, absent fields omitted rather than null.
``OrderBodies`` is a base of the REST client, which holds the rules the bodies are checked
against, so the builders' parameters are written once.
"""

from __future__ import annotations

from decimal import Decimal

from trading.errors import ValidationError
from trading.upbit.mapping import UpbitOrdType as OrdType
from trading.upbit.mapping import UpbitSide as Side
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.wire import fmt_decimal


class OrderBodies:
    """The body builders of a client that checks orders against ``rules``."""

    rules: UpbitMarketRules

    def order_body(
        self,
        *,
        market: str,
        side: Side,
        ord_type: OrdType,
        identifier: str,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        time_in_force: str | None = None,
        smp_type: str | None = None,
        reference_price: Decimal | None = None,
    ) -> dict[str, str]:
        """Validate against the market rules and build the ordered JSON body."""
        if not identifier:
            raise ValidationError("every order needs an identifier", name="client_identifier")
        self.rules.check_order(
            market=market,
            side=side,
            ord_type=ord_type,
            price=price,
            volume=volume,
            time_in_force=time_in_force,
            reference_price=reference_price,
        )
        body = {"market": market, "side": side, "ord_type": ord_type}
        if volume is not None:
            body["volume"] = fmt_decimal(volume)
        if price is not None:
            body["price"] = fmt_decimal(price)
        if time_in_force is not None:
            body["time_in_force"] = time_in_force
        if smp_type is not None:
            body["smp_type"] = smp_type
        body["identifier"] = identifier
        return body

    def cancel_and_new_body(
        self,
        *,
        prev_uuid: str,
        market: str,
        side: Side,
        new_identifier: str,
        price: Decimal,
        volume: Decimal,
        time_in_force: str | None = None,
        smp_type: str | None = None,
    ) -> dict[str, str]:
        """Re-price a limit order: cancel ``prev_uuid``, then a limit ``price`` for what is
        left, validated against the market rules.

        ``new_volume`` is ``remain_only``: Upbit sizes the new order by the old one's remainder
        at the moment the cancel completes, so a fill still in flight is never bought twice.
        ``volume`` (our book's remainder) is only what the rules check (tick at the new price,
        minimum and maximum total); the exchange's remainder can only be smaller.
        """
        if not new_identifier:
            raise ValidationError("every order needs an identifier", name="client_identifier")
        self.rules.check_order(
            market=market,
            side=side,
            ord_type="limit",
            price=price,
            volume=volume,
            time_in_force=time_in_force,
        )
        body = {
            "prev_order_uuid": prev_uuid,
            "new_ord_type": "limit",
            "new_volume": "remain_only",
            "new_price": fmt_decimal(price),
        }
        if time_in_force is not None:
            body["new_time_in_force"] = time_in_force
        if smp_type is not None:
            body["new_smp_type"] = smp_type
        body["new_identifier"] = new_identifier
        return body
