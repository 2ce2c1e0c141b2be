"""Backtests and optimizations started from chat: one bounded job at a time, in a child process.

A backtest or a study holds the GIL for seconds, which would starve the event loop (orders,
feeds, the ``/healthz`` heartbeat) if run in a thread. So each job runs in a freshly spawned
process that gets the candles with the job and sends back plain numbers and the chart PNG; the
loop only waits on a pipe. A fresh process per job (not a pool) is what makes the wall-clock
limit and the shutdown cancellation real: the process is terminated, not asked to stop.

``ResearchDesk`` owns the one slot; ``gather_frame`` joins the engine's candle history with the
store's downloaded ``candles`` table; ``spec_fields`` builds the backtest spec the way the CLI
does, from the running bot's risk limits and paper fill settings.

Holes in the joined candles (between the last download and the live history, or in the
download) are treated as ``upbit-bot`` treats them: a quiet one of up to ``QUIET_HOLE_S``
(minutes without a trade, maintenance) is filled flat as live fills it; at a longer one
``/backtest`` runs the contiguous
stretches one after the other on one account (``trading.backtest.segments``, the CLI's code),
``/optimize`` refuses them (its walk-forward split needs one contiguous series).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trading.refusal import Code, Refused, market_unknown, unknown
from trading.strategies import CandleFrame

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from trading.engine.core import Engine
    from trading.optimize import OptimizeResult
    from trading.store import Store
    from trading.strategies import Strategy

log = logging.getLogger(__name__)

MAX_DAYS = 90
MAX_CANDLES = 60_000
"""At most this many candles per job (the newest): bounds memory, pickling and run time."""
MAX_TRIALS = 100
TIME_LIMIT_S = 60.0
SPLIT = 0.7
SEARCH_SHARE = 0.8
"""Of the time limit, the share an optimization may search; the rest is for its report."""


# -- what travels to the child and back --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sources:
    """Where a research job's candles came from, said in the reader's language: downloaded
    (the store), the engine's live history, and those filled flat in quiet holes of up to
    ``QUIET_HOLE_S`` (as the live candle builder fills them)."""

    stored: int = 0
    live: int = 0
    filled: int = 0


@dataclass(frozen=True, slots=True)
class BacktestJob:
    """Picklable: the strategy by name (rebuilt in the child), spec fields, the candles."""

    strategy: str
    params: Mapping[str, object]
    spec: Mapping[str, Any]
    market: str
    frame: CandleFrame
    sources: Sources = Sources()
    gaps: GapCount | None = None  # the frame's holes: run in stretches, said in the reply

    kind = "backtest"


@dataclass(frozen=True, slots=True)
class OptimizeJob:
    """``current``: the live parameters when ``strategy`` is the running one (for ``/set``);
    ``running``: the running strategy's name (the reply says what runs when it is another)."""

    strategy: str
    objective: str
    trials: int
    spec: Mapping[str, Any]
    market: str
    frame: CandleFrame
    current: Mapping[str, object] | None = None
    seed: int = 42
    sources: Sources = Sources()
    stop_by: float | None = None  # epoch s: no trial starts that would end later (best so far)
    # chat's NAME=... words: a strategy parameter or risk.NAME -> one value (pinned in every
    # trial), lo..hi or a,b (searched); ``split_assignments`` tells which
    space: Mapping[str, str] = field(default_factory=dict)
    running: str = ""

    kind = "optimize"


Job = BacktestJob | OptimizeJob


@dataclass(frozen=True, slots=True)
class GapCount:
    """What chat says of a frame with holes: ``holes`` gaps, ``missing`` candles in them,
    run in ``stretches`` contiguous stretches (``trading.backtest.segments``)."""

    holes: int
    missing: int
    stretches: int


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    strategy: str
    params: dict[str, object]
    market: str
    timeframe: str
    first: datetime
    last: datetime
    candles: int
    metrics: dict[str, float | int | None]
    png: bytes = field(repr=False)
    elapsed_s: float
    sources: Sources = Sources()
    gaps: GapCount | None = None


