"""The optimizer's two failures: bad input (exit 2) and a run that failed (exit 1)."""

from __future__ import annotations

__all__ = ["OptimizeError", "OptimizeInputError"]


class OptimizeInputError(ValueError):
    """Bad input to the optimizer: the message is one line meant for the user."""


class OptimizeError(RuntimeError):
    """The run itself failed (a worker died, every trial failed); one line for the user."""
