"""Read-only views: help, status, balances, positions, orders, trades, risk, health, identity."""

from __future__ import annotations

import difflib
import platform
from decimal import Decimal

from handlers.fmt import duration, krw, price, short_when, signed_krw, volume, when
from handlers.i18n import Catalog
from handlers.registry import ArgSpec, Call, Command, Registry, Role
from handlers.reply import Button, Reply, Severity, Table
from trading.command_api import (
    EngineStatus,
    InstanceView,
    Position,
    PositionState,
    UniverseView,
    Warming,
)

ZERO = Decimal(0)


def refresh(call: Call, text: str) -> Button:
    return Button(call.t.t("button.refresh"), f"rf:{text}")


def dust_lines(
    call: Call, markets: tuple[str, ...] | None = None, key: str = "status"
) -> list[str]:
    """One line per market holding dust: its volume, KRW value and why it is not sold.

    ``key``: the catalog section (``status`` for a holding, ``close`` for why nothing is sold).
    """
    lines = []
    for d in call.api.dust():
        if markets is not None and d.market not in markets:
            continue
        below = d.value_krw is not None and not d.sellable
        lines.append(
            call.t.t(
                f"{key}.dust" if below else f"{key}.dust_kept",
                market=d.market,
                volume=volume(d.volume),
                value="-" if d.value_krw is None else krw(d.value_krw),
                min=krw(d.minimum_krw),
            )
        )
    return lines


def unrealized(position: Position, last: Decimal | None) -> Decimal | None:
    if position.state is not PositionState.LONG or last is None or not position.entry_volume:
        return None
    share = position.volume / position.entry_volume
    return position.volume * last - (position.entry_cost + position.entry_fees) * share


#: how close a typed name must be to a command's to be offered (difflib's ratio)
CLOSE_RATIO = 0.6


def _topic(registry: Registry, words: list[str]) -> str | None:
    """The command ``/help`` is asked about: ``optimize``, ``/optimize``, ``opt``, or as Slack
    writes commands, ``/upbit optimize`` (the slash command word first, whatever the workspace
    named it); words after the command (``pnl week``) are its arguments, not the topic. None
    for plain ``/help``."""
    names = [w.removeprefix("/").partition("@")[0].lower() for w in words]
    if not names:
        return None
    if len(names) > 1 and registry.lookup(names[0]) is None and registry.lookup(names[1]):
        return names[1]
    return names[0]


async def help_(call: Call) -> Reply:
    t = call.t
    topic = _topic(call.dispatcher.registry, str(call.args.get("topic") or "").split())
    if topic is not None:
        return _help_of(call, topic)
    standby = (await call.api.instance()).standby
    lines = [
        f"/{c.name} {t.t(c.usage_key)}".rstrip() + f" — {c.describe(t)}"
        for c in call.dispatcher.registry.allowed(call.role)
        if c.menu and (c.standby or not standby)
    ]
    lines += ["", t.t("help.standby" if standby else "help.confirm"), t.t("help.more")]
    if call.principal.transport == "console":
        lines.append(t.t("help.console"))
    return Reply(t.t("help.title", role=t.t(f"role.{call.role.name.lower()}")), tuple(lines))


def _help_of(call: Call, name: str) -> Reply:
    """One command: its usage, what it does (a paragraph), its examples and aliases, and who
    may run it. Any role may read it (knowing what /buy does is no power); an unknown name is
    refused with the names close to it, or told to send /help."""
    t, registry = call.t, call.dispatcher.registry
    command = registry.lookup(name)
    if command is None:
        close = difflib.get_close_matches(name, registry.names(), n=3, cutoff=CLOSE_RATIO)
        # an alias and its command are one command: name each once, by its own name
        found = dict.fromkeys(c.name for n in close if (c := registry.lookup(n)) is not None)
        text = (
            t.t("help.unknown_close", name=name, close=", ".join(f"/{n}" for n in found))
            if found
            else t.t("help.unknown", name=name)
        )
        return Reply(text, severity=Severity.WARNING, ephemeral=True)
    lines = [t.t("parse.usage", usage=command.usage(t)), "", t.t(command.about_key)]
    if command.examples_key in t.messages:
        lines += ["", t.t("help.examples"), *t.t(command.examples_key).splitlines()]
    if command.aliases:
        lines.append(t.t("help.aliases", names=", ".join(f"/{a}" for a in command.aliases)))
    lines.append(t.t("help.role", role=t.t(f"role.{command.role.name.lower()}")))
    if command.confirm is True:
        lines.append(t.t("help.confirmed"))
    elif callable(command.confirm):  # /resume of the kill switch, /schedule add|remove
        lines.append(t.t("help.confirmed_some"))
    if not command.standby:
        lines.append(t.t("help.leader_only"))
    return Reply(t.t("help.command_title", name=command.name), tuple(lines))