@dataclass(frozen=True, slots=True)
class OptimizeOutcome:
    """Best parameters of the in-sample study and their metrics in and out of sample."""

    strategy: str
    objective: str
    market: str
    timeframe: str
    best_params: dict[str, object]
    in_sample: dict[str, float]
    out_of_sample: dict[str, float]
    in_score: float
    out_score: float
    trials: tuple[int, int, int]  # complete, pruned, failed
    trials_asked: int
    trials_run: int  # fewer than asked when the time ran short
    train: tuple[datetime, datetime]
    test: tuple[datetime, datetime]
    set_commands: tuple[str, ...]
    ordered: bool
    live: bool  # the running strategy: ``set_commands`` apply to it
    png: bytes = field(repr=False)
    elapsed_s: float
    sources: Sources = Sources()
    best_risk: dict[str, str] = field(default_factory=dict)  # risk.NAME -> value, as /set reads
    risk_not_live: tuple[str, ...] = ()  # searched risk keys /set cannot change (the config can)
    # another strategy than the running one (``live`` False): what runs it, since no chat
    # command switches the strategy: the ``[strategy]`` tables to put in the config (restart),
    # then ``set_commands`` (only ``/set risk.`` lines) once it runs
    running: str = ""
    config: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobFailed:
    """``reason``: ``error`` (``detail`` says what), ``timeout`` or ``cancelled``."""

    kind: str
    reason: str
    detail: str = ""


Outcome = BacktestOutcome | OptimizeOutcome | JobFailed


@dataclass(frozen=True, slots=True)
class RunningJob:
    kind: str
    by: str
    started: datetime
    label: str


class ResearchBusy(ValueError):
    """One job at a time: the message names who started the running one and when."""

    def __init__(self, job: RunningJob) -> None:
        at = job.started.strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(f"a /{job.kind} job is running, started by {job.by} at {at}")
        self.job = job


# -- the spec and the data ---------------------------------------------------------------------


def spec_fields(engine: Engine) -> dict[str, Any]:
    """``BacktestSpec``'s fields but the strategy, by the CLI's recipe (not plain: every risk
    feature as configured) from what the running bot uses: its live risk limits and cooldowns,
    the ``[paper]`` account it was configured with, the fee of its exchange."""
    from trading.backtest.spec import spec_fields as fields_of

    account = engine.config.paper
    fee_rate = getattr(engine.exchange, "fee_rate", engine.limits.fee_rate)  # live: Upbit's
    rules = engine.positions.rules
    return fields_of(
        engine.limits,
        engine.config.timeframe,
        dataclasses.replace(account, fee_rate=Decimal(fee_rate)),
        rules=engine.exchange.rules,
        cooldown_candles=rules.cooldown_candles,
        stop_cooldown_candles=rules.stop_cooldown_candles,
    )


