"""Push delivery: events in, paced messages out, nothing lost on a crash or a chat outage.

Two halves, joined only by the store's notification queue:

- ``on_event`` (a bus callback, so the engine never waits for it) renders the event to learn
  whether it is pushed at all, then enqueues one row per target chat with the event itself as
  payload. Events that may merge (``coalesce_key``) get the same ``not_before`` -- the end of
  their ``coalesce_s`` window -- so they become due together.
- the delivery side claims due rows, hands them to one lane per chat, and each lane sends one
  message at a time through the transport's ``Pacer`` (``pacing``), the one its command
  replies take too, so pushes and replies keep one pace and one flood wait per chat. Rows of
  one merge group that are waiting in a lane together go out as one message. ``RetryAfter``
  is honoured exactly (by ``Pacer.send``);
  network errors back off exponentially with jitter; a permanent error drops the message after
  logging it and writing it to the audit log. Critical messages (fills, risk, ...) are retried
  until delivered and never shed; others are shed when the queue is over ``max_queue`` or after
  ``retry_max`` failed tries. A message delivered more than ``late_after_s`` after it was queued
  says so in its title ("(late: 12:03 KST)").

``stop()`` stops taking events, keeps delivering for a grace period, then gives every claimed
but unsent row back to the queue, where the next ``start()`` (or the next process) finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from bot.notify.codec import decode_event, decode_reply, encode_event, encode_reply
from bot.notify.events import ChatTokenRefused
from bot.notify.kinds import EVENT_KINDS, KINDS, UNQUEUEABLE, kind_of
from bot.notify.pacing import Limits, Pacer
from bot.notify.policy import NotifyPolicy
from bot.notify.render import SEOUL, Renderer, coalesce_key
from bot.notify.sender import ChatSender, PermanentSendError
from bot.same_named import same_named
from bot.transports.registry import default_limits, limits_from_config
from handlers.events import ResearchFinished
from handlers.i18n import Catalog
from handlers.reply import Reply
from trading.bus import EventBus, Subscription
from trading.domain.rules import MarketRules
from trading.events import Event
from trading.store import Store
from trading.store.records import NotificationRecord

if TYPE_CHECKING:
    from bot.config import AppConfig

log = logging.getLogger(__name__)
PAYLOAD_VERSION = 1
#: ``[notify]`` settings the notifier takes under their own names (``Notifier.from_config``)
QUEUE_SETTINGS = (
    "coalesce_s",
    "late_after_s",
    "retry_max",
    "backoff_base_s",
    "backoff_max_s",
    "max_queue",
    "stop_grace_s",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class NotifierStats:
    enqueued: int = 0
    sent: int = 0
    merged: int = 0
    retries: int = 0
    shed: int = 0
    dropped: int = 0
    filtered: int = 0


@dataclass(slots=True)
class TransportStats:
    """Per transport, for metrics: messages delivered, failed send tries, messages dropped."""

    sent: int = 0
    failures: int = 0
    dropped: int = 0


@dataclass(slots=True)
class _Item:
    record: NotificationRecord
    transport: str
    chat: str

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = self.record.payload
        return data

    @property
    def group(self) -> str | None:
        group = self.payload.get("group")
        return group if isinstance(group, str) else None

    @property
    def critical(self) -> bool:
        return bool(self.payload.get("critical", False))


@dataclass(slots=True)
class _Lane:
    transport: str
    chat: str
    items: list[_Item] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    failures: int = 0


def _own_pacer(sender: ChatSender) -> Pacer | None:
    """The pacer a transport paces its command replies with: pushes must share it, or a
    reply could go into a chat inside a wait a push was told (and the other way round)."""
    pacer = getattr(sender, "pacer", None)
    return pacer if isinstance(pacer, Pacer) else None


def channel_of(transport: str, chat: str) -> str:
    return f"{transport}:{chat}"


class Notifier:
    """Pushes events to every target chat of every transport with a sender.

    ``targets`` maps a transport name (a transport kind's, or ``console``) to its chat ids;
    ``senders`` maps the same names to their ``ChatSender``. ``clock`` gives aware UTC times
    (queue times, late marks); pacing uses the monotonic clock.
    """

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, ChatSender],
        targets: Mapping[str, Sequence[str]],
        policy: NotifyPolicy,
        catalog: Catalog,
        *,
        paper: bool,
        clock: Callable[[], datetime] = _utcnow,
        zone: tzinfo = SEOUL,
        rules: MarketRules | None = None,
        limits: Mapping[str, Limits] | None = None,
        pacers: Mapping[str, Pacer] | None = None,
        coalesce_s: float = 5.0,
        late_after_s: float = 60.0,
        retry_max: int = 3,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 300.0,
        max_queue: int = 1000,
        stop_grace_s: float = 5.0,
        send_timeout_s: float = 30.0,
        poll_s: float = 0.5,
        claim_batch: int = 100,
        max_held: int = 2000,
        lease: timedelta = timedelta(minutes=10),
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.targets = {t: tuple(str(c) for c in chats) for t, chats in targets.items()}
        self.policy = policy
        self.renderer = Renderer(catalog, paper=paper, zone=zone, rules=rules)
        self.clock = clock
        all_limits = {**default_limits(), **(limits or {})}
        shared = pacers or {}
        self.pacers = {
            t: shared.get(t) or _own_pacer(sender) or Pacer(all_limits.get(t, Limits()))
            for t, sender in self.senders.items()
        }
        self.coalesce_s = coalesce_s
        self.late_after = timedelta(seconds=late_after_s)
        self.retry_max = retry_max
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_queue = max_queue
        self.stop_grace_s = stop_grace_s
        self.send_timeout_s = send_timeout_s
        self.poll_s = poll_s
        self.claim_batch = claim_batch
        self.max_held = max_held
        self.lease = lease
        self.rng = rng or random.Random()
        self.stats = NotifierStats()
        self.by_transport = {t: TransportStats() for t in self.senders}
        self._unsent: dict[int, str] = {}  # row id -> transport, rows known to be unsent
        self._depth: Counter[str] = Counter()
        self._deadlines: dict[str, tuple[datetime, datetime]] = {}
        self._lanes: dict[str, _Lane] = {}
        self._held: dict[int, _Item] = {}
        self._pending = 0
        self._wake = asyncio.Event()
        self._claimer: asyncio.Task[None] | None = None
        self._stopping = False
        self._claimed_all = False
        self._accepting = True
        self._warned: set[str] = set()

    @classmethod
    def from_config(
        cls,
        cfg: AppConfig,
        store: Store,
        senders: Mapping[str, ChatSender],
        targets: Mapping[str, Sequence[str]],
        *,
        catalog: Catalog | None = None,
        rules: MarketRules | None = None,
        pacers: Mapping[str, Pacer] | None = None,
    ) -> Notifier:
        """A notifier set up from ``[notify]``, ``bot.mode``, ``bot.language`` and
        ``bot.timezone``; the transports pass their senders and notify chat ids. Pushes share
        each transport's pacer with its command replies (``pacers``, else the sender's own)."""
        n = cfg.notify
        return cls(
            store,
            senders,
            targets,
            NotifyPolicy.from_config(n),
            catalog or Catalog.load(cfg.bot.language),
            paper=cfg.bot.mode == "paper",
            zone=cfg.bot.tz,
            rules=rules,
            limits=limits_from_config(n),  # for a sender that brings no pacer of its own
            pacers=pacers,
            **same_named(n, QUEUE_SETTINGS),
        )

    # -- intake (bus side) -------------------------------------------------------------------

    def subscribe(self, bus: EventBus, *, maxsize: int = 10_000) -> Subscription:
        """Listen to every event the notifier knows (candles excluded). Call on the loop."""
        kinds = tuple(cls for cls, kind in EVENT_KINDS.items() if kind not in UNQUEUEABLE)
        return bus.subscribe_callback("notifier", self.on_event, kinds=kinds, maxsize=maxsize)

    @property
    def pending(self) -> int:
        """Rows this notifier knows to be unsent (queued at start plus since)."""
        return self._pending

    def queue_depth(self) -> dict[str, int]:
        """Unsent rows per transport: queued by this process, or claimed since it started (a
        backlog inherited from the last run counts once it is claimed, normally at once)."""
        return {t: self._depth[t] for t in self.senders}

    def _track(self, row_id: int, transport: str) -> None:
        if row_id not in self._unsent:
            self._unsent[row_id] = transport
            self._depth[transport] += 1

    def _untrack(self, row_id: int) -> None:
        transport = self._unsent.pop(row_id, None)
        if transport is not None:
            self._depth[transport] -= 1

    async def on_event(self, event: Event) -> None:
        """Render ``event`` to learn whether and how loudly it is pushed, then enqueue it for
        every target chat. Never sends anything itself."""
        kind = kind_of(event)
        if kind is None or kind in UNQUEUEABLE or not self._accepting:
            return
        reply = self.renderer.render(event)
        if reply is None:
            return
        payload: dict[str, Any] = {"event": encode_event(event)}
        await self._enqueue(
            kind,
            payload,
            critical=type(event).critical,
            group=coalesce_key(event),
            reply=reply,
            at=event.at,
            only=(event.transport, event.chat_id) if isinstance(event, ResearchFinished) else None,
            # a refused token: that platform cannot be reached, the others are told
            skip=event.platform if isinstance(event, ChatTokenRefused) else None,
        )

    async def push(self, reply: Reply, *, kind: str = "report", critical: bool = True) -> int:
        """Queue a ready ``Reply`` (the daily report) for every target; returns rows queued."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        return await self._enqueue(
            kind, {"reply": encode_reply(reply)}, critical=critical, group=None, reply=reply
        )

    async def _enqueue(
        self,
        kind: str,
        body: dict[str, Any],
        *,
        critical: bool,
        group: str | None,
        reply: Reply,
        at: datetime | None = None,
        only: tuple[str, str] | None = None,
        skip: str | None = None,
    ) -> int:
        """``only``: one ``(transport, chat)`` (the chat that asked) instead of every target;
        ``skip``: a transport left out."""
        now = self.clock()
        not_before = now
        if group is not None and self.coalesce_s > 0:
            # the window is measured on the events' own times, so a slow enqueue cannot split
            # a burst; ``not_before`` is on our clock
            window = timedelta(seconds=self.coalesce_s)
            happened = at or now
            known = self._deadlines.get(group)
            if known is None or happened - known[0] >= window:
                known = (happened, now + window)
                self._deadlines[group] = known
                self._forget_old_groups(now)
            not_before = max(now, known[1])
        queued = 0
        targets = self.targets if only is None else {only[0]: (only[1],)}
        for transport, chats in targets.items():
            if transport not in self.senders or transport == skip:
                continue
            level = self.policy.level(kind, transport, reply.severity)
            if level == "off":
                self.stats.filtered += 1
                continue
            payload = {
                "v": PAYLOAD_VERSION,
                "kind": kind,
                "group": group,
                "critical": critical,
                "silent": level == "silent",
                "queued_at": now.isoformat(),
                **body,
            }
            for chat in chats:
                if not critical and self._pending >= self.max_queue:
                    self.stats.shed += 1
                    if self.stats.shed == 1 or self.stats.shed % 100 == 0:
                        log.warning(
                            "notify queue holds %d messages: shed %d non-critical so far (%s)",
                            self._pending,
                            self.stats.shed,
                            kind,
                        )
                    continue
                row = await self.store.enqueue_notification(
                    channel=channel_of(transport, chat),
                    kind=kind,
                    payload=payload,
                    not_before=not_before,
                )
                self._track(row.id, transport)
                self._pending += 1
                self.stats.enqueued += 1
                queued += 1
        if queued:
            self._wake.set()
        return queued

    def _forget_old_groups(self, now: datetime) -> None:
        if len(self._deadlines) > 1000:
            for key in [k for k, (_, d) in self._deadlines.items() if d <= now]:
                del self._deadlines[key]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._claimer is not None:
            raise RuntimeError("Notifier.start() called twice")
        self._stopping = False
        self._claimed_all = False
        self._accepting = True
        self._pending = await self.store.pending_notifications()
        self._claimer = asyncio.get_running_loop().create_task(self._claim_loop(), name="notify")

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop intake, deliver what can go out within ``grace_s``, give the rest back."""
        if self._claimer is None:
            return
        grace = self.stop_grace_s if grace_s is None else grace_s
        self._accepting = False
        self._stopping = True
        self._wake.set()
        for lane in self._lanes.values():
            lane.ready.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # the claimer first: its last pass may open new lanes, which are then waited for too
        _, pending = await asyncio.wait([self._claimer], timeout=grace)
        lanes = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if lanes and not pending:
            _, pending = await asyncio.wait(lanes, timeout=max(0.0, deadline - loop.time()))
        else:
            pending |= set(lanes)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        self._claimer = None
        released = list(self._held.values())
        now = self.clock()
        for item in released:
            await self.store.mark_notification_failed(
                item.record.id, "not sent before shutdown", retry_at=now
            )
        if released:
            log.info(
                "notifier stopped with %d message(s) left queued for the next start", len(released)
            )
        self._held.clear()
        self._lanes.clear()

    # -- delivery ----------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        try:
            await self._claim_until_stopped()
        finally:
            self._claimed_all = True
            for lane in self._lanes.values():
                lane.ready.set()

    async def _claim_until_stopped(self) -> None:
        """Claim due rows into the lanes; once stopping, one last pass takes what is due."""
        while True:
            stopping = self._stopping
            self._wake.clear()
            room = self.max_held - len(self._held)
            records: list[NotificationRecord] = []
            if room > 0:
                records = await self.store.claim_due_notifications(
                    min(room, self.claim_batch), now=self.clock(), lease=self.lease
                )
            for record in records:
                if record.id not in self._held:
                    await self._route(record)
            if records and len(records) == min(room, self.claim_batch):
                await asyncio.sleep(0)
                continue
            if stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)

    async def _route(self, record: NotificationRecord) -> None:
        transport, _, chat = record.channel.partition(":")
        if transport not in self.senders:
            if record.channel not in self._warned:
                self._warned.add(record.channel)
                log.warning(
                    "no %s transport running: messages for %s stay queued",
                    transport,
                    record.channel,
                )
            retry = self.clock() + timedelta(hours=1)
            await self.store.mark_notification_failed(record.id, "transport off", retry)
            return
        item = _Item(record, transport, chat)
        self._track(record.id, transport)
        self._held[record.id] = item
        lane = self._lanes.get(record.channel)
        if lane is None:
            lane = self._lanes[record.channel] = _Lane(transport, chat)
            lane.task = asyncio.get_running_loop().create_task(
                self._run_lane(lane), name=f"notify:{record.channel}"
            )
        lane.items.append(item)
        lane.items.sort(key=lambda i: i.record.id)
        lane.ready.set()

    def _take(self, lane: _Lane) -> list[_Item]:
        head = lane.items[0]
        group = head.group
        batch = [head] if group is None else [i for i in lane.items if i.group == group]
        taken = {id(i) for i in batch}
        lane.items = [i for i in lane.items if id(i) not in taken]
        return batch

    async def _run_lane(self, lane: _Lane) -> None:
        pacer = self.pacers[lane.transport]
        while True:
            if not lane.items:
                if self._claimed_all:
                    return
                lane.ready.clear()
                await lane.ready.wait()
                continue
            await pacer.wait_turn(lane.chat)  # what arrives meanwhile joins the batch
            batch = self._take(lane)
            await self._deliver(lane, pacer, batch)

    def _build(self, batch: Sequence[_Item]) -> Reply | None:
        first = batch[0].payload
        if "reply" in first:
            reply: Reply | None = decode_reply(first["reply"])
        else:
            events = [decode_event(i.payload["event"]) for i in batch]
            reply = self.renderer.render_group(events)
        if reply is None:
            return None
        queued_at = datetime.fromisoformat(first["queued_at"])
        if self.clock() - queued_at > self.late_after:
            reply = self.renderer.mark_late(reply, queued_at)
        return reply

    async def _deliver(self, lane: _Lane, pacer: Pacer, batch: list[_Item]) -> None:
        """One message through the transport's pacer (``Pacer.send``: the pace and every
        ``RetryAfter`` are its, shared with the command replies); network errors are retried
        here with backoff, a permanent error drops the message."""
        sender = self.senders[lane.transport]
        critical = any(i.critical for i in batch)
        silent = all(i.payload.get("silent", False) for i in batch)
        kind = batch[0].record.kind

        async def attempt(_flood_delay: float) -> bool:
            reply = self._build(batch)  # built anew each try: the late mark may have come due
            if reply is None:
                return False
            await asyncio.wait_for(
                sender.send(lane.chat, reply, silent=silent), timeout=self.send_timeout_s
            )
            return True

        async def on_wait(seconds: float) -> None:
            self.stats.retries += 1
            self.by_transport[lane.transport].failures += 1
            log.warning(
                "%s asked to wait %.3gs before sending to %s", lane.transport, seconds, lane.chat
            )
            await self._note_failure(batch, f"retry after {seconds:g}s", seconds)

        tries = 0
        while True:
            try:
                sent = await pacer.send(lane.chat, attempt, on_wait=on_wait)
            except PermanentSendError as exc:
                self.by_transport[lane.transport].failures += 1
                await self._drop(lane, batch, f"permanent: {exc}")
                return
            except Exception as exc:
                if isinstance(exc, KeyError | ValueError | TypeError):  # a payload we cannot read
                    await self._drop(lane, batch, f"unreadable message: {exc!r}")
                    return
                tries += 1
                self.stats.retries += 1
                self.by_transport[lane.transport].failures += 1
                if not critical and tries > self.retry_max:
                    await self._drop(lane, batch, f"gave up after {tries} tries: {exc!r}")
                    return
                delay = self._backoff(tries)
                log.warning(
                    "sending %s to %s:%s failed (%r); retry %d in %.2fs",
                    kind,
                    lane.transport,
                    lane.chat,
                    exc,
                    tries,
                    delay,
                )
                await self._note_failure(batch, repr(exc)[:500], delay)
                await asyncio.sleep(delay)
                continue
            if sent:
                self.stats.sent += 1
                self.by_transport[lane.transport].sent += 1
                self.stats.merged += len(batch) - 1
            await self._finish(batch)
            return

    def _backoff(self, tries: int) -> float:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (tries - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)

    async def _note_failure(self, batch: Sequence[_Item], error: str, wait_s: float) -> None:
        # records the error and keeps the lease ahead of the wait, so no other claimer takes it
        retry_at = self.clock() + timedelta(seconds=wait_s) + self.lease
        for item in batch:
            await self.store.mark_notification_failed(item.record.id, error, retry_at)

    async def _finish(self, batch: Sequence[_Item]) -> None:
        now = self.clock()
        for item in batch:
            await self.store.mark_notification_sent(item.record.id, now)
            self._held.pop(item.record.id, None)
            self._untrack(item.record.id)
            self._pending = max(0, self._pending - 1)

    async def _drop(self, lane: _Lane, batch: Sequence[_Item], error: str) -> None:
        self.stats.dropped += len(batch)
        self.by_transport[lane.transport].dropped += len(batch)
        ids = [i.record.id for i in batch]
        log.error(
            "dropping %s message(s) %s for %s:%s: %s",
            batch[0].record.kind,
            ids,
            lane.transport,
            lane.chat,
            error,
        )
        await self.store.audit(
            transport=lane.transport,
            command=f"notify:{batch[0].record.kind}",
            outcome="dropped",
            chat_id=lane.chat,
            arguments={"ids": ids},
            detail=error[:1000],
        )
        await self._finish(batch)
