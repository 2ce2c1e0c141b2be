"""``upbit-bot backtest``: run a strategy over recorded candles with the paper-trading rules.

Arguments are checked here so every mistake is one line on stderr and exit code 2; the work
is ``trading.backtest``. Heavy modules (numpy, pyarrow, the risk layer, matplotlib) are
imported only when the command runs, matplotlib only when a chart is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_usage import EXIT_OK, Subcommand, args_config, fail, say
from handlers.parser import UsageError

if TYPE_CHECKING:
    from bot.config import AppConfig
    from handlers.i18n import Catalog
    from trading.backtest import BacktestResult, BacktestSpec
    from trading.strategies import CandleFrame

NAME = "backtest"
BUNDLED = Path(__file__).parent / "data" / "upbit_KRW-BTC_1m.csv"
_FILE_NAME = re.compile(r"(?:^|_)([A-Z0-9]+-[A-Z0-9]+)_(\d+[smhd])\.(?:csv|csv\.gz|parquet)$")


COMMAND = Subcommand(
    NAME,
    summary="backtest a strategy on recorded candles (the paper-trading rules)",
    description="Run a strategy over recorded candles with the same strategy code, risk "
    "gate, ATR stops, cooldowns, position limits and paper fill model that paper trading "
    "uses. Defaults come from --config: [strategy], [risk], [paper], bot.markets.",
    epilog="--data takes one file per --market in order (or MARKET=FILE), CSV, CSV.gz or "
    "Parquet with the header timestamp_utc,open,high,low,close,volume[,value]; 'store' "
    "reads the candles `upbit-bot download` stored in store.url. See docs/backtest.md.",
)


def candle_arguments(
    parser: argparse.ArgumentParser, *, data_note: str, plain: str, fill_gaps: str
) -> None:
    """The options ``backtest`` and ``optimize`` share: what to run on which candles;
    ``fill_gaps`` says what ``--fill-gaps`` replaces (the two treat holes differently)."""
    parser.add_argument("--strategy", default=None, help="built-in name or a .py strategy file")
    parser.add_argument(
        "--market", action="append", default=None, metavar="MARKET", help="repeatable"
    )
    parser.add_argument("--timeframe", default=None, help="candle length (default: config)")
    parser.add_argument(
        "--data",
        action="append",
        default=None,
        metavar="FILE|store",
        help=f"candle file per --market (or MARKET=FILE), or 'store'{data_note} (default: the "
        "bundled KRW-BTC 1m file)",
    )
    parser.add_argument(
        "--fill-gaps",
        action="store_true",
        help=f"fill missing candles flat (previous close, volume 0) {fill_gaps}",
    )
    parser.add_argument("--plain", action="store_true", help=plain)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    candle_arguments(
        parser,
        data_note="",
        fill_gaps="and run one series, instead of the default: each contiguous segment run in"
        " turn on one account, warming up anew after every gap (docs/backtest.md)",
        plain="every risk feature off (stops, take-profit, cooldowns, volatility halt, loss "
        "and drawdown halts, halt windows, slippage, the slippage check, the same-candle "
        "re-entry guard): the strategy alone, comparable with other backtesters",
    )
    parser.add_argument("--from", dest="start", default=None, metavar="WHEN", help="UTC date")
    parser.add_argument("--to", dest="end", default=None, metavar="WHEN", help="UTC, exclusive")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="strategy parameter"
    )
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="write files here")
    parser.add_argument("--no-chart", action="store_true", help="no equity.png in --out")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


# -- arguments -----------------------------------------------------------------------------------


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r}: expected a date or ISO datetime (UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _strategy(args: argparse.Namespace, cfg: AppConfig) -> Any:
    from trading.strategies import build_strategy

    name = args.strategy or (cfg.strategy.file or cfg.strategy.name)
    configured = {cfg.strategy.name, cfg.strategy.file} - {""}
    params: dict[str, object] = dict(cfg.strategy.params) if name in configured else {}
    params |= _params(args.param)
    file = name if name.endswith(".py") else ""
    try:
        return build_strategy("" if file else name, file, params)
    except ValueError as exc:  # StrategyLoadError, ParamError
        raise UsageError(str(exc)) from None


def spec_fields(cfg: AppConfig, timeframe: str, plain: bool) -> dict[str, Any]:
    """``BacktestSpec``'s fields but the strategy, from the config (``plain``: every risk
    feature off); ``upbit-bot optimize`` builds its trials from the same."""
    from bot.venue import market_rules
    from trading.backtest.spec import PaperAccount
    from trading.backtest.spec import spec_fields as fields_of
    from trading.risk.limits import RiskLimits
    from trading.risk.settings import PLAIN_RISK

    risk = cfg.risk.model_dump()
    if plain:
        risk |= PLAIN_RISK
    try:
        limits = RiskLimits.from_mapping(risk | {"timezone": cfg.bot.timezone})
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    paper = cfg.paper
    return fields_of(
        limits,
        timeframe,
        PaperAccount(paper.start_krw, paper.fee_rate, paper.slippage_bps),
        rules=market_rules(),
        cooldown_candles=cfg.risk.cooldown_candles,
        stop_cooldown_candles=cfg.risk.stop_cooldown_candles,
        plain=plain,
    )


def _spec(args: argparse.Namespace, cfg: AppConfig, timeframe: str) -> BacktestSpec:
    from trading.backtest import BacktestSpec

    fields = spec_fields(cfg, timeframe, args.plain)
    try:
        return BacktestSpec(strategy=_strategy(args, cfg), **fields)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_timeframe(timeframe: str) -> str:
    from trading.timeframes import timeframe_seconds

    try:
        timeframe_seconds(timeframe)
    except ValueError as exc:
        raise UsageError(f"--timeframe {timeframe!r}: {exc}") from None
    return timeframe


def select_data(
    args: argparse.Namespace, cfg: AppConfig, timeframe: str, *, allow_gaps: bool = False
) -> tuple[dict[str, CandleFrame], list[str]]:
    """The markets' candles (``--market``, ``--data``, ``--from/--to``) checked for gaps,
    duplicates and order, and the notes to show; ``optimize`` selects data the same way.
    Holes of up to three hours are filled flat as live fills them (``QUIET_HOLE_S``; every hole
    with ``--fill-gaps``); ``allow_gaps`` (the backtest): longer holes are kept for the
    segments instead of refused."""
    markets: list[str] = list(args.market or cfg.bot.fixed_markets)
    if args.market is None and args.data and all("=" in d for d in args.data):
        markets = [d.partition("=")[0] for d in args.data]
    if not markets:  # bot.markets = "top:N": chosen live, nothing to replay by itself
        raise UsageError(
            f'bot.markets = "{cfg.bot.markets[0]}" is chosen live from Upbit\'s 24-hour values;'
            " a backtest needs the markets given: --market KRW-BTC (or --data MARKET=FILE)"
        )
    for market in markets:
        if not re.fullmatch(r"[A-Z]{3,4}-[A-Z0-9]{1,15}", market):
            raise UsageError(f"--market {market!r}: expected an Upbit market like KRW-BTC")
    if len(set(markets)) != len(markets):
        raise UsageError("a market is given twice")
    start, end = _when(args.start, "--from"), _when(args.end, "--to")
    if start and end and end <= start:
        raise UsageError("--to must be after --from")
    return _load(args, cfg, _sources(args, markets), timeframe, start, end, allow_gaps)


def _sources(args: argparse.Namespace, markets: list[str]) -> list[tuple[str, str]]:
    """``(market, FILE or 'store')`` per market."""
    data: list[str] = args.data or []
    if not data:
        if markets == ["KRW-BTC"]:
            return [("KRW-BTC", str(BUNDLED))]
        raise UsageError("pass --data FILE for each --market (or --data store)")
    if data == ["store"]:
        return [(m, "store") for m in markets]
    named = [d.partition("=") for d in data]
    if all(sep and re.fullmatch(r"[A-Z0-9]+-[A-Z0-9]+", m) for m, sep, _ in named):
        by_market = {m: path for m, _, path in named}
        unknown = sorted(set(by_market) - set(markets))
        if unknown and args.market:
            raise UsageError(f"--data for {', '.join(unknown)}, which is not a --market")
        order = markets if args.market else list(by_market)
        missing = [m for m in order if m not in by_market]
        if missing:
            raise UsageError(f"no --data for market(s) {', '.join(missing)}")
        return [(m, by_market[m]) for m in order]
    if len(data) != len(markets):
        raise UsageError(
            f"{len(data)} --data value(s) for {len(markets)} market(s): give one per --market"
            " in the same order, or MARKET=FILE"
        )
    return list(zip(markets, data, strict=True))


def _load(
    args: argparse.Namespace,
    cfg: AppConfig,
    sources: list[tuple[str, str]],
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
    allow_gaps: bool,
) -> tuple[dict[str, CandleFrame], list[str]]:
    from trading.backtest.data import (
        check_aligned,
        fill_gaps,
        find_gaps,
        load_frame,
        slice_frame,
    )
    from trading.backtest.segments import QUIET_HOLE_S
    from trading.timeframes import timeframe_seconds

    step = timeframe_seconds(timeframe)
    frames: dict[str, CandleFrame] = {}
    notes: list[str] = []
    t = catalog(cfg)
    lo = None if start is None else int(start.timestamp())
    hi = None if end is None else int(end.timestamp())
    for market, source in sources:
        if source == "store":
            frame, label = _from_store(cfg, market, timeframe, start, end), f"store {market}"
        else:
            path = Path(source)
            _check_name(path, market, timeframe)
            try:
                frame = slice_frame(load_frame(path), lo, hi)
            except ValueError as exc:  # CandleFileError names the file and line
                raise UsageError(str(exc)) from None
            label = str(path)
        if len(frame) == 0:
            raise UsageError(f"{label}: no candles between --from and --to")
        try:
            check_aligned(frame, step, label)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if args.fill_gaps:
            frame, added = fill_gaps(frame, step)
            if added:
                notes.append(t.t("backtest.filled", market=market, added=f"{added:,}"))
        else:  # quiet minutes and maintenance: filled as live fills them; longer holes stay
            frame, added = fill_gaps(frame, step, QUIET_HOLE_S)
            if added:
                notes.append(t.t("backtest.quiet", market=market, added=f"{added:,}"))
            if find_gaps(frame, step) and not allow_gaps:
                raise UsageError(_gaps_refused(cfg, label, frame, step))
        frames[market] = _share_timeline(frame, frames.values())
    return frames, notes


def _gaps_refused(cfg: AppConfig, label: str, frame: CandleFrame, timeframe_s: int) -> str:
    """``optimize``'s refusal of candles with holes, coded, in the configured language: where
    the gap is and the ways on (a complete range from the newest stretch, ``--fill-gaps``,
    or ``backtest``, which runs over gaps). Why it refuses: docs/optimize.md."""
    import numpy as np

    from handlers.i18n import Catalog
    from trading.backtest.data import find_gaps, iso

    gaps = find_gaps(frame, timeframe_s)
    holes = np.flatnonzero(np.diff(frame.start) != timeframe_s)
    newest = int(frame.start[int(holes[-1]) + 1])
    text = Catalog.load(cfg.bot.language).t(
        "optimize.gaps",
        label=label,
        missing=f"{gaps.missing:,}",
        holes=gaps.holes,
        after=iso(gaps.first_after or 0),
        newest=iso(newest),
    )
    return f"[optimize_gaps] {text}"


def _share_timeline(frame: CandleFrame, others: Iterable[CandleFrame]) -> CandleFrame:
    """The frame on an equal timeline already loaded: ten markets of a year of minutes hold
    one 4 MB ``start`` array instead of ten."""
    import numpy as np

    for other in others:
        if np.array_equal(other.start, frame.start):
            return dataclasses.replace(frame, start=other.start)
    return frame


def _check_name(path: Path, market: str, timeframe: str) -> None:
    """A file named like the shared data (``upbit_KRW-ETH_1h.csv``) must match the request."""
    match = _FILE_NAME.search(path.name)
    if match is None:
        return
    named_market, named_tf = match.groups()
    if named_market != market:
        raise UsageError(f"{path}: the file is for {named_market}, not --market {market}")
    if named_tf != timeframe:
        raise UsageError(f"{path}: the file has {named_tf} candles, not --timeframe {timeframe}")


def _from_store(
    cfg: AppConfig, market: str, timeframe: str, start: datetime | None, end: datetime | None
) -> CandleFrame:
    from trading.history.store_candles import load_frame

    try:
        return load_frame(cfg.store.url, market, timeframe, start, end)
    except (LookupError, ValueError) as exc:
        raise UsageError(f"store: {exc}") from None


def catalog(cfg: AppConfig) -> Catalog:
    """The configured language's texts, for the notes on the data."""
    from handlers.i18n import Catalog as Texts

    return Texts.load(cfg.bot.language)


