"""/backtest and /optimize: a bounded job in the background, its result posted to the same chat.

The command checks its words, gathers the candles and starts the job (``EngineFacade.
start_research``), then answers at once. When the job ends, the facade publishes the
``ResearchFinished`` this module renders (in the asker's language) and the notifier delivers
it to the asker's chat only, chart attached. One job per bot: a second request is told who
started the running one and when. Each user may start ``research.jobs_per_hour`` jobs in any
rolling hour (``handlers.quota``); one more is refused with the time the next may start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from handlers.events import ResearchFinished
from handlers.fmt import when
from handlers.i18n import Catalog
from handlers.parser import UsageError, normalize_market
from handlers.registry import ArgSpec, Call, Command, Role
from handlers.reply import Reply, Severity
from trading.command_api import (
    MAX_DAYS,
    MAX_TRIALS,
    OBJECTIVES,
    STRATEGIES,
    BacktestJob,
    BacktestOutcome,
    Event,
    GapCount,
    JobFailed,
    OptimizeOutcome,
    Outcome,
    ResearchBusy,
    RunningJob,
    Sources,
)

RISK_PREFIX = "risk."
STRATEGY_PREFIX = "strategy."

DEFAULT_TRIALS = 20
DEFAULT_OBJECTIVE = "sharpe"


# -- words -> arguments --------------------------------------------------------------------------


def _words(call: Call) -> list[str]:
    rest = call.args.get("rest")
    return str(rest).split() if rest else []


def _bad(call: Call, word: str, expected: str) -> UsageError:
    return UsageError(call.t.t("research.bad_word", word=word, expected=expected))


def backtest_args(call: Call) -> dict[str, Any]:
    """``[strategy] [market] [days] [key=value ...]`` in any order."""
    t = call.t
    out: dict[str, Any] = {"strategy": None, "market": None, "days": None, "params": {}}
    for word in _words(call):
        key, sep, value = word.partition("=")
        if sep:
            if not key or not value:
                raise UsageError(t.t("research.bad_param", word=word))
            if key.removeprefix("strategy.") in out["params"]:
                raise UsageError(t.t("research.twice", word=key))
            out["params"][key.removeprefix("strategy.")] = value
        else:
            _positional(call, word, out, "days", MAX_DAYS, objective=False)
    return out


def optimize_args(call: Call) -> dict[str, Any]:
    """``[strategy] [market] [trials] [objective] [NAME=... ...] [risk.NAME=... ...]`` in any
    order.

    A ``NAME=...`` word is a parameter of the strategy (``strategy.NAME`` too) or, with
    ``risk.``, a risk setting: one value (``fast=20``, ``risk.atr_stop_mult=2.5``) holds it
    in every trial, ``lo..hi`` (``a,b`` for a bool or choice) searches it, as ``upbit-bot
    optimize --param``/``--space`` do; the engine checks each against its model's bounds.
    """
    out: dict[str, Any] = {"strategy": None, "market": None, "trials": None, "objective": None}
    space: dict[str, str] = {}
    for word in _words(call):
        key, sep, value = word.partition("=")
        if sep:
            name = key.lower()
            name = name if name.startswith(RISK_PREFIX) else name.removeprefix(STRATEGY_PREFIX)
            if not name or name == RISK_PREFIX or not value:
                raise UsageError(call.t.t("research.bad_param", word=word))
            if name in space:
                raise UsageError(call.t.t("research.twice", word=key))
            space[name] = value
        else:
            _positional(call, word, out, "trials", MAX_TRIALS, objective=True)
    return out | {"space": space}


def _positional(
    call: Call, word: str, out: dict[str, Any], number: str, most: int, *, objective: bool
) -> None:
    t, lowered = call.t, word.lower()
    slot: str
    value: Any
    if lowered in STRATEGIES:
        slot, value = "strategy", lowered
    elif objective and lowered in OBJECTIVES:
        slot, value = "objective", lowered
    elif word.isdigit():
        slot, value = number, int(word)
        if not 1 <= value <= most:
            arg = t.t(f"research.{number}")
            raise UsageError(t.t("parse.range", arg=arg, value=word, min=1, max=most))
    else:
        market = normalize_market(word)
        markets = call.api.markets
        if market is None or "=" in word or market not in markets:
            kinds = [
                t.t("research.strategy_list", names="|".join(STRATEGIES)),
                *([t.t("research.objective_list", names="|".join(OBJECTIVES))] * objective),
                *([t.t("research.pin_or_range")] * objective),
                t.t("research.market_list", names="|".join(markets)),
            ]
            expected = ", ".join(kinds) + t.t("research.or") + t.t(f"research.{number}")
            raise _bad(call, word, expected)
        slot, value = "market", market
    if out[slot] is not None:
        raise UsageError(t.t("research.twice", word=word))
    out[slot] = value


# -- the commands --------------------------------------------------------------------------------


def _busy(t: Catalog, job: RunningJob) -> Reply:
    return Reply(
        t.t("research.busy_title"),
        (
            t.t(
                "research.busy",
                job=job.kind,
                by=job.by,
                at=job.started.strftime("%Y-%m-%d %H:%M:%S UTC"),
                label=job.label,
            ),
        ),
        severity=Severity.WARNING,
        ephemeral=True,
    )


def _over_quota(call: Call) -> Reply | None:
    """The refusal of a job over the asker's hourly quota, saying when the next may start."""
    quota = call.dispatcher.research_quota
    wait = quota.wait_s(call.principal, call.role)
    if wait <= 0:
        return None
    t = call.t
    return Reply(
        t.t("research.quota_title"),
        (
            t.t(
                "research.quota",
                n=quota.settings.jobs_per_hour,
                minutes=max(1, math.ceil(wait / 60)),
                at=when(call.now + timedelta(seconds=wait)),
            ),
        ),
        severity=Severity.WARNING,
        ephemeral=True,
    )


