"""The equity chart of a backtest: equity above, drawdown below, as PNG. One drawing for
``upbit-bot backtest --out`` (equity.png) and chat's /backtest and /optimize (the pushed image).

matplotlib's Agg canvas: no display, no pyplot state; imported only when a chart is drawn.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray

#: a longer series is drawn as its envelope (the lowest equity, the deepest drawdown per step)
MAX_POINTS, ENVELOPE_POINTS = 4000, 2000


def chart_png(
    times: NDArray[np.int64], equity: NDArray[np.float64], title: str, split_at: int | None = None
) -> bytes:
    """``times`` in epoch seconds; ``split_at``: an epoch second marked as the in/out-of-sample
    boundary."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    stamps = times.astype("datetime64[s]")
    peak = np.maximum.accumulate(equity)
    drawdown = (peak - equity) / peak * 100.0
    if len(stamps) > MAX_POINTS:
        step = len(stamps) // ENVELOPE_POINTS
        cut = len(stamps) // step * step
        stamps = stamps[:cut:step]
        equity = equity[:cut].reshape(-1, step).min(axis=1)
        drawdown = drawdown[:cut].reshape(-1, step).max(axis=1)
    figure = Figure(figsize=(10, 6), dpi=90)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot(stamps, equity, color="#1f77b4", linewidth=1.0)
    top.set_ylabel("equity (KRW)")
    top.set_title(title)
    top.grid(alpha=0.3)
    bottom.fill_between(stamps, -drawdown, 0, color="#d62728", alpha=0.5)
    bottom.set_ylabel("drawdown (%)")
    bottom.grid(alpha=0.3)
    if split_at is not None:
        for axis in (top, bottom):
            axis.axvline(np.datetime64(split_at, "s"), color="#555555", linestyle="--")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