def _gap_notes(
    cfg: AppConfig, frames: dict[str, CandleFrame], timeframe_s: int, segments: int
) -> list[str]:
    """Per market with holes, in the configured language: how much is missing, where, and
    how the backtest treats it (``trading.backtest.segments``)."""
    from trading.backtest.data import find_gaps, iso

    t = catalog(cfg)
    notes = []
    for market, frame in frames.items():
        gaps = find_gaps(frame, timeframe_s)
        if gaps:
            notes.append(
                t.t(
                    "backtest.gaps",
                    market=market,
                    missing=f"{gaps.missing:,}",
                    holes=gaps.holes,
                    after=iso(gaps.first_after or 0),
                    segments=segments,
                )
            )
    return notes


# -- output --------------------------------------------------------------------------------------


def _summary(
    result: BacktestResult, spec: BacktestSpec, frames: dict[str, CandleFrame], notes: list[str]
) -> dict[str, Any]:
    from trading.backtest.data import iso

    first = min(int(f.start[0]) for f in frames.values())
    last = max(int(f.start[-1]) for f in frames.values())
    return {
        "strategy": spec.strategy.name,
        "params": spec.strategy.params.model_dump(mode="json"),
        "markets": list(frames),
        "timeframe": spec.timeframe,
        "from": iso(first),
        "to": iso(last + spec.timeframe_s),
        "candles": len(result.times),
        **result.metrics.as_dict(),
        "notes": notes,
    }


