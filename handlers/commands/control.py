"""Steering: pause/resume, live parameters (/set, /get, /params, /undo, /history), /schedule,
/reset (an admin lifts a daily-loss or drawdown halt)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from pydantic import ValidationError

from handlers.fmt import duration, krw, pct, short_when
from handlers.invalid import problems
from handlers.parser import UsageError
from handlers.refusals import Declined
from handlers.registry import ArgSpec, Call, Command, Role
from handlers.reply import Reply, Severity, Table
from trading.command_api import (
    RESETTABLE,
    WEEKDAYS,
    Code,
    CommandApi,
    HaltReset,
    HaltWindow,
    ParamChange,
    Refused,
)


def _target(call: Call) -> str:
    market = call.args.get("market")
    return str(market) if market else call.t.t("ui.all_markets")


async def pause(call: Call) -> Reply:
    await call.api.pause(call.args["market"], by=call.by)
    return Reply(call.t.t("pause.done", target=_target(call)))


def _lifts_kill_switch(call: Call) -> bool:
    """``/resume`` of every market while the kill switch is on: an admin's confirmed act."""
    return call.args.get("market") is None and call.api.kill_switch_by() is not None


def _kill_switch_refusal(call: Call) -> Declined | None:
    if call.role >= Role.ADMIN:
        return None
    who = call.api.kill_switch_by() or "-"
    return Declined(call.t.t("resume.kill_switch_admin_only", by=who))


async def resume_preview(call: Call) -> Reply:
    refusal = _kill_switch_refusal(call)
    if refusal is not None:
        raise refusal
    who = call.api.kill_switch_by() or "-"
    return Reply(
        call.t.t("resume.kill_switch_preview"),
        (call.t.t("resume.kill_switch_by", by=who),),
        severity=Severity.CRITICAL,
    )


async def resume(call: Call) -> Reply:
    lifting = call.args["market"] is None and call.api.kill_switch_by() is not None
    if lifting:
        refusal = _kill_switch_refusal(call)
        if refusal is not None or not call.confirmed:
            raise refusal or Declined(call.t.t("resume.kill_switch_confirm"))
    await call.api.resume(call.args["market"], by=call.by, lift_kill_switch=lifting)
    if lifting:
        return Reply(call.t.t("resume.kill_switch_lifted"), severity=Severity.WARNING)
    return Reply(call.t.t("resume.done", target=_target(call)))


async def params(call: Call) -> Reply:
    t = call.t
    rows = tuple(sorted(call.api.params().items()))
    return Reply(t.t("params.title"), table=Table((t.t("col.key"), t.t("col.current")), rows))


def resolve_key(api: CommandApi, key: str) -> str:
    """``fast`` -> ``strategy.fast``; ``position_size_krw`` -> ``risk.position_size_krw``."""
    known = api.params()
    if key in known or "." in key:
        return key
    matches = [k for k in known if k.split(".", 1)[1] == key]
    return matches[0] if len(matches) == 1 else key


async def get(call: Call) -> Reply:
    key = call.args["key"]
    if key is None:
        return await params(call)
    key = resolve_key(call.api, key)
    return Reply(call.t.t("get.value", key=key, value=call.api.get(key)))


async def set_preview(call: Call) -> Reply:
    key = resolve_key(call.api, call.args["key"])
    call.args["key"] = key
    change = call.api.preview_set(key, call.args["value"])
    if change.old == change.new:
        raise Declined(call.t.t("set.same", key=key, value=change.old))
    return Reply(call.t.t("set.preview", key=key), (f"{key}: {change.old} → {change.new}",))


def _change_lines(call: Call, change: ParamChange) -> tuple[str, ...]:
    """The change, then what it did to the warm-up: candles backfilled, or the markets the
    strategy is silent on until enough candles have closed (never a silent stop)."""
    t = call.t
    lines = [f"{change.key}: {change.old} → {change.new}"]
    if change.loaded:
        lines.append(t.t("warmup.loaded", count=change.loaded))
    lines += (
        t.t(
            "warmup.set_warming",
            market=w.market,
            held=w.held,
            needed=w.needed,
            missing=w.missing,
            left=duration(w.seconds_left),
        )
        for w in change.warming
    )
    return tuple(lines)


