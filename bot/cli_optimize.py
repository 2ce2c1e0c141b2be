"""``upbit-bot optimize``: argument parsing and the command body (filled in by issue #5)."""

from __future__ import annotations

import argparse
import sys

NAME = "optimize"


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    commands.add_parser(NAME, parents=[common], help="optimize (not yet available)")


def run(args: argparse.Namespace) -> int:
    print(f"upbit-bot: {NAME} is not available yet", file=sys.stderr)
    return 1