def _fmt(value: object, unit: str = "", places: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{places}f}{unit}"
    return f"{value}{unit}"


def _table(summary: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in summary["params"].items())
    rows = [
        ("trades", f"{summary['trades']:,}"),
        ("win rate", _fmt(summary["win_rate"], " %", 1)),
        ("total return", _fmt(summary["total_return_pct"], " %")),
        ("annualized return", _fmt(summary["annualized_return_pct"], " %")),
        ("max drawdown", _fmt(summary["max_drawdown_pct"], " %")),
        ("sharpe", _fmt(summary["sharpe"])),
        ("sortino", _fmt(summary["sortino"])),
        ("calmar", _fmt(summary["calmar"])),
        ("profit factor", _fmt(summary["profit_factor"])),
        ("exposure", _fmt(summary["exposure_pct"], " %", 1)),
        ("fees paid", _fmt(summary["fees_krw"], " KRW", 0)),
        ("final equity", _fmt(summary["final_equity_krw"], " KRW", 0)),
        ("buy and hold", _fmt(summary["buy_and_hold_return_pct"], " %")),
        ("volatility halt", _fmt(summary["volatility_halted_pct"], " % of the time", 1)),
    ]
    if len(summary.get("segments", ())) > 1:  # the data has gaps: each segment warmed up anew
        rows.append(
            ("segments", ", ".join(f"{g['from']} .. {g['to']}" for g in summary["segments"]))
        )
    head = (
        f"backtest {summary['strategy']} ({params}) on {', '.join(summary['markets'])}"
        f" {summary['timeframe']}, {summary['from']} .. {summary['to']}"
        f" ({summary['candles']:,} candles)"
    )
    width = max(len(k) for k, _ in rows)
    return "\n".join([head, *(f"  {k:<{width}}  {v}" for k, v in rows)])