async def gather_frame(
    engine: Engine, store: Store, market: str, days: int | None
) -> tuple[CandleFrame, Sources]:
    """The market's candles at the engine's timeframe: the store's downloaded ones before the
    engine's own history, the engine's after (they win where both have a candle), the last
    ``days`` (at most ``MAX_CANDLES``), quiet holes filled flat and longer ones kept (see the
    module); with where they came from. Raises ValueError when empty."""
    from trading.backtest.data import fill_gaps
    from trading.backtest.segments import QUIET_HOLE_S
    from trading.history.store_candles import load_frame
    from trading.timeframes import timeframe_seconds

    timeframe = engine.config.timeframe
    step = timeframe_seconds(timeframe)
    bars = engine.market_data.history(market)
    live = CandleFrame.from_bars(bars) if bars else None
    newest = (
        int(live.start[-1])
        if live is not None
        else int(engine.market_time().timestamp()) // step * step
    )
    span = min(days or MAX_DAYS, MAX_DAYS) * 86_400
    since = max(newest - span + step, newest - (MAX_CANDLES - 1) * step)
    stored = None
    url = store.url
    if url is not None:
        try:  # read and converted in a thread with its own connection: off the loop
            stored = await asyncio.to_thread(
                load_frame, url, market, timeframe, datetime.fromtimestamp(since, UTC), None
            )
        except Exception as exc:  # no candles table, a broken row: the live history still counts
            log.warning("research: stored candles of %s unreadable: %s", market, exc)
    parts = []
    cut = 0  # the stored candles before the live history
    if stored is not None and len(stored):
        cut = len(stored) if live is None else int(np.searchsorted(stored.start, live.start[0]))
        if cut:
            parts.append(stored[:cut])
    if live is not None:
        parts.append(live)
    if not parts:
        raise Refused(
            Code.NO_CANDLES,
            f"no {timeframe} candles of {market} yet (live history or store)",
            timeframe=timeframe,
            market=market,
        )
    frame = _concat(parts)
    frame = frame[int(np.searchsorted(frame.start, since)) :]
    if len(frame) < 2:
        raise Refused(
            Code.TOO_FEW_CANDLES,
            f"only {len(frame)} {timeframe} candle(s) of {market}: too few",
            n=len(frame),
            timeframe=timeframe,
            market=market,
        )
    # minutes without a trade and maintenance hours, as live fills them; longer holes stay
    # (``/backtest`` runs the stretches, ``/optimize`` refuses them)
    frame, filled = fill_gaps(frame, step, QUIET_HOLE_S)
    return frame, Sources(stored=cut, live=0 if live is None else len(live), filled=filled)


def _gap_count(engine: Engine, market: str, frame: CandleFrame) -> GapCount | None:
    """The frame's holes and the stretches ``backtest_segmented`` will run, or None."""
    from trading.backtest.data import find_gaps
    from trading.backtest.segments import split_at_gaps
    from trading.timeframes import timeframe_seconds

    step = timeframe_seconds(engine.config.timeframe)
    gaps = find_gaps(frame, step)
    if not gaps:
        return None
    stretches = len(split_at_gaps({market: frame}, step))
    return GapCount(holes=gaps.holes, missing=gaps.missing, stretches=stretches)


def _refuse_gaps(engine: Engine, market: str, frame: CandleFrame) -> None:
    """``/optimize`` on candles with holes: refused, naming the hole and what to do. The
    optimizer splits one series in time (in-sample, then out-of-sample warmed up on the
    candles before it), which a hole would cut in ways no trial sees; filling it flat would
    optimize over a market that did not move."""
    from trading.backtest.data import find_gaps, iso
    from trading.timeframes import timeframe_seconds

    timeframe = engine.config.timeframe
    gaps = find_gaps(frame, timeframe_seconds(timeframe))
    if gaps:
        after = iso(gaps.first_after or 0)
        raise Refused(
            Code.OPTIMIZE_GAPS,
            f"{market} {timeframe}: {gaps.missing:,} missing candle(s) in {gaps.holes} gap(s),"
            f" the first after {after}; /optimize needs contiguous candles",
            market=market,
            timeframe=timeframe,
            missing=f"{gaps.missing:,}",
            holes=gaps.holes,
            after=after,
        )


def _concat(parts: list[CandleFrame]) -> CandleFrame:
    if len(parts) == 1:
        return parts[0]
    names = ("start", "open", "high", "low", "close", "volume")
    columns = {n: np.concatenate([getattr(p, n) for p in parts]) for n in names}
    return CandleFrame(**columns)


def _strategy_params(engine: Engine, strategy: str | None) -> tuple[str, dict[str, object]]:
    """The strategy to run (a built-in; default the running one) and its starting parameters:
    the live ones for the running strategy, the declared defaults for another."""
    from trading.strategies import get_strategy

    running = engine.strategy
    name = strategy or running.name
    get_strategy(name)  # StrategyLoadError (a ValueError) lists the known names
    if name == running.name:
        return name, dict(running.params.model_dump(mode="json"))
    return name, {}


