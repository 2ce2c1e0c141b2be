"""``Refused``: the engine said no to a request, with a code chat can translate.

The English ``message`` is for logs and the API; ``code`` and ``values`` render the catalog
entry ``refusal.<code>`` in the user's language (the same contract as a risk ``Denied``).
``Code`` lists the refusals of the command API; a test holds that each has a catalog entry in
every language (settings and risk denials carry their own codes, checked with their rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Code(StrEnum):
    """The command API's refusals (``refusal.<value>`` in each catalog)."""

    STANDBY = "standby"
    MARKET_UNKNOWN = "market_unknown"
    PERCENT_RANGE = "percent_range"
    ORDER_UNKNOWN = "order_unknown"
    ORDER_OF_POSITION = "order_of_position"
    KILL_SWITCH_LOCKED = "kill_switch_locked"
    SELL_BELOW_MIN = "sell_below_min"
    UNDO_NOTHING = "undo_nothing"
    UNDO_MOVED = "undo_moved"
    NO_CANDLES = "no_candles"
    TOO_FEW_CANDLES = "too_few_candles"
    OBJECTIVE_UNKNOWN = "objective_unknown"
    TRIALS_RANGE = "trials_range"
    PARAMS_INVALID = "params_invalid"
    HALT_NOT_RESETTABLE = "halt_not_resettable"
    HALT_NOT_TRIPPED = "halt_not_tripped"
    HALT_EXISTS = "halt_exists"
    HALT_FULL = "halt_full"
    HALT_UNKNOWN = "halt_unknown"
    OPTIMIZE_RISK_UNKNOWN = "optimize_risk_unknown"
    OPTIMIZE_RISK_BOUNDS = "optimize_risk_bounds"
    OPTIMIZE_RISK_RANGE = "optimize_risk_range"
    OPTIMIZE_RISK_CHOICE = "optimize_risk_choice"
    OPTIMIZE_RISK_UNSEARCHABLE = "optimize_risk_unsearchable"
    OPTIMIZE_RISK_GROUPED = "optimize_risk_grouped"
    OPTIMIZE_PARAM_UNKNOWN = "optimize_param_unknown"
    OPTIMIZE_TWICE = "optimize_twice"
    OPTIMIZE_NOTHING_TO_SEARCH = "optimize_nothing_to_search"
    OPTIMIZE_GAPS = "optimize_gaps"
    NO_MARKET_DATA = "no_market_data"


class Refused(ValueError):
    """A request the engine will not carry out; nothing was changed."""

    def __init__(self, code: str, message: str, /, **values: object) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.values = {k: str(v) for k, v in values.items()}


def unknown(code: Code, message: str, known: Iterable[str], /, **values: object) -> Refused:
    """The refusal of a name outside ``known``; ``message`` is formatted with ``values`` and
    ``known`` (joined), which the catalog entry gets too."""
    joined = ", ".join(known)
    return Refused(code, message.format(known=joined, **values), known=joined, **values)


def market_unknown(market: str, markets: Iterable[str]) -> Refused:
    """The refusal of a market this bot does not trade, naming the ones it does."""
    message = "{market} is not traded by this bot (markets: {known})"
    return unknown(Code.MARKET_UNKNOWN, message, markets, market=market)