def _write(out: Path, result: BacktestResult, summary: dict[str, Any], chart: bool) -> None:
    import csv

    out.mkdir(parents=True, exist_ok=True)
    rows = [t.as_dict() for t in result.trades]
    columns = [
        "market",
        "entry_at",
        "exit_at",
        "entry_price",
        "exit_price",
        "volume",
        "entry_fee",
        "exit_fee",
        "pnl_krw",
        "return_pct",
        "exit_reason",
    ]
    with open(out / "trades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    (out / "trades.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if chart:
        _chart(out / "equity.png", result, summary)


def _chart(path: Path, result: BacktestResult, summary: dict[str, Any]) -> None:
    from trading.backtest.chart import chart_png

    title = (
        f"{summary['strategy']} on {', '.join(summary['markets'])} {summary['timeframe']}:"
        f" {summary['total_return_pct']:+.2f} %, max drawdown {summary['max_drawdown_pct']:.2f} %"
    )
    path.write_bytes(chart_png(result.times, result.equity, title))


# -- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    cfg = args_config(args)
    try:
        return _run(args, cfg)
    except UsageError as exc:
        return fail(NAME, exc)


def _run(args: argparse.Namespace, cfg: AppConfig) -> int:
    from trading.backtest.data import iso
    from trading.backtest.segments import backtest_segmented
    from trading.strategies import StrategyError

    timeframe = check_timeframe(args.timeframe or cfg.strategy.timeframe)
    spec = _spec(args, cfg, timeframe)
    frames, notes = select_data(args, cfg, timeframe, allow_gaps=True)
    try:
        result, segments = backtest_segmented(spec, frames)
    except StrategyError as exc:
        raise UsageError(str(exc)) from None
    if len(segments) > 1:
        notes += _gap_notes(cfg, frames, spec.timeframe_s, len(segments))
    for note in notes:
        say(NAME, note)
    summary = _summary(result, spec, frames, notes)
    summary["segments"] = [
        {"from": iso(g.start), "to": iso(g.end), "candles": g.candles} for g in segments
    ]
    if args.out is not None:
        _write(args.out, result, summary, chart=not args.no_chart)
    if args.json:
        print(json.dumps(summary))
    else:
        print(_table(summary))
        if args.out is not None:
            print(f"trades: {args.out / 'trades.csv'}, {args.out / 'trades.json'}")
    return EXIT_OK