def _market(engine: Engine, market: str | None) -> str:
    markets = engine.config.markets
    if market is None:
        return markets[0]
    if market not in markets:
        raise market_unknown(market, markets)
    return market


async def backtest_job(
    engine: Engine,
    store: Store,
    *,
    strategy: str | None,
    market: str | None,
    days: int | None,
    params: Mapping[str, str],
) -> BacktestJob:
    """A validated job: unknown strategy, market or parameter, or a value out of its bounds,
    raises ValueError with one line; so does a market without candles."""
    from trading.strategies import ParamError, build_strategy

    name, values = _strategy_params(engine, strategy)
    try:
        built = build_strategy(name, "", {**values, **params})
    except ParamError as exc:
        problems = str(exc).removeprefix("invalid parameters: ")
        # the pydantic error as the cause: chat words its problems in the reader's language
        raise Refused(Code.PARAMS_INVALID, str(exc), problems=problems) from exc.validation
    chosen = _market(engine, market)
    frame, sources = await gather_frame(engine, store, chosen, days)
    return BacktestJob(
        strategy=name,
        params=built.params.model_dump(mode="json"),
        spec=spec_fields(engine),
        market=chosen,
        frame=frame,
        sources=sources,
        gaps=_gap_count(engine, chosen, frame),
    )


async def optimize_job(
    engine: Engine,
    store: Store,
    *,
    strategy: str | None,
    market: str | None,
    trials: int,
    objective: str,
    days: int | None = None,
    space: Mapping[str, str] | None = None,
) -> OptimizeJob:
    """A validated job; ``space`` (a strategy parameter or ``risk.NAME`` -> one value to pin,
    ``lo..hi`` or ``a,b`` to search) is checked by the optimizer's own space builder, the
    CLI's, so a refused value never reaches the child."""
    from trading.optimize import OBJECTIVES

    if objective not in OBJECTIVES:
        message = "unknown objective {objective!r} (known: {known})"
        raise unknown(Code.OBJECTIVE_UNKNOWN, message, OBJECTIVES, objective=objective)
    if not 1 <= trials <= MAX_TRIALS:
        raise Refused(
            Code.TRIALS_RANGE,
            f"trials {trials} must be between 1 and {MAX_TRIALS}",
            trials=trials,
            max=MAX_TRIALS,
        )
    name, values = _strategy_params(engine, strategy)
    _check_space(name, space or {})
    chosen = _market(engine, market)
    frame, sources = await gather_frame(engine, store, chosen, days)
    _refuse_gaps(engine, chosen, frame)
    return OptimizeJob(
        strategy=name,
        objective=objective,
        trials=trials,
        spec=spec_fields(engine),
        market=chosen,
        frame=frame,
        current=values if name == engine.strategy.name else None,
        sources=sources,
        space=dict(space or {}),
        running=engine.strategy.name,
    )


_RISK_CODES = {
    "unknown": Code.OPTIMIZE_RISK_UNKNOWN,
    "bounds": Code.OPTIMIZE_RISK_BOUNDS,
    "range": Code.OPTIMIZE_RISK_RANGE,
    "choice": Code.OPTIMIZE_RISK_CHOICE,
    "unsearchable": Code.OPTIMIZE_RISK_UNSEARCHABLE,
    "grouped": Code.OPTIMIZE_RISK_GROUPED,
}
_PARAM_CODES = {
    "unknown": Code.OPTIMIZE_PARAM_UNKNOWN,
    "bounds": Code.OPTIMIZE_RISK_BOUNDS,  # the same words name either kind of key
    "range": Code.OPTIMIZE_RISK_RANGE,
    "choice": Code.OPTIMIZE_RISK_CHOICE,
    "unsearchable": Code.OPTIMIZE_RISK_UNSEARCHABLE,
    "grouped": Code.OPTIMIZE_RISK_GROUPED,
    "twice": Code.OPTIMIZE_TWICE,
    "empty": Code.OPTIMIZE_NOTHING_TO_SEARCH,
}


