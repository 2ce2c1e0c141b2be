"""``Refused``: the engine said no to a request, with a code chat can translate.

The English ``message`` is for logs and the API; ``code`` and ``values`` render the catalog
entry ``refusal.<code>`` in the user's language (the same contract as a risk ``Denied``).
"""

from __future__ import annotations


class Refused(ValueError):
    """A request the engine will not carry out; nothing was changed."""

    def __init__(self, code: str, message: str, /, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.values = {k: str(v) for k, v in values.items()}
