"""The optimizer's two failures: bad input (exit 2) and a run that failed (exit 1)."""

from __future__ import annotations

__all__ = ["OptimizeError", "OptimizeInputError", "RiskSpaceError"]


class OptimizeInputError(ValueError):
    """Bad input to the optimizer: the message is one line meant for the user."""


class RiskSpaceError(OptimizeInputError):
    """A ``risk.NAME=...`` the search space refuses, in parts a chat catalog can translate.

    ``reason`` is ``unknown`` (no such setting; ``allowed`` lists the known ones), ``bounds``
    (a range reaching outside the setting's bounds), ``range`` (not ``lo..hi`` of numbers),
    ``choice`` (not choices of a bool or ``Literal`` setting) or ``unsearchable`` (a table or
    free text); ``allowed`` is the setting's range text (``0..20``, ``true|false``) from the
    settings model, so no reader keeps a copy of the bounds.
    """

    def __init__(self, message: str, *, reason: str, key: str, value: str, allowed: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.key = key
        self.value = value
        self.allowed = allowed


class OptimizeError(RuntimeError):
    """The run itself failed (a worker died, every trial failed); one line for the user."""
