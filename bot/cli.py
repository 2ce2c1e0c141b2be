"""``upbit-bot``: the one entry point; ``python -m bot`` does the same.

Heavy modules (the engine, the store) are imported inside the commands, so ``check-config``
works, and fails fast with a readable message, even where the rest of the house is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from bot import cli_backtest, cli_download, cli_optimize, stored_settings
from bot.cli_usage import Subcommand
from bot.config import AppConfig, ConfigError, load_config, redacted_dump
from bot.config.fields import mask_url_password

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
DEFAULT_CONFIG = Path("config.toml")
STRATEGY_FILE_WARNING = (
    "# strategy.file runs as Python inside the bot, with every secret in its environment\n"
    "# (Upbit keys, chat tokens, the API token): load only code you wrote or reviewed. It must\n"
    "# belong to the bot's user (or root) and neither it nor its folder be world-writable.\n"
)


#: Offline commands with their own modules: ``NAME``, ``COMMAND`` (its help), its
#: ``add_arguments(parser)`` and ``run(args) -> exit code``; each loads the config itself
#: (``bot.cli_usage.args_config``) if it needs one.
class Tool(Protocol):
    NAME: str
    COMMAND: Subcommand

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


TOOLS: dict[str, Tool] = {m.NAME: m for m in (cli_download, cli_backtest, cli_optimize)}


def _common() -> argparse.ArgumentParser:
    # SUPPRESS lets both `upbit-bot --config X run` and `upbit-bot run --config X` work
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="TOML config file (default: $UPBIT_BOT_CONFIG, else ./config.toml if present,"
        " else built-in defaults)",
    )
    common.add_argument(
        "--env-file",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="dotenv file with secrets and overrides (default: $UPBIT_BOT_ENV_FILE, else ./.env"
        " if present)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="upbit-bot",
        parents=[common],
        description="Upbit trading bot steered from Telegram and Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", parents=[common], help="run the bot until stopped")
    commands.add_parser(
        "check-config", parents=[common], help="validate and print the effective config"
    )
    for module in TOOLS.values():
        module.add_arguments(module.COMMAND.parser(commands, common))
    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser(
        "upgrade", parents=[common], help="apply database migrations up to the newest"
    )
    return parser


def resolve_config_path(explicit: Path | None) -> Path | None:
    """The file to load: --config, then $UPBIT_BOT_CONFIG, then ./config.toml if it exists."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("UPBIT_BOT_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_args_config(args: argparse.Namespace) -> tuple[AppConfig, Path | None]:
    """The config the command line points at (``--config``, ``--env-file``, or defaults)."""
    path = resolve_config_path(getattr(args, "config", None))
    env_file: Path | None = getattr(args, "env_file", None)
    if env_file is None and os.environ.get("UPBIT_BOT_ENV_FILE"):
        env_file = Path(os.environ["UPBIT_BOT_ENV_FILE"])
    return load_config(path, dotenv=env_file), path


def _strategy_file_refusal(cfg: AppConfig) -> str | None:
    """Why the configured strategy file may not run (a missing file is the start's to say)."""
    from trading.strategies.trust import untrusted_reason

    file = cfg.strategy.file
    if not file or not Path(file).is_file():
        return None
    reason = untrusted_reason(Path(file))
    return None if reason is None else f"strategy.file {file} refused: {reason}"


def _check_config(cfg: AppConfig, path: Path | None) -> int:
    source = f"config file {path}" if path is not None else "built-in defaults (no config.toml)"
    print(f"upbit-bot: using {source}", file=sys.stderr)
    sys.stdout.write(redacted_dump(cfg))
    if cfg.strategy.file:
        sys.stdout.write("\n" + STRATEGY_FILE_WARNING)
    sys.stdout.write("\n" + "\n".join(stored_settings.report(cfg)) + "\n")
    refusal = _strategy_file_refusal(cfg)
    if refusal is not None:
        print(f"upbit-bot: {refusal}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


def _db_upgrade(cfg: AppConfig) -> int:
    from trading.store.migrate import upgrade

    try:
        revision = asyncio.run(upgrade(cfg.store.url))
    except Exception as exc:  # the CLI boundary: one readable line instead of a traceback
        url = mask_url_password(cfg.store.url)
        print(f"upbit-bot: db upgrade of {url} failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(revision)
    return EXIT_OK


def _run(cfg: AppConfig) -> int:
    from bot import app

    return int(asyncio.run(app.run(cfg)))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, load the config and run one command; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    if args.command in TOOLS:
        try:
            return TOOLS[args.command].run(args)
        except ConfigError as exc:
            print(f"upbit-bot: invalid configuration:\n{exc}", file=sys.stderr)
            return EXIT_CONFIG
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    try:
        cfg, path = load_args_config(args)
    except ConfigError as exc:
        print(f"upbit-bot: invalid configuration:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.command == "check-config":
            return _check_config(cfg, path)
        if args.command == "db":
            return _db_upgrade(cfg)
        refusal = _strategy_file_refusal(cfg)
        if refusal is not None:  # before anything starts: its code must not run
            print(f"upbit-bot: {refusal}", file=sys.stderr)
            return EXIT_CONFIG
        return _run(cfg)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