async def set_(call: Call) -> Reply:
    change = await call.api.set(
        call.args["key"], call.args["value"], by=call.by, transport=call.principal.transport
    )
    severity = Severity.WARNING if change.warming else Severity.INFO
    return Reply(call.t.t("set.done"), _change_lines(call, change), severity=severity)


async def undo_preview(call: Call) -> Reply:
    last = await call.api.last_change()
    call.args["change"] = last.id  # the confirmation undoes this change or nothing
    current = call.api.get(last.key)
    return Reply(call.t.t("undo.preview"), (f"{last.key}: {current} → {last.old_value}",))


async def undo(call: Call) -> Reply:
    change = await call.api.undo(
        call.args.get("change"), by=call.by, transport=call.principal.transport
    )
    severity = Severity.WARNING if change.warming else Severity.INFO
    return Reply(call.t.t("undo.done"), _change_lines(call, change), severity=severity)


async def history(call: Call) -> Reply:
    t = call.t
    rows = tuple(
        (short_when(r.at), r.who, r.key, f"{r.old_value} → {r.new_value}")
        for r in await call.api.history(int(call.args["n"]))
    )
    if not rows:
        return Reply(t.t("history.title"), (t.t("history.none"),))
    cols = ("time", "who", "key", "change")
    return Reply(t.t("history.title"), table=Table(tuple(t.t(f"col.{c}") for c in cols), rows))


# -- /schedule -----------------------------------------------------------------------------------


def _window_text(w: HaltWindow) -> str:
    def moment(m: time | datetime) -> str:
        return m.isoformat(timespec="minutes")

    if not w.recurring:
        return f"{w.name}: {moment(w.start)} – {moment(w.end)}"
    days = ",".join(w.days) if w.days else "*"
    return f"{w.name}: {moment(w.start)}–{moment(w.end)} ({days})"


def window_from(call: Call) -> HaltWindow:
    """``NAME START END [days]`` -> a validated window (days ``mon,fri`` or ``mon fri``)."""
    t = call.t
    words = str(call.args["rest"] or "").replace(",", " ").split()
    if len(words) < 3:
        raise UsageError(t.t("schedule.add_usage"))
    name, start, end, *days = words
    bad = [d for d in days if d.lower() not in WEEKDAYS]
    if bad:
        raise UsageError(t.t("schedule.bad_day", days=" ".join(bad), known=",".join(WEEKDAYS)))
    try:
        return HaltWindow(name=name, start=start, end=end, days=tuple(d.lower() for d in days))
    except ValidationError as exc:
        labels = {f: t.t(f"schedule.field_{f}") for f in ("name", "start", "end", "days")}
        raise UsageError(t.t("schedule.invalid", reason=problems(t, exc, labels))) from None


def _name(call: Call) -> str:
    words = str(call.args["rest"] or "").split()
    if len(words) != 1:
        raise UsageError(call.t.t("schedule.remove_usage"))
    return words[0]


async def schedule_preview(call: Call) -> Reply:
    t, api = call.t, call.api
    if call.args["action"] == "add":
        window = window_from(call)
        if any(h.window.name == window.name for h in api.halts()):
            raise Refused(Code.HALT_EXISTS, "the name is taken", name=window.name)
        return Reply(t.t("schedule.add_preview"), (_window_text(window),))
    name = _name(call)
    halts = api.halts()
    found = next((h.window for h in halts if h.window.name == name), None)
    if found is None:
        known = ", ".join(h.window.name for h in halts) or "-"
        raise Refused(Code.HALT_UNKNOWN, "no such window", name=name, known=known)
    return Reply(t.t("schedule.remove_preview"), (_window_text(found),))


