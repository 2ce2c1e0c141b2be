"""Order-request validation and market rules (tick table, min/max totals) -- reference §5.4, §9.

Check order: required fields -> market exists -> side/ord_type values -> field combination ->
time_in_force -> number format -> tick grid -> min/max total.  Funds are checked by the exchange.

The tick grid is the band table in force since 2025-07-31 at the order's own price (a coin
that crossed a band since yesterday is on its new band's grid), plus the per-pair exceptions
the exchange was told about (``Exchange.tick_exceptions``), as Upbit had for USDT/KRW.

Error names: ``validation_error`` (missing/malformed field, bad enum, numbers that are not
plain positive decimal strings, volume with more than 8 decimals), ``notfoundmarket``,
``create_bid_error``/``create_ask_error`` (field not allowed for that ord_type, or ord_type not
allowed for that side), ``invalid_time_in_force``, ``invalid_price_bid``/``invalid_price_ask``,
``under_min_total_bid``/``under_min_total_ask``, ``over_krw_funds_bid``/``over_krw_funds_ask``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import ApiError, validation

_NUMBER = re.compile(r"^\d+(\.\d+)?$")
KRW_TICKS: list[tuple[Decimal, Decimal]] = [
    (Decimal(lo), Decimal(tick))
    for lo, tick in [
        ("1000000", "1000"),
        ("500000", "500"),
        ("100000", "100"),
        ("50000", "50"),
        ("10000", "10"),
        ("5000", "5"),
        ("100", "1"),
        ("10", "0.1"),
        ("1", "0.01"),
        ("0.1", "0.001"),
        ("0.01", "0.0001"),
        ("0.001", "0.00001"),
        ("0.0001", "0.000001"),
        ("0.00001", "0.0000001"),
    ]
]
USDT_TICKS: list[tuple[Decimal, Decimal]] = [
    (Decimal(lo), Decimal(tick))
    for lo, tick in [
        ("10", "0.01"),
        ("1", "0.001"),
        ("0.1", "0.0001"),
        ("0.01", "0.00001"),
        ("0.001", "0.000001"),
        ("0.0001", "0.0000001"),
    ]
]
MIN_TOTAL = {"KRW": Decimal(5000), "BTC": Decimal("0.00005"), "USDT": Decimal("0.5")}
MAX_TOTAL = {"KRW": Decimal(1_000_000_000), "BTC": Decimal(10), "USDT": Decimal(1_000_000)}
SATOSHI = Decimal("0.00000001")
ORD_TYPES = ("limit", "price", "market", "best")
SIDES = ("bid", "ask")
SMP_TYPES = ("reduce", "cancel_maker", "cancel_taker")


TickOf = Callable[[str, Decimal], Decimal]


def tick_size(market: str, price: Decimal) -> Decimal:
    """The band table's tick at ``price`` (KRW, USDT) or the BTC market's single tick."""
    quote = market.split("-", 1)[0]
    table = KRW_TICKS if quote == "KRW" else USDT_TICKS if quote == "USDT" else []
    for low, tick in table:
        if price >= low:
            return tick
    return SATOSHI


@dataclass
class OrderRequest:
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    time_in_force: str | None
    smp_type: str | None
    identifier: str | None

    @property
    def quote(self) -> str:
        return self.market.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.market.split("-", 1)[1]


def _err(side: str, kind: str, message: str) -> ApiError:
    return ApiError(400, f"{kind}_{side}", message)


def _number(body: dict[str, Any], key: str, *, max_places: int | None = None) -> Decimal | None:
    raw = body.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str) or not _NUMBER.match(raw):
        raise validation(f"{key} 값이 올바르지 않습니다: {raw!r}")
    value = Decimal(raw)
    if value <= 0:
        raise validation(f"{key} 값은 0보다 커야 합니다.")
    if max_places is not None and "." in raw and len(raw.split(".")[1].rstrip("0")) > max_places:
        raise validation(f"{key} 소수점 자리수가 너무 깁니다.")
    return value


def parse_order(
    body: dict[str, Any], markets: list[str], tick_of: TickOf = tick_size
) -> OrderRequest:
    """Validate a create-order body; ``tick_of`` is the exchange's tick at a price (the table
    plus any per-pair exception)."""
    for key in ("market", "side", "ord_type"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise validation(f"{key} 파라미터가 필요합니다.")
    market, side, ord_type = body["market"], body["side"], body["ord_type"]
    if market not in markets:
        raise ApiError(400, "notfoundmarket", f"다음 마켓에 없는 종목입니다: {market}")
    if side not in SIDES or ord_type not in ORD_TYPES:
        raise validation("side 또는 ord_type 값이 올바르지 않습니다.")
    identifier = body.get("identifier")
    if identifier is not None and (not isinstance(identifier, str) or not identifier):
        raise validation("identifier 값이 올바르지 않습니다.")
    tif, smp = body.get("time_in_force"), body.get("smp_type")
    if smp is not None and smp not in SMP_TYPES:
        raise validation("smp_type 값이 올바르지 않습니다.")
    has_price, has_volume = body.get("price") is not None, body.get("volume") is not None
    combo = f"create_{side}_error"
    msg = "주문 파라미터 조합이 올바르지 않습니다."
    if ord_type == "price":
        if side != "bid":
            raise ApiError(400, combo, "시장가 매수(price)는 bid만 가능합니다.")
        if has_volume:
            raise ApiError(400, combo, msg + " (price 주문에는 volume을 넣을 수 없습니다)")
        if not has_price:
            raise validation("price 파라미터가 필요합니다.")
    elif ord_type == "market":
        if side != "ask":
            raise ApiError(400, combo, "시장가 매도(market)는 ask만 가능합니다.")
        if has_price:
            raise ApiError(400, combo, msg + " (market 주문에는 price를 넣을 수 없습니다)")
        if not has_volume:
            raise validation("volume 파라미터가 필요합니다.")
    elif ord_type == "best":
        forbidden, needed = ("volume", "price") if side == "bid" else ("price", "volume")
        if body.get(forbidden) is not None:
            raise ApiError(400, combo, msg + f" (best {side} 주문에는 {forbidden} 불가)")
        if body.get(needed) is None:
            raise validation(f"{needed} 파라미터가 필요합니다.")
    elif not (has_price and has_volume):
        raise validation("지정가 주문에는 price와 volume이 필요합니다.")
    _check_tif(ord_type, tif, smp)
    price = _number(body, "price")
    volume = _number(body, "volume", max_places=8)
    req = OrderRequest(market, side, ord_type, price, volume, tif, smp, identifier)
    if ord_type == "limit" and price is not None and price % tick_of(market, price) != 0:
        raise _err(
            side,
            "invalid_price",
            f"주문 가격 단위가 잘못되었습니다. 호가 단위: {tick_of(market, price)}",
        )
    return req


def _check_tif(ord_type: str, tif: Any, smp: Any) -> None:
    bad = ApiError(400, "invalid_time_in_force", "time_in_force 값이 올바르지 않습니다.")
    if ord_type == "best":
        if tif not in ("ioc", "fok"):
            raise bad
    elif ord_type == "limit":
        if tif is not None and tif not in ("ioc", "fok", "post_only"):
            raise bad
        if tif == "post_only" and smp is not None:
            raise ApiError(
                400, "invalid_time_in_force", "post_only는 smp_type과 함께 쓸 수 없습니다."
            )
    elif tif is not None:
        raise bad


def check_totals(req: OrderRequest, reference_price: Decimal | None) -> None:
    """min_total / max_total.  ``reference_price`` values market/best sells (may be None)."""
    if req.ord_type == "limit":
        assert req.price is not None
        assert req.volume is not None
        total: Decimal | None = req.price * req.volume
    elif req.side == "bid":
        total = req.price
    else:
        total = req.volume * reference_price if req.volume and reference_price else None
    if total is None:
        return
    low, high = MIN_TOTAL.get(req.quote, Decimal(0)), MAX_TOTAL.get(req.quote)
    if total < low:
        raise _err(
            req.side,
            "under_min_total",
            f"최소주문금액 이상으로 주문해주세요. (min_total {low} {req.quote})",
        )
    if high is not None and total > high:
        raise _err(
            req.side,
            "over_krw_funds",
            f"최대 주문 가능 금액 {high} {req.quote} 보다 작은 주문을 입력해 주세요.",
        )


def parse_cancel_and_new(
    body: dict[str, Any],
    *,
    market: str,
    side: str,
    remaining: Decimal | None,
    markets: list[str],
    tick_of: TickOf = tick_size,
) -> tuple[OrderRequest, bool]:
    """The new order of a cancel_and_new body (reference §5.14) and whether its volume is
    ``remain_only``: same market and side as the old order, ``new_*`` fields checked like a
    create-order body."""
    new_type = body.get("new_ord_type")
    if not isinstance(new_type, str) or not new_type:
        raise validation("new_ord_type 파라미터가 필요합니다.")
    volume = body.get("new_volume")
    remain_only = volume == "remain_only"
    if remain_only:
        if not (new_type == "limit" or (side == "ask" and new_type in ("market", "best"))):
            raise validation("remain_only는 지정가, 시장가 매도, 최유리 매도 주문만 지원합니다.")
        if remaining is None or remaining <= 0:
            raise validation("이전 주문의 잔여 수량이 없습니다.")
        volume = format(remaining, "f")
    translated: dict[str, Any] = {"market": market, "side": side, "ord_type": new_type}
    if volume is not None:
        translated["volume"] = volume
    for source, target in (
        ("new_price", "price"),
        ("new_time_in_force", "time_in_force"),
        ("new_smp_type", "smp_type"),
        ("new_identifier", "identifier"),
    ):
        if body.get(source) is not None:
            translated[target] = body[source]
    return parse_order(translated, markets, tick_of), remain_only
