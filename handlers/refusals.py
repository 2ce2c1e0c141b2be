"""An expected error as the user reads it, in the user's language, from the catalogs.

Three kinds reach a user: a coded ``Refused`` (the command API said no; its ``problems``
value re-worded from the pydantic error that caused it, if one did), a ``TradingError``
(the exchange or the order path said no; its class names the code, the venue's own error name
is a value), and a ``Declined`` a handler wrote from the catalog itself. Anything else is an
error nobody gave a code: it is shown as it is, as a last resort, and logged so it gets one.
"""

from __future__ import annotations

import logging
from decimal import InvalidOperation

from pydantic import ValidationError

from handlers.i18n import Catalog
from handlers.invalid import problems
from trading.command_api import Refused, TradingError

log = logging.getLogger(__name__)

#: what a facade raises for bad input or a refused action: shown to the user, not a crash
EXPECTED_ERRORS = (ValueError, KeyError, LookupError, InvalidOperation, TradingError)


class Declined(LookupError):
    """A handler's refusal, already written in the reader's language from the catalog."""


def refusal_text(t: Catalog, exc: Exception) -> str:
    """``exc`` in ``t``'s language: ``refusal.<code>`` filled with the error's values."""
    if isinstance(exc, Refused):
        return _coded(t, exc.code, _worded(t, exc), exc)
    if isinstance(exc, TradingError):
        return _coded(t, exc.code, exc.values(), exc)
    if isinstance(exc, Declined):
        return str(exc)
    log.warning("an uncoded %s reached a user as is: %s", type(exc).__name__, exc)
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _worded(t: Catalog, exc: Refused) -> dict[str, str]:
    """``exc``'s values with the English ones re-worded in ``t``'s language: ``problems``
    and ``reason`` from the pydantic error that caused the refusal, a value ``<x>`` that has a
    ``<x>_code`` from the catalog entry ``invalid.<x>_code``."""
    values = dict(exc.values)
    cause = exc.__cause__
    for name in ("problems", "reason"):
        if name in values and isinstance(cause, ValidationError):
            values[name] = problems(t, cause)
    for name, code in exc.values.items():
        stem = name.removesuffix("_code")
        if stem != name and stem in values and f"invalid.{code}" in t.messages:
            values[stem] = t.t(f"invalid.{code}", **exc.values)
    return values


def _coded(t: Catalog, code: str, values: dict[str, str], exc: Exception) -> str:
    if f"refusal.{code}" not in t.messages:
        log.warning("refusal code %r has no catalog entry: shown in English: %s", code, exc)
    return t.coded("refusal", code, values.items(), str(exc))
