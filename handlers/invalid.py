"""pydantic's validation failures in the reader's language, from the catalogs.

pydantic words its errors in English (``Input should be greater than or equal to 1``); every
place that shows one to a user (chat, the HTTP command API's 422) renders it here instead:
the error's ``type`` picks the catalog entry ``invalid.<kind>``, filled with the field's label,
the value given and the bound or choices. A model's own rule raised as a
``PydanticCustomError`` whose type has an ``invalid.<type>`` entry is shown with that entry;
any other type reads as "not a valid value", never pydantic's sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from handlers.i18n import Catalog

log = logging.getLogger(__name__)

#: pydantic error type -> (catalog kind, the ``ctx`` key of its bound, if any)
_KINDS: dict[str, tuple[str, str | None]] = {
    "greater_than_equal": ("at_least", "ge"),
    "greater_than": ("above", "gt"),
    "less_than_equal": ("at_most", "le"),
    "less_than": ("below", "lt"),
    "string_too_short": ("too_short", "min_length"),
    "too_short": ("too_short", "min_length"),
    "string_too_long": ("too_long", "max_length"),
    "too_long": ("too_long", "max_length"),
    "string_pattern_mismatch": ("pattern", None),
    "decimal_parsing": ("number", None),
    "decimal_type": ("number", None),
    "float_parsing": ("number", None),
    "float_type": ("number", None),
    "finite_number": ("number", None),
    "int_parsing": ("whole_number", None),
    "int_type": ("whole_number", None),
    "int_from_float": ("whole_number", None),
    "bool_parsing": ("yes_no", None),
    "bool_type": ("yes_no", None),
    "string_type": ("text", None),
    "missing": ("missing", None),
    "extra_forbidden": ("extra", None),
    "literal_error": ("choice", "expected"),
    "enum": ("choice", "expected"),
    "model_type": ("object", None),
    "model_attributes_type": ("object", None),
    "dict_type": ("object", None),
}
SHOWN_CHARS = 40


def problems(t: Catalog, exc: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """Every problem of ``exc`` as one line in ``t``'s language (``; `` between them).

    ``labels`` names a field as the reader knows it (``{"start": "시작"}``); a field without
    one is shown by its path (``risk.position_size_krw``, ``command``).
    """
    return "; ".join(problem(t, e, labels or {}) for e in exc.errors(include_url=False))


def problem(t: Catalog, error: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """One pydantic error dict as the catalog's sentence."""
    kind_name = str(error.get("type", ""))
    loc: Sequence[object] = error.get("loc", ())
    path = ".".join(str(part) for part in loc)
    first = str(loc[0]) if loc else ""
    field = labels.get(path) or labels.get(first) or path or t.t("invalid.input")
    value = _shown(error.get("input"))
    context: Mapping[str, object] = error.get("ctx") or {}
    if f"invalid.{kind_name}" in t.messages:  # a model rule with its own entry and values
        own = {k: _shown(v) for k, v in context.items() if k != "error"}
        return t.t(f"invalid.{kind_name}", **{**own, "field": field, "value": value})
    kind, bound = _KINDS.get(kind_name, ("other", None))
    if kind == "other":
        log.info("pydantic error type %r has no catalog entry: shown as invalid", kind_name)
    if bound is None:
        return t.t(f"invalid.{kind}", field=field, value=value)
    return t.t(f"invalid.{kind}", field=field, value=value, limit=_shown(context.get(bound)))


def _shown(value: object) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
