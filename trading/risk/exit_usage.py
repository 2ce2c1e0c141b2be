"""The ``/risk`` lines of the exits: the stop, trailing, take-profit, ROI table, holding time
and the strategy's exit signal, as the settings have them now (issue #13).

They never block entries; each says how a position bought now would be sold.
"""

from __future__ import annotations

from trading.risk.decision import LimitUsage, pct
from trading.risk.settings import RiskSettings
from trading.settings import show


def exit_usage(limits: RiskSettings) -> tuple[LimitUsage, ...]:
    """Stop, trailing, take-profit, ROI, holding time, exit signal: in that order."""
    return (
        _stop(limits),
        _trailing(limits),
        _take_profit(limits),
        _roi(limits),
        _holding(limits),
        _exit_signal(limits),
    )


def _stop(limits: RiskSettings) -> LimitUsage:
    mult, loss = limits.atr_stop_mult, limits.stop_loss_pct
    gap = (("gap", pct(limits.stop_min_distance_pct)),)
    if mult > 0 and loss > 0:
        return LimitUsage(
            "stop",
            f"initial stop {show(mult)} ATR or {pct(loss)}% below the entry, the higher one"
            f" (at least {pct(limits.stop_min_distance_pct)}% below)",
            code="stop_both",
            values=(("mult", show(mult)), ("loss", pct(loss)), *gap),
        )
    if mult > 0:
        return LimitUsage(
            "stop",
            f"initial stop {show(mult)} ATR below the entry"
            f" (at least {pct(limits.stop_min_distance_pct)}% below)",
            code="stop_atr",
            values=(("mult", show(mult)), *gap),
        )
    if loss > 0:
        return LimitUsage(
            "stop",
            f"stop {pct(loss)}% below the entry",
            code="stop_pct",
            values=(("loss", pct(loss)),),
        )
    return LimitUsage("stop", "no stop", code="stop_off")


def _trailing(limits: RiskSettings) -> LimitUsage:
    if not limits.trailing_stop:
        return LimitUsage(
            "trailing", "trailing off: the stop stays where it was set", code="trailing_off"
        )
    positive, offset = limits.trailing_stop_positive_pct, limits.trailing_stop_positive_offset_pct
    only = limits.trailing_only_offset_is_reached
    values = (("positive", pct(positive)), ("offset", pct(offset)))
    if positive > 0:
        code = "trailing_positive_only" if only else "trailing_positive"
        text = (
            f"trailing {pct(positive)}% under the highest close once it is {pct(offset)}% over"
            " the entry" + (" (not before)" if only else " (the initial distance before)")
        )
        return LimitUsage("trailing", text, code=code, values=values)
    if only:
        return LimitUsage(
            "trailing",
            f"trailing at the initial distance once the highest close is {pct(offset)}% over the"
            " entry",
            code="trailing_initial_only",
            values=values,
        )
    return LimitUsage(
        "trailing", "trailing the highest close at the initial distance", code="trailing_initial"
    )


def _take_profit(limits: RiskSettings) -> LimitUsage:
    if limits.take_profit_pct == 0:
        return LimitUsage("take_profit", "take-profit off", code="take_profit_off")
    value = pct(limits.take_profit_pct)
    return LimitUsage(
        "take_profit",
        f"take profit {value}% above the entry",
        code="take_profit_on",
        values=(("pct", value),),
    )


def _roi(limits: RiskSettings) -> LimitUsage:
    if not limits.minimal_roi:
        return LimitUsage("roi", "ROI table off", code="roi_off")
    table = ", ".join(f"{minutes} min: {pct(p)}%" for minutes, p in limits.minimal_roi)
    return LimitUsage("roi", f"ROI table {table}", code="roi_on", values=(("table", table),))


def _holding(limits: RiskSettings) -> LimitUsage:
    minutes = limits.max_holding_minutes
    if minutes == 0:
        return LimitUsage("holding", "no holding time limit", code="holding_off")
    return LimitUsage(
        "holding",
        f"sell after {minutes} min held",
        code="holding_on",
        values=(("minutes", str(minutes)),),
    )


def _exit_signal(limits: RiskSettings) -> LimitUsage:
    if not limits.use_exit_signal:
        return LimitUsage("exit_signal", "exit signals ignored", code="exit_signal_off")
    if limits.exit_profit_only:
        offset = pct(limits.exit_profit_offset_pct)
        return LimitUsage(
            "exit_signal",
            f"exit signals only above {offset}% profit",
            code="exit_signal_profit",
            values=(("offset", offset),),
        )
    return LimitUsage("exit_signal", "exit signals sell", code="exit_signal_on")