async def status(call: Call) -> Reply:
    t, s = call.t, await call.api.status()
    paused = (
        t.t("status.kill_switch")
        if s.kill_switch
        else t.t("status.paused_all")
        if s.paused_all
        else ", ".join(s.paused_markets)
        if s.paused_markets
        else t.t("status.running")
    )
    fields = [
        *_instance_fields(t, s.instance),
        (t.t("ui.mode"), call.dispatcher.badge(t)),
        (t.t("status.strategy"), s.strategy),
        (t.t("status.trading"), paused),
        (t.t("status.equity"), f"{krw(s.equity_krw)} KRW"),
        (t.t("status.cash"), f"{krw(s.free_krw)} KRW"),
        (
            t.t("status.standby_as_of" if s.instance else "status.market_time"),
            f"{when(s.market_time)} KST",
        ),
    ]
    if s.active_halts:
        fields.append((t.t("status.halts"), ", ".join(s.active_halts)))
    if s.universe is not None:
        fields.append((t.t("status.universe"), _universe(t, s.universe)))
    if s.warming:
        fields.append((t.t("warmup.status"), _warming(t, s.warming)))
    headers = tuple(
        t.t(f"col.{c}") for c in ("market", "state", "volume", "entry", "last", "stop", "upnl")
    )
    return Reply(
        t.t("status.title"),
        lines=tuple(dust_lines(call)),
        fields=tuple(fields),
        table=Table(headers, _position_rows(t, s)),
        buttons=(refresh(call, "status"),),
    )


def _warming(t: Catalog, warming: tuple[Warming, ...]) -> str:
    """Each market the strategy is still silent on: candles held of needed, time left."""
    return ", ".join(
        t.t(
            "warmup.status_market",
            market=w.market,
            held=w.held,
            needed=w.needed,
            left=duration(w.seconds_left),
        )
        for w in warming
    )


def _position_rows(t: Catalog, s: EngineStatus) -> tuple[tuple[str, ...], ...]:
    """One row a position: its state, size, entry, last price, stop and unrealized PnL."""
    rows = []
    for p in s.positions:
        last = s.prices.get(p.market)
        pnl = unrealized(p, last)
        long = p.state is PositionState.LONG
        rows.append(
            (
                p.market,
                t.t(f"state.{p.state.value}"),
                volume(p.volume),
                price(p.avg_entry_price) if long else "-",
                price(last),
                price(p.stop_price) if long else "-",  # every long's stop ("-": stops off)
                "-" if pnl is None else signed_krw(pnl),
            )
        )
    return tuple(rows)


def _universe(t: Catalog, u: UniverseView) -> str:
    """The traded universe: its size, markets, last refresh and what is held outside it."""
    shown = t.t(
        "status.universe_value",
        n=u.top,
        markets=", ".join(u.markets),
        at=when(u.refreshed_at),
        every=duration(u.every_s),
    )
    if u.held_outside:
        shown += "; " + t.t("status.universe_held", markets=", ".join(u.held_outside))
    return shown


def _instance_fields(t: Catalog, instance: InstanceView | None) -> list[tuple[str, str]]:
    """On a standby: that it is one, who leads, and the lock (what it reads is the leader's)."""
    if instance is None or not instance.standby:
        return []
    leader = instance.leader or t.t("standby.nobody")
    return [
        (t.t("standby.role"), t.t("standby.role_value")),
        (t.t("standby.leader"), leader),
        (t.t("standby.lock"), instance.lock or "-"),
    ]