def _check_space(strategy: str, space: Mapping[str, str]) -> None:
    """Refuse (coded, for chat's catalog) a pin or range ``build_space`` would refuse."""
    from trading.optimize import RiskSpaceError, SpaceError, build_space, split_assignments
    from trading.strategies import get_strategy

    try:
        build_space(get_strategy(strategy), *split_assignments(space))
    except SpaceError as exc:
        codes = _RISK_CODES if isinstance(exc, RiskSpaceError) else _PARAM_CODES
        raise Refused(
            codes[exc.reason],
            str(exc),
            key=exc.key,
            value=exc.value,
            allowed=exc.allowed,
            known=exc.allowed,
            strategy=exc.strategy or strategy,
        ) from None


# -- the child process -------------------------------------------------------------------------


def _when(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def run_job(job: Job) -> BacktestOutcome | OptimizeOutcome:
    """The job's work (CPU-bound, synchronous): what the child process runs."""
    if isinstance(job, BacktestJob):
        return _backtest(job)
    return _optimize(job)


def _backtest(job: BacktestJob) -> BacktestOutcome:
    from trading.backtest import BacktestSpec
    from trading.backtest.chart import chart_png
    from trading.backtest.segments import backtest_segmented
    from trading.strategies import build_strategy

    started = time.perf_counter()
    strategy = build_strategy(job.strategy, "", job.params)
    spec = BacktestSpec(strategy=strategy, **job.spec)
    result, _ = backtest_segmented(spec, {job.market: job.frame})
    metrics = result.metrics.as_dict()
    title = (
        f"{strategy.name} on {job.market} {spec.timeframe}: "
        f"{metrics['total_return_pct'] or 0:+.2f} %, "
        f"max drawdown {metrics['max_drawdown_pct'] or 0:.2f} %"
    )
    png = chart_png(result.times, result.equity, title)
    return BacktestOutcome(
        strategy=strategy.name,
        params=strategy.params.model_dump(mode="json"),
        market=job.market,
        timeframe=spec.timeframe,
        first=_when(int(job.frame.start[0])),
        last=_when(int(job.frame.start[-1]) + spec.timeframe_s),
        candles=len(result.times),
        metrics=metrics,
        png=png,
        elapsed_s=time.perf_counter() - started,
        sources=job.sources,
        gaps=job.gaps,
    )


def _optimize(job: OptimizeJob) -> OptimizeOutcome:
    from trading.backtest import BacktestSpec, run_backtest
    from trading.backtest.chart import chart_png
    from trading.optimize import set_commands
    from trading.optimize.risk_space import with_risk
    from trading.strategies import build_strategy, get_strategy

    started = time.perf_counter()
    cls = get_strategy(job.strategy)
    result, run = _search(job, cls, started)
    fold = result.folds[-1]
    commands, ordered = (
        set_commands(cls, fold.best_params, job.current) if job.current is not None else ([], True)
    )
    best_risk, risk_commands, not_live = _best_risk(job, fold.best_risk)
    strategy = build_strategy(job.strategy, "", fold.best_params)
    config = () if job.current is not None else _config(job, strategy)
    spec = BacktestSpec(strategy=strategy, **with_risk(job.spec, fold.best_risk))
    whole = run_backtest(spec, {job.market: job.frame})
    title = f"{cls.name}: the best of {run} trial(s) on {job.market} ({job.objective})"
    png = chart_png(whole.times, whole.equity, title, split_at=fold.test[0])
    counts = fold.trials
    return OptimizeOutcome(
        strategy=cls.name,
        objective=job.objective,
        market=job.market,
        timeframe=spec.timeframe,
        best_params=strategy.params.model_dump(mode="json"),
        in_sample=dict(fold.in_sample),
        out_of_sample=dict(fold.out_of_sample),
        in_score=fold.in_score,
        out_score=fold.out_score,
        trials=(counts.complete, counts.pruned, counts.failed),
        trials_asked=job.trials,
        trials_run=run,
        train=(_when(fold.train[0]), _when(fold.train[1])),
        test=(_when(fold.test[0]), _when(fold.test[1])),
        set_commands=(*commands, *risk_commands),
        ordered=ordered,
        live=job.current is not None,
        png=png,
        elapsed_s=time.perf_counter() - started,
        sources=job.sources,
        best_risk=best_risk,
        risk_not_live=not_live,
        running=job.running,
        config=config,
    )


def _config(job: OptimizeJob, strategy: Strategy[Any]) -> tuple[str, ...]:
    """The ``[strategy]`` and ``[strategy.params]`` tables that run ``strategy`` as found, on
    the timeframe it was measured on: the strategy is chosen at start and no chat command
    switches it, so the config is the way. ``file = ""``: whatever user strategy file the
    tables replace, the built-in named here is what runs."""
    from trading.optimize.apply import toml_value

    params = strategy.params.model_dump(mode="json")
    return (
        "[strategy]",
        f"name = {toml_value(strategy.name)}",
        f"timeframe = {toml_value(job.spec['timeframe'])}",
        'file = ""',
        "[strategy.params]",
        *(f"{key} = {toml_value(value)}" for key, value in params.items()),
    )


def _best_risk(
    job: OptimizeJob, risk: Mapping[str, object]
) -> tuple[dict[str, str], list[str], tuple[str, ...]]:
    """The searched risk settings as ``/set`` reads them, the ``/set risk.NAME VALUE`` lines
    taking the running bot's limits to them (only where they differ and ``/set`` may change
    the setting live), and the searched keys only the config can change."""
    from trading.optimize.risk_space import RISK_PREFIX, risk_setting_values
    from trading.risk.settings import RiskSettings
    from trading.settings import show, spec

    values = risk_setting_values(risk)
    limits = job.spec["limits"]
    best = {RISK_PREFIX + name: show(value) for name, value in values.items()}
    commands, not_live = [], []
    for name, value in values.items():
        if not spec(RiskSettings, name).live:
            not_live.append(RISK_PREFIX + name)
        elif show(value) != show(getattr(limits, name)):
            commands.append(f"/set {RISK_PREFIX}{name} {show(value)}")
    return best, commands, tuple(not_live)


def _search(
    job: OptimizeJob, cls: type[Strategy[Any]], started: float
) -> tuple[OptimizeResult, int]:
    """The study and how many trials ran: in chunks, so that the time limit ends the search
    with the best trial so far instead of nothing."""
    import optuna

    from trading.optimize import (
        Objective,
        OptimizeSettings,
        build_space,
        optimize,
        split_assignments,
    )

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    stop_by = math.inf if job.stop_by is None else job.stop_by
    frames = {job.market: job.frame}
    with tempfile.TemporaryDirectory(prefix="upbit-research-") as folder:
        base = OptimizeSettings(
            strategy=job.strategy,
            space=build_space(cls, *split_assignments(job.space)),
            objective=Objective(job.objective),
            spec=dict(job.spec),
            storage=f"sqlite:///{Path(folder) / 'study.db'}",
            study="chat",
            trials=job.trials,
            jobs=1,
            seed=job.seed,
            split=SPLIT,
        )
        # one study (a private SQLite file); a first few trials measure the pace
        run, chunk, rounds = 0, min(5, job.trials), 0
        while True:
            settings = dataclasses.replace(base, trials=chunk, seed=job.seed + rounds)
            result = optimize(settings, frames)
            run, rounds = run + chunk, rounds + 1
            per_trial = (time.perf_counter() - started) / run
            fits = int((stop_by - time.time()) / per_trial) - 1
            chunk = min(job.trials - run, fits)
            if chunk < 1:
                break
    return result, run


def _child(job: Job, conn: Connection) -> None:
    """Entry point of the spawned process: one outcome (or one error line) through ``conn``."""
    try:
        outcome: Outcome = run_job(job)
    except Exception as exc:
        outcome = JobFailed(job.kind, "error", _first_line(exc))
    try:
        conn.send(outcome)
    finally:
        conn.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# -- the one slot ------------------------------------------------------------------------------


class ResearchDesk:
    """Runs one job at a time in a spawned process, with a wall-clock limit.

    ``start`` claims the slot or raises ``ResearchBusy``; the job runs in a task of the
    running loop, and ``done(outcome)`` is called on the loop when it ends however it ends
    (a result, an error, the time limit, ``close``).
    """

    def __init__(
        self,
        *,
        time_limit_s: float = TIME_LIMIT_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.time_limit_s = time_limit_s
        self._clock = clock
        self.running: RunningJob | None = None
        self._task: asyncio.Task[None] | None = None

    def start(
        self, job: Job, *, by: str, label: str, done: Callable[[Outcome], None]
    ) -> RunningJob:
        if self.running is not None:
            raise ResearchBusy(self.running)
        if isinstance(job, OptimizeJob):
            # the search stops in time to report; the process is killed at the full limit
            job = dataclasses.replace(job, stop_by=time.time() + self.time_limit_s * SEARCH_SHARE)
        running = RunningJob(job.kind, by, self._clock(), label)
        self.running = running
        self._task = asyncio.get_running_loop().create_task(
            self._run(job, done), name=f"research:{job.kind}"
        )
        return running

    async def _run(self, job: Job, done: Callable[[Outcome], None]) -> None:
        outcome: Outcome
        try:
            outcome = await self._in_child(job)
        except asyncio.CancelledError:
            outcome = JobFailed(job.kind, "cancelled")
        except TimeoutError:
            outcome = JobFailed(job.kind, "timeout", f"{self.time_limit_s:g}")
        except Exception as exc:
            log.exception("research job /%s failed", job.kind)
            outcome = JobFailed(job.kind, "error", _first_line(exc))
        finally:
            self.running = None
            self._task = None
        try:
            done(outcome)
        except Exception:
            log.exception("research job /%s: delivering the outcome failed", job.kind)

    async def _in_child(self, job: Job) -> Outcome:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(job, sender), name=f"research-{job.kind}")
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        # start() pickles the candles into the child's pipe: off the loop, since it may block
        # on a large frame until the child reads; shielded so a cancel never leaves it halfway
        starting = asyncio.ensure_future(asyncio.to_thread(process.start))
        watching = False
        try:
            async with asyncio.timeout(self.time_limit_s):
                await asyncio.shield(starting)
                sender.close()  # the child holds the only writer: its exit shows as end-of-file
                loop.add_reader(receiver.fileno(), readable)
                watching = True
                await ready
            loop.remove_reader(receiver.fileno())
            watching = False
            try:
                outcome: Outcome = await asyncio.to_thread(receiver.recv)
            except EOFError:
                await asyncio.to_thread(process.join, 5)
                return JobFailed(job.kind, "error", f"the worker exited ({process.exitcode})")
            await asyncio.to_thread(process.join, 5)
            return outcome
        finally:
            if watching:
                loop.remove_reader(receiver.fileno())
            if not starting.done():
                await asyncio.wait([starting])
            sender.close()
            receiver.close()
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, 5)
                if process.is_alive():
                    process.kill()

    async def close(self) -> None:
        """Cancel the running job (its process is terminated); its ``done`` still runs."""
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait(self) -> None:
        """Until the running job (if any) has ended and delivered its outcome."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)
