"""One copy for values kept under the same names in two types.

A settings section and the object it tunes (``HttpConfig`` and the HTTP guard's
``ConnectionLimits``, ``[notify]`` and the notifier), or a store record and the API's response
model (``AuditRecord`` and ``AuditOut``), hold the same values under the same names. Spelling
out ``name=source.name`` for each made every such pair a list to keep in step by hand; this
copies them by name, so a field added to both sides needs no new line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any


def same_named(source: object, names: Iterable[str]) -> dict[str, Any]:
    """``{name: source.name}`` for each of ``names``, ready to pass as keyword arguments."""
    return {name: getattr(source, name) for name in names}


def field_names(dataclass_type: type) -> tuple[str, ...]:
    """The names of a dataclass's fields, in their order."""
    return tuple(f.name for f in fields(dataclass_type))