async def balance(call: Call) -> Reply:
    t = call.t
    accounts = await call.api.balances()
    prices = call.api.prices()
    rows, total = [], ZERO
    for a in sorted(accounts, key=lambda a: (a.currency != "KRW", a.currency)):
        last = Decimal(1) if a.currency == "KRW" else prices.get(f"KRW-{a.currency}")
        value = None if last is None else a.total * last
        total += value or ZERO
        amount = krw(a.total) if a.currency == "KRW" else volume(a.total)
        rows.append(
            (
                a.currency,
                amount,
                krw(a.locked) if a.currency == "KRW" else volume(a.locked),
                "-" if a.currency == "KRW" else price(a.avg_buy_price),
                "-" if value is None else krw(value),
            )
        )
    headers = tuple(t.t(f"col.{c}") for c in ("currency", "total", "locked", "avg_buy", "value"))
    lines: tuple[str, ...] = (t.t("balance.simulated"),) if call.dispatcher.mode != "live" else ()
    lines += tuple(dust_lines(call))  # part of a coin's total above: no position, no slot
    return Reply(
        t.t("balance.title"),
        lines=lines,
        fields=((t.t("balance.total"), f"{krw(total)} KRW"),),
        table=Table(headers, tuple(rows)) if rows else None,
        buttons=(refresh(call, "balance"),),
    )


async def positions(call: Call) -> Reply:
    t, s = call.t, await call.api.status()
    rows = []
    for p in s.positions:
        if p.state is PositionState.FLAT or p.state is PositionState.COOLDOWN:
            continue
        last = s.prices.get(p.market)
        pnl = unrealized(p, last)
        rows.append(
            (
                p.market,
                t.t(f"state.{p.state.value}"),
                volume(p.volume),
                price(p.avg_entry_price),
                price(last),
                price(p.stop_price),
                "-" if pnl is None else signed_krw(pnl),
                short_when(p.opened_at) if p.opened_at else "-",
            )
        )
    if not rows:
        return Reply(t.t("positions.title"), (t.t("positions.none"),))
    cols = ("market", "state", "volume", "entry", "last", "stop", "upnl", "opened")
    return Reply(
        t.t("positions.title"),
        table=Table(tuple(t.t(f"col.{c}") for c in cols), tuple(rows)),
        buttons=(refresh(call, "positions"),),
    )


async def orders(call: Call) -> Reply:
    t = call.t
    rows = tuple(
        (
            o.intent_id,
            o.market,
            t.t(f"side.{o.side}"),
            o.ord_type,
            price(o.price) if o.price is not None else "-",
            volume(o.volume) if o.volume is not None else "-",
            o.state,
            short_when(o.created_at),
        )
        for o in await call.api.orders()
    )
    if not rows:
        return Reply(
            t.t("orders.title"), (t.t("orders.none"),), buttons=(refresh(call, "orders"),)
        )
    cols = ("order", "market", "side", "type", "price", "volume", "state", "time")
    return Reply(
        t.t("orders.title"),
        table=Table(tuple(t.t(f"col.{c}") for c in cols), rows),
        buttons=(refresh(call, "orders"),),
    )


async def trades(call: Call) -> Reply:
    t = call.t
    fills = await call.api.trades(int(call.args["n"]))
    rows = tuple(
        (
            short_when(f.created_at),
            f.market,
            t.t(f"side.{f.side}"),
            price(f.price),
            volume(f.volume),
            krw(f.funds),
            krw(f.fee),
        )
        for f in fills
    )
    if not rows:
        return Reply(t.t("trades.title"), (t.t("trades.none"),))
    cols = ("time", "market", "side", "price", "volume", "funds", "fee")
    return Reply(t.t("trades.title"), table=Table(tuple(t.t(f"col.{c}") for c in cols), rows))


def translated(
    t: Catalog, section: str, code: str, values: tuple[tuple[str, str], ...], fallback: str
) -> str:
    """A risk text in the user's language; the engine's English sentence if there is no entry."""
    key = f"{section}.{code}"
    return t.t(key, **dict(values)) if code and key in t.messages else fallback


