"""The download report: a table for people, one JSON object for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from trading.history.downloader import SeriesReport
from trading.history.series import gap_end, longest
from trading.history.timeframes import parse_timeframe

LONGEST_GAPS = 5


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def series_json(report: SeriesReport) -> dict[str, Any]:
    tf = parse_timeframe(report.timeframe)
    return {
        "market": report.market,
        "timeframe": report.timeframe,
        "from": _iso(report.start),
        "to": _iso(report.end),
        "complete": report.complete,
        "fetched": report.fetched,
        "already_present": report.present,
        "filled": report.filled,
        "gap_runs": len(report.gaps),
        "longest_gaps": [
            {"start": _iso(g.start), "end": _iso(gap_end(tf, g)), "candles": g.count}
            for g in longest(report.gaps, LONGEST_GAPS)
        ],
        "first_candle": _iso(report.first),
        "last_candle": _iso(report.last),
        "history_starts": _iso(report.history_starts),
        "requests": report.requests,
        "seconds": round(report.seconds, 3),
    }


def report_json(
    reports: Sequence[SeriesReport], *, target: str, seconds: float, error: str | None = None
) -> dict[str, Any]:
    fetched = sum(r.fetched for r in reports)
    return {
        "target": target,
        "ok": error is None,
        "error": error,
        "seconds": round(seconds, 3),
        "requests": sum(r.requests for r in reports),
        "fetched": fetched,
        "filled": sum(r.filled for r in reports),
        "candles_per_second": round(fetched / seconds, 1) if seconds > 0 else None,
        "series": [series_json(r) for r in reports],
    }


def report_table(reports: Sequence[SeriesReport], *, target: str, seconds: float) -> str:
    """A fixed-width table, then the longest gaps and notes per series."""
    head = (
        "market", "timeframe", "fetched", "present", "filled",
        "first candle", "last candle", "requests", "time",
    )  # fmt: skip
    rows = [
        (
            r.market,
            r.timeframe,
            f"{r.fetched:,}",
            f"{r.present:,}",
            f"{r.filled:,}",
            _when(r.first),
            _when(r.last),
            f"{r.requests:,}",
            f"{r.seconds:.1f}s" + ("" if r.complete else " (stopped)"),
        )
        for r in reports
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    right = {2, 3, 4, 7, 8}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [f"Downloaded into {target} in {seconds:.1f}s", fmt(head)]
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(row) for row in rows]
    for r in reports:
        tf = parse_timeframe(r.timeframe)
        if r.gaps:
            worst = ", ".join(
                f"{_when(g.start)}..{_when(gap_end(tf, g))} ({g.count:,})"
                for g in longest(r.gaps, LONGEST_GAPS)
            )
            lines.append(
                f"{r.market} {r.timeframe}: filled {r.filled:,} empty intervals in "
                f"{len(r.gaps):,} gaps; longest: {worst}"
            )
        if r.history_starts is not None:
            lines.append(
                f"{r.market} {r.timeframe}: Upbit has no candle before "
                f"{_when(r.history_starts)} (nothing filled before it)"
            )
    return "\n".join(lines)
