"""Label values that cannot explode: path templates and capped value sets.

Every distinct label value is a new time series in Prometheus, kept for weeks. A label fed
from outside (an exchange error name, a typed command, a URL) therefore goes through here:
ids become ``{id}``, odd characters and values past a cap become ``other``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

OTHER = "other"
_ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F-]{8,}|[0-9a-fA-F]{16,}|\d{6,})$")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/{}-]{1,64}$")


def endpoint_template(url: str) -> str:
    """``/v1/order?uuid=...`` -> ``/v1/order``; id-like path segments -> ``{id}``.

    The REST client already reports templates; this keeps a raw URL or an id in a path from
    ever becoming a label of its own.
    """
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    parts = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return "/".join(parts) or "/"


class BoundedLabel:
    """Passes through at most ``cap`` distinct safe values; the rest are counted as ``other``."""

    def __init__(self, cap: int, *, preset: tuple[str, ...] = ()) -> None:
        if cap < 1:
            raise ValueError(f"cap must be at least 1, not {cap}")
        self.cap = cap
        self._seen: set[str] = set(preset)

    def __call__(self, value: object) -> str:
        text = str(value)
        if text in self._seen:
            return text
        if not _SAFE_VALUE.match(text) or len(self._seen) >= self.cap:
            return OTHER
        self._seen.add(text)
        return text

    def __len__(self) -> int:
        return len(self._seen)