async def backtest(call: Call) -> Reply:
    t, api = call.t, call.api
    if (refused := _over_quota(call)) is not None:
        return refused
    if (running := api.research_running()) is not None:
        return _busy(t, running)
    a = backtest_args(call)
    job = await api.backtest_job(
        strategy=a["strategy"], market=a["market"], days=a["days"], params=a["params"]
    )
    label = f"{job.strategy} {job.market}"
    return _start(call, job, label, len(job.frame), job.frame.start)


async def optimize(call: Call) -> Reply:
    t, api = call.t, call.api
    if (refused := _over_quota(call)) is not None:
        return refused
    if (running := api.research_running()) is not None:
        return _busy(t, running)
    a = optimize_args(call)
    job = await api.optimize_job(
        strategy=a["strategy"],
        market=a["market"],
        trials=a["trials"] or DEFAULT_TRIALS,
        objective=a["objective"] or DEFAULT_OBJECTIVE,
        space=a["space"],
    )
    searched = "".join(f" {key}={value}" for key, value in a["space"].items())
    label = f"{job.strategy} {job.market} ×{job.trials} {job.objective}{searched}"
    return _start(call, job, label, len(job.frame), job.frame.start)


def _start(call: Call, job: Any, label: str, candles: int, starts: Any) -> Reply:
    t, api = call.t, call.api
    try:
        running = api.start_research(job, by=call.by, label=label, finish=finisher(call))
    except ResearchBusy as exc:
        return _busy(t, exc.job)
    call.dispatcher.research_quota.record(call.principal, call.role)
    first = datetime.fromtimestamp(int(starts[0]), tz=running.started.tzinfo)
    last = datetime.fromtimestamp(int(starts[-1]), tz=running.started.tzinfo)
    return Reply(
        t.t(f"research.started_{job.kind}"),
        (
            t.t(
                "research.started",
                label=label,
                candles=f"{candles:,}",
                first=first.strftime("%Y-%m-%d %H:%M"),
                last=last.strftime("%Y-%m-%d %H:%M UTC"),
                limit=f"{api.research_time_limit_s:g}",
            ),
            _sources(t, job.sources),
            *_gaps(t, job.gaps if isinstance(job, BacktestJob) else None),
        ),
    )


def _sources(t: Catalog, sources: Sources) -> str:
    """Where the candles came from: downloaded, live, filled flat in quiet holes."""
    parts = [
        t.t(f"research.source_{name}", n=f"{count:,}")
        for name, count in (
            ("stored", sources.stored),
            ("live", sources.live),
            ("filled", sources.filled),
        )
        if count
    ]
    return t.t("research.sources", parts=", ".join(parts))


def _gaps(t: Catalog, gaps: GapCount | None) -> tuple[str, ...]:
    """The line that says a backtest ran in stretches (the candles had holes), or none."""
    if gaps is None:
        return ()
    text = t.t(
        "research.gaps",
        holes=gaps.holes,
        missing=f"{gaps.missing:,}",
        stretches=gaps.stretches,
    )
    return (text,)


# -- the result ----------------------------------------------------------------------------------


def finisher(call: Call) -> Callable[[Outcome], Event]:
    """What the facade calls with the outcome: the event for the asker's chat, rendered in
    the asker's language (``render``) when the bot delivers it."""
    t, who, by = call.t, call.principal, call.by

    def finish(outcome: Outcome) -> Event:
        return ResearchFinished(
            job=outcome.kind if isinstance(outcome, JobFailed) else _kind(outcome),
            by=by,
            transport=who.transport,
            chat_id=who.chat_id,
            lang=t.language,
            outcome=outcome,
        )

    return finish


def _kind(outcome: BacktestOutcome | OptimizeOutcome) -> str:
    return "backtest" if isinstance(outcome, BacktestOutcome) else "optimize"


Rendered = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], tuple[bytes, str, str] | None]


