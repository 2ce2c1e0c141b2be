"""What the offline commands (download, backtest, optimize) share: their exit codes, how each
declares its subcommand, the config it reads and the one line a mistake prints.

A mistake on the command line or in the data is ``handlers.parser.UsageError`` (the one usage
error, which chat commands raise too): one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import AppConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True, slots=True)
class Subcommand:
    """How an offline command presents itself in ``upbit-bot --help`` and its own."""

    name: str
    summary: str
    description: str
    epilog: str

    def parser(
        self,
        commands: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
    ) -> argparse.ArgumentParser:
        """Its parser, with the options every command takes (``common``)."""
        return commands.add_parser(
            self.name,
            parents=[common],
            help=self.summary,
            description=self.description,
            epilog=self.epilog,
        )


def args_config(args: argparse.Namespace) -> AppConfig:
    """The config the command line points at (``--config``, ``--env-file``, or defaults)."""
    from bot.cli import load_args_config  # bot.cli imports the commands

    cfg, _ = load_args_config(args)
    return cfg


def say(name: str, message: object) -> None:
    """One line on stderr, named after the command: ``upbit-bot backtest: ...``."""
    print(f"upbit-bot {name}: {message}", file=sys.stderr)


def fail(name: str, message: object, code: int = EXIT_USAGE) -> int:
    """``say`` the failure; returns the exit code."""
    say(name, message)
    return code
