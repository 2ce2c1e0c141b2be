"""The optimizer's two failures: bad input (exit 2) and a run that failed (exit 1)."""

from __future__ import annotations

__all__ = ["OptimizeError", "OptimizeInputError", "RiskSpaceError", "SpaceError"]


class OptimizeInputError(ValueError):
    """Bad input to the optimizer: the message is one line meant for the user."""


class SpaceError(OptimizeInputError):
    """A ``NAME=...`` the search space refuses, in parts a chat catalog can translate.

    The message is the CLI's line (it names ``--param``/``--space``); chat words the parts.
    ``reason`` is ``unknown`` (no such parameter; ``allowed`` lists the known ones),
    ``bounds`` (a value or range reaching outside the declared bounds), ``range`` (neither a
    number nor ``lo..hi`` of numbers), ``choice`` (not among a bool's or ``Literal``'s
    choices), ``grouped`` (``50,000``: a number list that may be one grouped number),
    ``unsearchable`` (free text or a table), ``twice`` (both pinned and searched)
    or ``empty`` (every parameter pinned: nothing left to search). ``allowed`` is the range
    text (``2..200``, ``sma|ema``) read from the parameter's model, so no reader keeps a copy
    of the bounds; ``strategy`` names the strategy whose parameters were meant.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        key: str,
        value: str,
        allowed: str,
        strategy: str = "",
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.key = key
        self.value = value
        self.allowed = allowed
        self.strategy = strategy


class RiskSpaceError(SpaceError):
    """A ``risk.NAME=...`` the search space refuses; bounds from ``RiskSettings``."""


class OptimizeError(RuntimeError):
    """The run itself failed (a worker died, every trial failed); one line for the user."""
