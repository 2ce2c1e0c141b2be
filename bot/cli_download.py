"""``upbit-bot download``: candle history from Upbit into the store or into CSV/Parquet files.

Argument structure is argparse's; values (dates, timeframes, markets) are checked here so
every mistake is one line on stderr and exit code 2. The work is ``trading.history``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_usage import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Subcommand, args_config, fail
from handlers.parser import UsageError
from trading.history.timeframes import TIMEFRAMES, Timeframe, TimeframeError, parse_timeframe

if TYPE_CHECKING:
    from bot.config import AppConfig
    from trading.history.downloader import Downloader, SeriesJob, SeriesReport
    from trading.history.targets import CandleTarget

NAME = "download"
_MARKET = re.compile(r"^[A-Z]{2,5}-[A-Z0-9]{1,20}$")


COMMAND = Subcommand(
    NAME,
    summary="download candle history from Upbit into the store or files",
    description="Download candles from Upbit's REST API (200 per call, within the "
    "quotation rate limit). Resumable: what the target already holds is not fetched "
    "again. Intervals without trades, which Upbit omits, are filled with flat candles "
    "(previous close, volume 0) and counted in the report.",
    epilog="Dates are UTC: a date (2024-01-01) or an ISO datetime (2024-01-01T09:30, "
    "2024-01-01T09:30:00Z); an explicit offset (+09:00) is converted to UTC. --from is "
    "inclusive, --to exclusive; candles are selected by their start time.",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--market",
        action="append",
        required=True,
        metavar="MARKET",
        help="Upbit market like KRW-BTC (repeatable)",
    )
    parser.add_argument(
        "--timeframe",
        action="append",
        required=True,
        metavar="TF",
        help=f"candle unit (repeatable): {', '.join(TIMEFRAMES)}; 60m/240m mean 1h/4h, "
        "1M is a month; Upbit keeps 1s candles for 3 months only",
    )
    parser.add_argument(
        "--from", dest="start", required=True, metavar="WHEN", help="first candle start, UTC"
    )
    parser.add_argument(
        "--to",
        dest="end",
        metavar="WHEN",
        help="end (exclusive), UTC; default: now (only closed candles are downloaded)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--to-store", action="store_true", help="write into the store (config store.url)"
    )
    where.add_argument(
        "--out", type=Path, metavar="DIR", help="write one file per market and timeframe"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="file format with --out (default csv; Parquet keeps numbers as exact decimal text)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="series downloaded at once (default 4); the rate limit is shared",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--json", action="store_true", help="print the report as one JSON object (for scripts)"
    )


def parse_when(text: str, flag: str) -> datetime:
    """A date or ISO datetime; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{flag} {text!r} is not a date (2024-01-01) or ISO datetime (2024-01-01T09:30Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_markets(values: Sequence[str]) -> list[str]:
    markets: list[str] = []
    for value in values:
        market = value.strip().upper()
        if not _MARKET.match(market):
            raise UsageError(f"--market {value!r} is not an Upbit market like KRW-BTC")
        if market not in markets:
            markets.append(market)
    return markets


def parse_timeframes(values: Sequence[str]) -> list[Timeframe]:
    out: list[Timeframe] = []
    for value in values:
        try:
            tf = parse_timeframe(value.strip())
        except TimeframeError as exc:
            raise UsageError(str(exc)) from None
        if tf not in out:
            out.append(tf)
    return out


@dataclass(frozen=True, slots=True)
class Request:
    markets: list[str]
    timeframes: list[Timeframe]
    start: datetime
    end: datetime
    out: Path | None
    fmt: str
    concurrency: int
    quiet: bool
    json: bool


def parse_request(args: argparse.Namespace, *, now: datetime | None = None) -> Request:
    """Every value check that needs no network; raises ``UsageError``."""
    timeframes = parse_timeframes(args.timeframe)
    markets = parse_markets(args.market)
    start = parse_when(args.start, "--from")
    moment = now or datetime.now(UTC)
    end = parse_when(args.end, "--to") if args.end is not None else moment
    if start >= moment:
        raise UsageError(f"--from {start:%Y-%m-%dT%H:%M:%SZ} is in the future")
    if start >= end:
        raise UsageError(
            f"--from {start:%Y-%m-%dT%H:%M:%SZ} must be before --to {end:%Y-%m-%dT%H:%M:%SZ}"
        )
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.out is None and args.format != "csv":
        raise UsageError("--format needs --out DIR (the store has its own format)")
    return Request(
        markets,
        timeframes,
        start,
        end,
        args.out,
        args.format,
        args.concurrency,
        args.quiet,
        args.json,
    )


def _target(request: Request, cfg: AppConfig) -> CandleTarget:
    if request.out is None:
        from trading.history.store_candles import StoreTarget

        return StoreTarget(cfg.store.url)
    from trading.history.files import FileTarget

    return FileTarget(request.out, "parquet" if request.fmt == "parquet" else "csv")


async def download(request: Request, cfg: AppConfig) -> int:
    """Open the target, download, print the report; returns the exit code."""
    from bot.upbit_factory import CANDLE_PAGE_SIZE, rest_client
    from trading.events import ignore_event
    from trading.history.downloader import Downloader, plan_jobs
    from trading.history.report import report_json, report_table
    from trading.history.targets import TargetError

    target = _target(request, cfg)
    began = time.monotonic()
    try:
        await target.open()
    except TargetError as exc:
        await target.close()
        return fail(NAME, exc)
    jobs = plan_jobs(request.markets, request.timeframes, request.start, request.end)
    reports: list[SeriesReport] = []
    error: str | None = None
    code = EXIT_OK
    try:
        async with rest_client(cfg, ignore_event) as client:
            loader = Downloader(
                client, target, page_size=CANDLE_PAGE_SIZE, concurrency=request.concurrency
            )
            reports, error, code = await _fetch(loader, jobs, quiet=request.quiet)
    except TargetError as exc:
        error, code = str(exc), EXIT_USAGE
    finally:
        await target.close()
    seconds = time.monotonic() - began
    if request.json:
        doc = report_json(reports, target=target.describe(), seconds=seconds, error=error)
        print(json.dumps(doc, ensure_ascii=False))
    elif reports:
        print(report_table(reports, target=target.describe(), seconds=seconds))
    if error is not None:
        return fail(NAME, error, code)
    return code


async def _fetch(
    loader: Downloader, jobs: Sequence[SeriesJob], *, quiet: bool
) -> tuple[list[SeriesReport], str | None, int]:
    """Run the jobs behind a progress bar on a terminal. Returns the reports (what was
    fetched, also when it stopped), the error that stopped it and the exit code."""
    from tqdm import tqdm

    from trading.errors import UpbitError
    from trading.history.downloader import Progress, ServerIgnoresTo, UnknownMarket
    from trading.history.targets import TargetError

    total = sum((await loader.plan_total(jobs)).values())
    with tqdm(
        total=total,
        unit="candle",
        unit_scale=True,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        dynamic_ncols=True,
    ) as bar:

        def advance(progress: Progress) -> None:
            bar.update(progress.intervals)

        loader.on_progress = advance
        try:
            return await loader.run(jobs), None, EXIT_OK
        except UnknownMarket as exc:
            return loader.reports, str(exc), EXIT_USAGE
        except (UpbitError, TargetError, ServerIgnoresTo) as exc:
            error = f"download stopped: {exc}; what was fetched is kept, run again to resume"
            return loader.reports, error, EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    try:
        request = parse_request(args)
    except UsageError as exc:
        return fail(NAME, exc)
    cfg = args_config(args)
    return asyncio.run(download(request, cfg))
