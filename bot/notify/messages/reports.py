"""Results: a chat-started backtest or optimization, and a finished replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.notify.messages.table import renders
from handlers.commands import research
from handlers.events import ResearchFinished
from handlers.fmt import catalog
from handlers.reply import Image, Reply, Severity
from trading import events as ev

if TYPE_CHECKING:
    from bot.notify.render import Renderer


@renders(ResearchFinished)
def research_finished(r: Renderer, event: ResearchFinished) -> Reply:
    """The outcome in the asker's language (``event.lang``), the chart attached."""
    title, lines, fields, chart = research.render(catalog(event.lang), event.outcome)
    png, name, caption = chart if chart else (b"", "", "")
    return Reply(
        f"{r.badge()} {title}",
        lines=lines,
        fields=fields,
        image=Image(name or "chart.png", png, caption) if png else None,
        severity=Severity.INFO if event.ok else Severity.WARNING,
    )


@renders(ev.ReplayFinished)
def replay_finished(r: Renderer, event: ev.ReplayFinished) -> Reply:
    """The end of a replay: plainly whether the bot made or lost money, beside holding."""
    pnl = event.pnl_krw
    pct = f"{abs(event.return_pct):.2f}"
    verdict = "made" if pnl > 0 else "lost" if pnl < 0 else "flat"
    hold = f"{abs(event.buy_and_hold_pct):.2f}"
    held = "hold_up" if event.buy_and_hold_pct >= 0 else "hold_down"
    exits = ", ".join(
        f"{r.coded('notify.replay.exit', reason, (), reason)} {n}" for reason, n in event.exits
    )
    span = r.t("report.span", start=r.time(event.first), end=r.time(event.last))
    return Reply(
        r.title(event, "replay.title", markets=", ".join(event.markets)),
        lines=(
            r.t(f"replay.{verdict}", pct=pct, krw=r.signed_krw(pnl)),
            r.t(f"replay.{held}", pct=hold),
        ),
        fields=(
            (r.t("field.period"), span),
            (
                r.t("report.equity"),
                f"{r.krw(event.start_krw)} → {r.krw(event.end_krw)}",
            ),
            (r.t("report.trades"), str(event.trades)),
            (
                r.t("report.win_rate"),
                r.t(
                    "report.win_rate_value",
                    pct=f"{event.win_rate_pct:.1f}",
                    wins=event.wins,
                    sells=event.trades,
                )
                if event.trades
                else r.t("report.no_sells"),
            ),
            (r.t("report.max_drawdown"), f"{event.max_drawdown_pct:.2f}%"),
            (r.t("report.fees"), r.krw(event.fees_krw)),
            (r.t("replay.exits"), exits or "-"),
            (r.t("report.positions"), str(event.open_positions)),
        ),
        severity=Severity.WARNING if pnl < 0 else Severity.INFO,
    )