def render(t: Catalog, outcome: Outcome) -> Rendered:
    """Title, lines, fields and the chart ``(png, filename, caption)`` of an outcome."""
    if isinstance(outcome, JobFailed):
        detail = t.t(f"research.failed_{outcome.reason}", detail=outcome.detail)
        return t.t("research.failed_title", job=outcome.kind), (detail,), (), None
    if isinstance(outcome, BacktestOutcome):
        return _render_backtest(t, outcome)
    return _render_optimize(t, outcome)


def _fmt(value: object, unit: str = "", places: int = 2, sign: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        text = f"{value:+,.{places}f}" if sign else f"{value:,.{places}f}"
        return f"{text}{unit}"
    return f"{value}{unit}"


def _span(first: datetime, last: datetime) -> str:
    return f"{first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC"


def _params(params: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _metric_fields(t: Catalog, m: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return (
        (t.t("research.m.trades"), f"{int(m.get('trades') or 0):,}"),
        (t.t("research.m.win_rate"), _fmt(m.get("win_rate"), " %", 1)),
        (t.t("research.m.return"), _fmt(m.get("total_return_pct"), " %", sign=True)),
        (t.t("research.m.drawdown"), _fmt(m.get("max_drawdown_pct"), " %")),
        (t.t("research.m.sharpe"), _fmt(m.get("sharpe"))),
        (t.t("research.m.profit_factor"), _fmt(m.get("profit_factor"))),
        (t.t("research.m.fees"), _fmt(m.get("fees_krw"), " KRW", 0)),
        (t.t("research.m.buy_hold"), _fmt(m.get("buy_and_hold_return_pct"), " %", sign=True)),
    )


def _render_backtest(t: Catalog, o: BacktestOutcome) -> Rendered:
    span = _span(o.first, o.last)
    lines = (
        t.t("research.bt_head", strategy=o.strategy, params=_params(o.params)),
        t.t(
            "research.bt_data",
            market=o.market,
            timeframe=o.timeframe,
            span=span,
            candles=f"{o.candles:,}",
            seconds=f"{o.elapsed_s:.1f}",
        ),
        _sources(t, o.sources),
        *_gaps(t, o.gaps),
    )
    fields = (
        *_metric_fields(t, o.metrics),
        (t.t("research.m.final"), _fmt(o.metrics.get("final_equity_krw"), " KRW", 0)),
    )
    caption = t.t("research.chart_caption", market=o.market, span=span)
    name = f"backtest-{o.market}.png"
    return t.t("research.bt_title", strategy=o.strategy), lines, fields, (o.png, name, caption)


def _render_optimize(t: Catalog, o: OptimizeOutcome) -> Rendered:
    complete, pruned, failed = o.trials
    lines: list[str] = [
        t.t(
            "research.opt_head",
            strategy=o.strategy,
            market=o.market,
            timeframe=o.timeframe,
            objective=o.objective,
            complete=complete,
            pruned=pruned,
            failed=failed,
            seconds=f"{o.elapsed_s:.1f}",
        ),
        *(
            [t.t("research.opt_short", run=o.trials_run, asked=o.trials_asked)]
            if o.trials_run < o.trials_asked
            else []
        ),
        t.t("research.opt_best", params=_params(o.best_params)),
        *([t.t("research.opt_best_risk", params=_params(o.best_risk))] if o.best_risk else []),
        *(
            [t.t("research.opt_risk_config", keys=", ".join(o.risk_not_live))]
            if o.risk_not_live
            else []
        ),
        t.t("research.opt_in", span=_span(*o.train), score=_fmt(o.in_score)),
        t.t("research.opt_out", span=_span(*o.test), score=_fmt(o.out_score)),
        _sources(t, o.sources),
    ]
    if not o.live:
        lines.append(t.t("research.opt_other", running=o.running, strategy=o.strategy))
        lines.extend(o.config)
        if o.set_commands:
            lines.append(t.t("research.opt_other_risk", strategy=o.strategy))
            lines.extend(o.set_commands)
    elif o.set_commands:
        lines.append(t.t("research.opt_set"))
        lines.extend(o.set_commands)
        if not o.ordered:
            lines.append(t.t("research.opt_unordered"))
    else:
        lines.append(t.t("research.opt_same"))
    ins, outs = _metric_fields(t, o.in_sample), _metric_fields(t, o.out_of_sample)
    fields = tuple((label, f"{a} | {b}") for (label, a), (_, b) in zip(ins, outs, strict=True))
    fields = ((t.t("research.in_out"), t.t("research.in_out_value")), *fields)
    caption = t.t("research.chart_caption", market=o.market, span=_span(o.train[0], o.test[1]))
    name = f"optimize-{o.market}.png"
    return (
        t.t("research.opt_title", strategy=o.strategy),
        tuple(lines),
        fields,
        (
            o.png,
            name,
            caption,
        ),
    )


REST = ArgSpec("rest", "rest", False)
COMMANDS = [
    Command("backtest", backtest, args=(REST,), aliases=("bt",)),
    Command("optimize", optimize, args=(REST,), role=Role.OPERATOR, aliases=("opt",)),
]
