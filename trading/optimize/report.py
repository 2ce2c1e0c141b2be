"""The verdict as text (a table, in-sample beside out-of-sample per fold) and as JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from trading.optimize.risk_space import risk_setting_values
from trading.optimize.runner import FoldResult, OptimizeResult
from trading.settings import show

__all__ = ["as_json", "table"]

_COLUMNS = (
    ("trades", "trades", "{:.0f}"),
    ("return%", "total_return_pct", "{:+.2f}"),
    ("maxDD%", "max_drawdown_pct", "{:.2f}"),
    ("sharpe", "sharpe", "{:.2f}"),
    ("sortino", "sortino", "{:.2f}"),
    ("calmar", "calmar", "{:.2f}"),
    ("PF", "profit_factor", "{:.2f}"),
    ("win%", "win_rate", "{:.1f}"),
    ("B&H%", "buy_and_hold_return_pct", "{:+.2f}"),
)


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _cell(value: float | None, pattern: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return pattern.format(value)


def _score(value: float, counts: bool) -> str:
    return f"{value:.3f}" if counts and math.isfinite(value) else "too few"


def _rows(result: OptimizeResult, fold: FoldResult) -> list[list[str]]:
    objective = result.objective
    name = f"{fold.fold.index + 1}" if len(result.folds) > 1 else ""
    rows = []
    for label, metrics, score, window in (
        ("in-sample", fold.in_sample, fold.in_score, fold.train),
        ("out-of-sample", fold.out_of_sample, fold.out_score, fold.test),
    ):
        cells = [_cell(metrics.get(key), pattern) for _, key, pattern in _COLUMNS]
        span = f"{_day(window[0])} .. {_day(window[1])}"
        rows.append([name, label, span, _score(score, objective.counts(score)), *cells])
        name = ""
    return rows


def _render(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def table(result: OptimizeResult) -> list[str]:
    """Per fold: the chosen parameters, then in-sample and out-of-sample metrics one above the
    other, so a collapse out-of-sample (overfitting) is seen at a glance."""
    lines = [f"objective: {result.objective.describe()}"]
    for fold in result.folds:
        chosen = fold.best_params | {
            f"risk.{k}": show(v) for k, v in risk_setting_values(fold.best_risk).items()
        }
        params = ", ".join(f"{k}={v}" for k, v in chosen.items())
        label = f"fold {fold.fold.index + 1}" if len(result.folds) > 1 else "best"
        t = fold.trials
        lines.append(
            f"{label}: {params}  (trials: {t.complete} complete, {t.pruned} pruned, "
            f"{t.failed} failed)"
        )
        if t.failed:
            lines.append(f"  first failure: {t.first_error}")
    header = ["fold", "window", "period (UTC)", "objective", *(c[0] for c in _COLUMNS)]
    rows = [row for fold in result.folds for row in _rows(result, fold)]
    return [*lines, "", *_render(header, rows)]


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _risk_json(risk: Mapping[str, object]) -> dict[str, object]:
    """Risk settings as the trials ran them (``risk_setting_values``: ``2.3``, not optuna's
    ``2.3000000000000003``); a Decimal as the JSON number of its short text."""
    values = risk_setting_values(risk)
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def as_json(result: OptimizeResult) -> dict[str, object]:
    """A JSON-safe summary (NaN and infinities as null)."""
    return {
        "strategy": result.strategy,
        "objective": result.objective.name,
        "objective_definition": result.objective.describe(),
        "penalty": result.objective.penalty,
        "min_trades": result.objective.min_trades,
        "studies": list(result.studies),
        "trials_run": result.trials_run,
        "elapsed_s": round(result.elapsed_s, 3),
        "best_params": result.best_params,
        "best_risk": _risk_json(result.best_risk),
        "folds": [
            {
                "fold": fold.fold.index + 1,
                "train": {
                    "from": _day(fold.train[0]),
                    "to": _day(fold.train[1]),
                    "bars": fold.fold.train_bars,
                },
                "test": {
                    "from": _day(fold.test[0]),
                    "to": _day(fold.test[1]),
                    "bars": fold.fold.test_bars,
                },
                "best_params": fold.best_params,
                "best_risk": _risk_json(fold.best_risk),
                "best_score": _finite(fold.best_score),
                "in_sample": {"score": _finite(fold.in_score), **_clean(fold.in_sample)},
                "out_of_sample": {"score": _finite(fold.out_score), **_clean(fold.out_of_sample)},
                "trials": {
                    "complete": fold.trials.complete,
                    "pruned": fold.trials.pruned,
                    "failed": fold.trials.failed,
                },
                "first_error": fold.trials.first_error or None,
            }
            for fold in result.folds
        ],
    }