async def risk(call: Call) -> Reply:
    t = call.t
    state = await call.api.risk_state()  # measures, and keeps what it learned
    fields = tuple(
        (
            t.t(f"risk.{item.name}") + (" ⛔" if item.blocking else ""),
            translated(t, "risk_usage", item.code, item.values, item.text),
        )
        for item in state.items
    )
    allowed = t.t("risk.entries_on" if state.entries_allowed else "risk.entries_off")
    return Reply(
        t.t("risk.title"),
        (allowed,),
        fields=fields,
        severity=Severity.INFO if state.entries_allowed else Severity.WARNING,
        buttons=(refresh(call, "risk"),),
    )


async def health(call: Call) -> Reply:
    t, h, d = call.t, await call.api.health(), call.dispatcher
    fields = [
        *_instance_fields(t, h.instance),
        (t.t("health.market_time"), f"{when(h.market_time)} KST"),
        (t.t("health.uptime"), f"{int(d.clock() - d.started)}s"),
    ]
    for feed in h.feeds:
        since = feed.age
        age = "-" if since is None else duration(max(0.0, since.total_seconds()))
        fields.append(
            (
                t.t("health.feed", market=feed.market),
                t.t(
                    "health.feed_value", age=age, book=t.t("ui.yes" if feed.has_book else "ui.no")
                ),
            )
        )
    circuit = h.circuit
    fields.append(
        (
            t.t("health.circuit"),
            t.t("health.no_circuit") if circuit is None else f"{circuit[0]} ({circuit[1]})",
        )
    )
    fields.append((t.t("status.kill_switch"), t.t("ui.yes" if h.kill_switch else "ui.no")))
    if d.health_hook is not None:
        fields += list(d.health_hook().items())
    return Reply(t.t("health.title"), fields=tuple(fields), buttons=(refresh(call, "health"),))


async def version(call: Call) -> Reply:
    t, d = call.t, call.dispatcher
    return Reply(
        t.t("version.title"),
        fields=(
            (t.t("version.bot"), d.version or "-"),
            (t.t("ui.mode"), d.badge(t)),
            (t.t("status.strategy"), (await call.api.health()).strategy),
            ("Python", platform.python_version()),
        ),
    )


async def whoami(call: Call) -> Reply:
    t, p = call.t, call.principal
    return Reply(
        t.t("whoami.title"),
        fields=(
            (t.t("whoami.transport"), p.transport),
            (t.t("whoami.user"), p.user_id),
            (t.t("whoami.chat"), p.chat_id),
            (t.t("whoami.role"), t.t(f"role.{call.role.name.lower()}")),
        ),
    )


async def audit(call: Call) -> Reply:
    t = call.t
    rows = tuple(
        (
            short_when(r.at),
            r.transport,
            r.user_id or "-",
            r.command,
            r.outcome,
            (r.detail or "")[:40],
        )
        for r in await call.api.audit_log(int(call.args["n"]))
    )
    cols = ("time", "transport", "user", "command", "outcome", "detail")
    return Reply(t.t("audit.title"), table=Table(tuple(t.t(f"col.{c}") for c in cols), rows))


COMMANDS = [
    Command("help", help_, args=(ArgSpec("topic", "rest", False),), standby=True),
    Command("status", status, refreshable=True, standby=True),
    Command("balance", balance, aliases=("bal",), refreshable=True),
    Command("positions", positions, aliases=("pos",), refreshable=True, standby=True),
    Command("orders", orders, refreshable=True, standby=True),
    Command(
        "trades",
        trades,
        args=(ArgSpec("n", "int", False, min=1, max=100, default=10),),
        standby=True,
    ),
    Command("risk", risk, refreshable=True),
    Command("health", health, refreshable=True, standby=True),
    Command("version", version, standby=True),
    Command("whoami", whoami, aliases=("id",), standby=True),
    Command(
        "audit",
        audit,
        args=(ArgSpec("n", "int", False, min=1, max=100, default=20),),
        role=Role.ADMIN,
        standby=True,
    ),
]
