"""The one usage error of the offline commands (download, backtest, optimize)."""

from __future__ import annotations


class UsageError(ValueError):
    """A bad value on the command line or in the data: one line on stderr, exit code 2."""