async def schedule(call: Call) -> Reply:
    t, api, action = call.t, call.api, call.args["action"]
    if action == "add":
        window = window_from(call)
        await api.add_halt(window)
        return Reply(t.t("schedule.added"), (_window_text(window),))
    if action == "remove":
        removed = await api.remove_halt(_name(call))
        return Reply(t.t("schedule.removed"), (_window_text(removed),))
    if call.args["rest"]:
        raise UsageError(t.t("parse.extra", words=call.args["rest"]))
    lines = tuple(
        _window_text(h.window) + (f"  ← {t.t('schedule.active')}" if h.active else "")
        for h in api.halts()
    )
    return Reply(t.t("schedule.title"), lines or (t.t("schedule.none"),))


def _changes_schedule(args: Mapping[str, Any]) -> bool:
    return args.get("action") in ("add", "remove")


def _confirm_schedule(call: Call) -> bool:
    return _changes_schedule(call.args)


def _schedule_role(args: Mapping[str, Any]) -> Role:
    return Role.OPERATOR if _changes_schedule(args) else Role.VIEWER


# -- /reset ---------------------------------------------------------------------------------------


def _reset_lines(call: Call, state: HaltReset) -> tuple[str, ...]:
    """The halt as it stands and what the reset changes, with the numbers."""
    t = call.t
    lines = []
    if state.reason is not None:
        key = f"refusal.{state.halt}"
        lines.append(t.t(key, **dict(state.values)) if key in t.messages else state.reason)
    if state.halt == "daily_loss":
        lines += [
            t.t("reset.day_loss", loss=krw(state.day_loss), limit=krw(state.loss_limit)),
            t.t("reset.daily_loss_after", day=state.day.isoformat()),
        ]
        return tuple(lines)
    peak = "-" if state.peak is None else krw(state.peak)
    lines += [
        t.t("reset.peak", peak=peak, equity=krw(state.equity)),
        t.t(
            "reset.drawdown",
            drawdown=pct(state.drawdown_pct),
            limit=pct(state.drawdown_limit),
        ),
        t.t("reset.drawdown_after" if state.tripped else "reset.drawdown_not_tripped"),
    ]
    return tuple(lines)


async def reset_preview(call: Call) -> Reply:
    halt, t = call.args["halt"], call.t
    state = await call.api.reset_preview(halt)
    if halt == "daily_loss" and not state.tripped:
        raise Refused(Code.HALT_NOT_TRIPPED, "the daily loss halt is not tripped")
    return Reply(t.t(f"reset.preview_{halt}"), _reset_lines(call, state))


async def reset(call: Call) -> Reply:
    halt, t = call.args["halt"], call.t
    state = await call.api.reset_halt(halt, by=call.by)  # Refused: not tripped (any more)
    done = t.t(f"reset.done_{halt}", day=state.day.isoformat(), equity=krw(state.equity))
    return Reply(done, _reset_lines(call, state))


MARKET_ARG = ArgSpec("market", "market", False)
COMMANDS = [
    Command("pause", pause, args=(MARKET_ARG,), role=Role.OPERATOR),
    Command(
        "resume",
        resume,
        args=(MARKET_ARG,),
        role=Role.OPERATOR,
        confirm=_lifts_kill_switch,
        preview=resume_preview,
    ),
    Command("params", params, aliases=("config",)),
    Command("get", get, args=(ArgSpec("key", "key", False),)),
    Command.confirmed("set", set_, set_preview, ArgSpec("key", "key"), ArgSpec("value", "str")),
    Command.confirmed("undo", undo, undo_preview),
    Command(
        "history",
        history,
        args=(ArgSpec("n", "int", False, min=1, max=100, default=20),),
        standby=True,
    ),
    Command(
        "schedule",
        schedule,
        args=(
            ArgSpec("action", "choice", False, choices=("list", "add", "remove"), default="list"),
            ArgSpec("rest", "rest", False),
        ),
        confirm=_confirm_schedule,
        preview=schedule_preview,
        role_when=_schedule_role,
    ),
    Command.confirmed(
        "reset",
        reset,
        reset_preview,
        ArgSpec("halt", "choice", choices=RESETTABLE),
        role=Role.ADMIN,
    ),
]
