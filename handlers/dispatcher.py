"""The one entry point every transport calls: text or a button press in, a ``Reply`` out.

Order for a message: the sender is checked (strangers are refused once an hour and otherwise
ignored), a forwarded message is refused (it is never a command), a text longer than
``MAX_COMMAND_CHARS`` is refused, only then is the text parsed (nothing of a stranger's or an
over-long message is), the command's role is checked, a confirmed command shows its preview
and waits, everything else runs. Every invocation, allowed or denied, is audited.
Facade errors become a short ephemeral reply; a bug becomes a generic one plus a log entry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from handlers.auth import Authorizer, Decision, Principal, Verdict
from handlers.confirm import (
    CANCEL_PREFIX,
    CONFIRM_PREFIX,
    Confirmations,
    Outcome,
    Pending,
    cancel_data,
    confirm_data,
)
from handlers.fmt import catalog
from handlers.i18n import LANGUAGES, Catalog
from handlers.parser import (
    MAX_COMMAND_CHARS,
    NotForMe,
    UsageError,
    command_name,
    parse,
    split_command,
)
from handlers.quota import ResearchQuota
from handlers.refusals import EXPECTED_ERRORS, refusal_text
from handlers.registry import Call, Command, Registry, Role
from handlers.reply import Button, Reply, Severity
from trading.command_api import AuditTrail, Code, CommandApi, Refused

log = logging.getLogger(__name__)
REFRESH_PREFIX = "rf:"

ReportHook = Callable[[str, str], Awaitable[Reply]]  # (period, language) -> the report
HealthHook = Callable[[], Mapping[str, str]]
#: told (command, outcome) for every audited invocation, e.g. to count it in metrics
AuditObserver = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply with the outcome it was audited as (``ok``, ``confirm_pending``,
    ``confirmed``, ``cancelled``, ``usage``, ``denied``, ``refused``, ``error``, ``expired``),
    for a caller that answers with a status of its own (an HTTP API). Every step returns
    one, so the outcome travels with the reply rather than through shared state."""

    reply: Reply
    outcome: str


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        api: CommandApi,
        authorizer: Authorizer,
        store: AuditTrail,
        *,
        language: str = "ko",
        mode: str = "paper",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        confirm_ttl_s: float = 60.0,
        report_hook: ReportHook | None = None,
        health_hook: HealthHook | None = None,
        version: str = "",
        bot_username: str | None = None,
        on_audit: AuditObserver | None = None,
        research_quota: ResearchQuota | None = None,
    ) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        self.registry = registry
        self.api = api
        self.authorizer = authorizer
        self.store = store
        self.language = language
        self.mode = mode
        self.clock = clock
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))
        self.confirmations = Confirmations(confirm_ttl_s, clock)
        self.report_hook = report_hook
        self.health_hook = health_hook
        self.version = version
        self.bot_username = bot_username
        self.on_audit = on_audit
        self.research_quota = research_quota or ResearchQuota(clock=clock)
        self.started = clock()

    def catalog(self, language: str | None = None) -> Catalog:
        return catalog(language if language in LANGUAGES else self.language)

    def menu(self, role: Role, language: str | None = None) -> list[tuple[str, str]]:
        return self.registry.menu(role, self.catalog(language).language)

    def badge(self, t: Catalog) -> str:
        return t.t("common.live" if self.mode == "live" else "common.paper")

    # -- messages ------------------------------------------------------------------------------

    async def handle(
        self, who: Principal, text: str, language: str | None = None, *, forwarded: bool = False
    ) -> Reply | None:
        """Run one typed command; None means "say nothing" (a stranger already told).

        ``forwarded``: the text is someone else's message passed on (a Telegram forward, an
        automatic forward from a linked channel). The sender did not write it, so it never
        runs, whoever the sender is: it is refused with a note and audited as denied.
        """
        t = self.catalog(language)
        try:
            name = command_name(text, self.bot_username)
        except NotForMe:
            return None
        decision = self.authorizer.check(who)
        if decision.role is None:
            return await self._refuse_stranger(who, name, text, decision, t, forwarded=forwarded)
        if forwarded:
            await self._audit(who, name or "?", {"text": text[:200]}, "denied", "forwarded")
            return self._note(t, "auth.forwarded")
        return (await self._dispatch(who, decision.role, name, text, t)).reply

    async def execute(
        self, who: Principal, role: Role, text: str, language: str | None = None
    ) -> Answer:
        """Run one command for a caller that has authenticated ``who`` as ``role`` itself
        (an API token): everything ``handle`` does after the sender check (length, parsing,
        the command's role, the standby rule, confirmation, audit). The answer tells the
        outcome it was audited with, for a caller that answers with a status of its own."""
        t = self.catalog(language)
        return await self._dispatch(who, role, command_name(text, None), text, t)

    async def settle(
        self, who: Principal, role: Role, token: str, *, confirming: bool, language: str | None
    ) -> Answer:
        """Confirm (or cancel) ``who``'s pending command ``token`` for an authenticated caller,
        as a Confirm button press does, and tell the outcome it was audited with."""
        return await self._settle(who, token, confirming, role, self.catalog(language))

    async def _dispatch(
        self, who: Principal, role: Role, name: str, text: str, t: Catalog
    ) -> Answer:
        if len(text) > MAX_COMMAND_CHARS:
            detail = f"{len(text)} characters, over {MAX_COMMAND_CHARS}"
            reply = self._note(
                t, "parse.too_long", length=f"{len(text):,}", limit=f"{MAX_COMMAND_CHARS:,}"
            )
            return await self._answer(
                reply, who, name or "?", {"text": text[:200]}, "usage", detail
            )
        try:
            parsed = parse(self.registry, text, t, self.bot_username)
        except UsageError as exc:
            reply = self._usage(t, exc)
            return await self._answer(
                reply, who, name or "?", {"text": text[:200]}, "usage", exc.message
            )
        command, args = parsed.command, parsed.args
        required = command.required_role(args)
        if required > role:
            needed = t.t(f"role.{required.name.lower()}")
            reply = self._note(t, "auth.role", command=command.name, role=needed)
            return await self._answer(
                reply, who, command.name, args, "denied", f"needs {required.name}"
            )
        call = self._call(command, args, who, role, t)
        if not command.standby and (refused := await self._standby_refusal(call)) is not None:
            return refused
        if command.needs_confirm(call):
            return await self._ask(call)
        return await self._run(call, "ok")

    async def _refuse_stranger(
        self,
        who: Principal,
        name: str,
        text: str,
        decision: Decision,
        t: Catalog,
        *,
        forwarded: bool,
    ) -> Reply | None:
        """A sender not allowed here: audited, told at most once an hour, silent otherwise.

        A forward by a stranger (or Telegram's service account, the sender of automatic
        forwards) gets the forward note instead, at the same pace: it may not make the bot
        answer more often than typing would."""
        reason = f"{decision.reason}; forwarded" if forwarded else decision.reason
        await self._audit(who, name or "?", {"text": text[:200]}, "denied", reason)
        if decision.verdict is not Verdict.REFUSE:
            return None
        if forwarded:
            return self._note(t, "auth.forwarded")
        return self._note(t, "auth.refused", user=who.user_id, chat=who.chat_id)

    async def _ask(self, call: Call) -> Answer:
        assert call.command.preview is not None
        try:
            preview = await call.command.preview(call)
        except Exception as exc:
            return await self._failure(call, exc)
        t = call.t
        pending = self.confirmations.create(
            call.principal, call.command.name, call.args, t.language
        )
        seconds = int(self.confirmations.ttl_s)
        reply = Reply(
            title=preview.title,
            lines=(*preview.lines, t.t("confirm.ask", seconds=seconds)),
            fields=((t.t("ui.mode"), self.badge(t)), *preview.fields),
            table=preview.table,
            buttons=(
                Button(t.t("confirm.yes"), confirm_data(pending.token)),
                Button(t.t("confirm.no"), cancel_data(pending.token)),
            ),
            severity=Severity.WARNING,
        )
        return await self._answer(
            reply, call.principal, call.command.name, call.args, "confirm_pending", pending.token
        )

    async def _standby_refusal(self, call: Call) -> Answer | None:
        """A command that does not run on a standby (``Command.standby``), asked of one: a
        coded refusal naming the leader; audited as ``refused``."""
        instance = await self.api.instance()
        if not instance.standby:
            return None
        leader = instance.leader or call.t.t("standby.nobody")
        name = call.command.name
        exc = Refused(
            Code.STANDBY,
            f"this instance is a standby; the leader is {leader}."
            f" /{name} runs only on the leader.",
            leader=leader,
            command=name,
        )
        reply = Reply(refusal_text(call.t, exc), severity=Severity.WARNING, ephemeral=True)
        return await self._answer(reply, call.principal, name, call.args, "refused", "standby")

    async def _run(self, call: Call, outcome: str) -> Answer:
        try:
            reply = await call.command.handler(call)
        except Exception as exc:
            return await self._failure(call, exc)
        return await self._answer(
            reply, call.principal, call.command.name, call.args, outcome, None
        )

    async def _failure(self, call: Call, exc: Exception) -> Answer:
        t, name = call.t, call.command.name
        if isinstance(exc, UsageError):
            if not exc.usage:
                exc.usage = call.command.usage(t)
            reply = self._usage(t, exc)
            return await self._answer(reply, call.principal, name, call.args, "usage", exc.message)
        if isinstance(exc, EXPECTED_ERRORS):
            text = refusal_text(t, exc)
            reply = Reply(
                t.t("error.title", command=name),
                lines=(text,),
                severity=Severity.WARNING,
                ephemeral=True,
            )
            return await self._answer(reply, call.principal, name, call.args, "error", text[:500])
        log.exception("/%s failed", name)
        reply = Reply(
            t.t("error.title", command=name),
            lines=(t.t("error.internal"),),
            severity=Severity.CRITICAL,
            ephemeral=True,
        )
        return await self._answer(
            reply, call.principal, name, call.args, "error", f"{type(exc).__name__}"
        )

    # -- button presses ------------------------------------------------------------------------

    async def press(self, who: Principal, data: str, language: str | None = None) -> Reply | None:
        """A button: ``cf:<token>`` confirm, ``cx:<token>`` cancel, ``rf:<command line>``."""
        t = self.catalog(language)
        if data.startswith(REFRESH_PREFIX):
            text = data.removeprefix(REFRESH_PREFIX)
            name, _ = split_command(text)
            command = self.registry.lookup(name)
            if command is None or not command.refreshable:
                return self._note(t, "button.unknown")
            return await self.handle(who, text, language)
        decision = self.authorizer.check(who)
        if decision.role is None:
            await self._audit(who, "press", {"data": data[:64]}, "denied", decision.reason)
            if decision.verdict is Verdict.REFUSE:
                return self._note(t, "auth.refused", user=who.user_id, chat=who.chat_id)
            return None
        if data.startswith((CONFIRM_PREFIX, CANCEL_PREFIX)):
            confirming = data.startswith(CONFIRM_PREFIX)
            return (await self._settle(who, data[3:], confirming, decision.role, t)).reply
        await self._audit(who, "press", {"data": data[:64]}, "usage", "unknown button")
        return self._note(t, "button.unknown")

    async def _settle(
        self, who: Principal, token: str, confirming: bool, role: Role, t: Catalog
    ) -> Answer:
        outcome, pending = self.confirmations.take(token, who)
        name = pending.command if pending is not None else "press"
        args: dict[str, Any] = dict(pending.args) if pending else {"token": token}
        if pending is not None and outcome is not Outcome.OTHER_USER:
            t = self.catalog(pending.language)
        if outcome is Outcome.OTHER_USER:
            reply = self._note(t, "confirm.not_yours")
            return await self._answer(
                reply, who, name, args, "denied", f"not the asker's ({token})"
            )
        if outcome in (Outcome.USED, Outcome.UNKNOWN):
            reply = self._note(t, "confirm.used")
            return await self._answer(
                reply, who, name, args, "expired", f"{outcome.value} ({token})"
            )
        assert pending is not None
        if outcome is Outcome.EXPIRED:
            reply = self._note(t, "confirm.expired")
            return await self._answer(reply, who, name, args, "expired", token)
        if not confirming:
            reply = Reply(t.t("confirm.cancelled", command=name), ephemeral=True)
            return await self._answer(reply, who, name, args, "cancelled", token)
        command = self.registry.lookup(pending.command)
        if command is None or command.required_role(pending.args) > role:
            reply = self._note(t, "auth.role", command=name, role=t.t("role.operator"))
            return await self._answer(reply, who, name, args, "denied", "role changed")
        call = self._call(command, pending.args, who, role, t, confirmed=True)
        return await self._run(call, "confirmed")

    def latest_pending(self, who: Principal) -> Pending | None:
        return self.confirmations.latest(who)

    # -- helpers -------------------------------------------------------------------------------

    def _call(
        self,
        command: Command,
        args: dict[str, Any],
        who: Principal,
        role: Role,
        t: Catalog,
        *,
        confirmed: bool = False,
    ) -> Call:
        return Call(
            command=command,
            args=args,
            principal=who,
            role=role,
            t=t,
            api=self.api,
            dispatcher=self,
            now=self.wall_clock(),
            confirmed=confirmed,
        )

    def _note(self, t: Catalog, key: str, **values: object) -> Reply:
        return Reply(t.t(key, **values), severity=Severity.WARNING, ephemeral=True)

    def _usage(self, t: Catalog, exc: UsageError) -> Reply:
        lines = [exc.message]
        if exc.usage:
            lines.append(t.t("parse.usage", usage=exc.usage))
        return Reply(t.t("parse.title"), tuple(lines), severity=Severity.WARNING, ephemeral=True)

    async def _answer(
        self,
        reply: Reply,
        who: Principal,
        command: str,
        args: Mapping[str, Any],
        outcome: str,
        detail: str | None,
    ) -> Answer:
        """Audit one step's outcome and answer with ``reply`` and that outcome."""
        await self._audit(who, command, args, outcome, detail)
        return Answer(reply, outcome)

    async def _audit(
        self,
        who: Principal,
        command: str,
        args: Mapping[str, Any],
        outcome: str,
        detail: str | None,
    ) -> None:
        if self.on_audit is not None:
            try:
                self.on_audit(command, outcome)
            except Exception:
                log.exception("audit observer failed for /%s (%s)", command, outcome)
        try:
            await self.store.audit(
                transport=who.transport,
                user_id=who.user_id,
                chat_id=who.chat_id,
                command=command,
                arguments={k: _jsonable(v) for k, v in args.items()},
                outcome=outcome,
                detail=detail,
            )
        except Exception:
            log.exception("could not write the audit entry for /%s (%s)", command, outcome)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
