"""What the offline commands (download, backtest, optimize) share: their exit codes, how each
declares its subcommand, the config it reads and the one line a mistake prints.

A mistake on the command line or in the data is ``handlers.parser.UsageError`` (the one usage
error, which chat commands raise too): one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import AppConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def subcommand(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """The subcommand's parser, with the options every command takes (``common``)."""
    return commands.add_parser(
        name, parents=[common], help=summary, description=description, epilog=epilog
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
