"""Idempotent order submission: one intent, never two orders.

A venue never accepts a client ``identifier`` twice (Upbit's reference §5.5), not even after a
failed request, so a retry cannot reuse it. After an ambiguous failure (timeout, lost response,
5xx, 429) we look the attempt up by its identifier. Found: that is our order. Absent on two
lookups ``settle_s`` apart (a request still in flight when the first lookup ran would show up
by the second; after a timeout or a broken connection the wait is at least
``timeout_settle_s``, since the exchange may still be working on a request we stopped waiting
for): the intent is re-sent under the next identifier, ``<prefix>-<intent>-<attempt>``,
recorded in the journal *before* it is sent. Before giving up, every earlier attempt is looked
up once more. If the lookups themselves keep failing we stop and raise ``OrderOutcomeUnknown``:
reconciliation settles it later, we never guess.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from trading.domain.orders import OrderReport, SubmitOrder
from trading.errors import (
    Banned,
    CircuitOpen,
    NetworkError,
    NotFound,
    NotLeader,
    OrderOutcomeUnknown,
    TransientError,
    UpbitError,
)
from trading.events import EventSink, OrderResubmitted, ignore_event
from trading.exchange import Exchange

Fence = Callable[[], str | None]  # None: this instance may send; else why it must not
log = logging.getLogger(__name__)
T = TypeVar("T")
_ID_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A send whose outcome is unknown: the order may or may not exist."""

    error: Exception


class AttemptJournal(Protocol):
    """Where attempt identifiers are written before they reach the exchange (the store)."""

    async def record_attempt(self, intent_id: str, identifier: str, attempt: int) -> object: ...

    async def mark_attempt(
        self, identifier: str, outcome: str, error: str | None = None
    ) -> object: ...


class MemoryJournal:
    """A journal for tests and tools that have no store."""

    def __init__(self) -> None:
        self.attempts: dict[str, tuple[str, int]] = {}
        self.outcomes: dict[str, tuple[str, str | None]] = {}

    async def record_attempt(self, intent_id: str, identifier: str, attempt: int) -> None:
        if identifier in self.attempts:
            raise ValueError(f"identifier {identifier} was already used")
        self.attempts[identifier] = (intent_id, attempt)

    async def mark_attempt(self, identifier: str, outcome: str, error: str | None = None) -> None:
        self.outcomes[identifier] = (outcome, error)


class OrderSubmitter:
    def __init__(
        self,
        client: Exchange,
        *,
        journal: AttemptJournal,
        prefix: str = "ubot",
        max_attempts: int = 3,
        settle_s: float = 1.0,
        timeout_settle_s: float = 5.0,
        lookup_attempts: int = 4,
        on_event: EventSink = ignore_event,
    ) -> None:
        if not _ID_PART.match(prefix):
            raise ValueError(f"identifier prefix {prefix!r} must be short and alphanumeric")
        self._client = client
        self._journal = journal
        self._prefix = prefix
        self._max_attempts = max_attempts
        self._settle_s = settle_s
        self._timeout_settle_s = max(settle_s, timeout_settle_s)
        self._lookup_attempts = lookup_attempts
        self._on_event = on_event
        #: the leader lock's fence (``LeaderLock.may_send``), asked right before every send
        self.fence: Fence | None = None

    def identifier(self, intent_id: str, attempt: int) -> str:
        return f"{self._prefix}-{intent_id}-{attempt}"

    @property
    def settle_s(self) -> float:
        return self._settle_s

    async def may_send(self, identifier: str) -> None:
        """Ask the leader fence right before a send; a refusal is journalled, nothing leaves."""
        refusal = self.fence() if self.fence is not None else None
        if refusal is not None:  # a lost leader sends nothing, a new leader takes over
            await self._journal.mark_attempt(identifier, "not_sent", refusal)
            raise NotLeader(refusal)

    async def send(self, identifier: str, request: Callable[[], Awaitable[T]]) -> T | Ambiguous:
        """One request under ``identifier``, its outcome journalled: the fence is asked
        first; a refusal (locally, or by the exchange) is raised, an answer returned, and
        an ambiguous failure (transient, or a ban or open circuit the server answered)
        comes back as ``Ambiguous`` for the caller to look the identifier up."""
        await self.may_send(identifier)
        try:
            result = await request()
        except (CircuitOpen, Banned) as exc:
            if exc.status is None:  # refused locally: nothing left the process
                await self._journal.mark_attempt(identifier, "not_sent", str(exc))
                raise
            return Ambiguous(exc)
        except TransientError as exc:
            return Ambiguous(exc)
        except UpbitError as exc:
            await self._journal.mark_attempt(identifier, "rejected", str(exc))
            raise
        await self._journal.mark_attempt(identifier, "accepted")
        return result

    async def submit(
        self, intent: SubmitOrder, *, first_journaled: bool = False, first_attempt: int = 1
    ) -> OrderReport:
        """Send ``intent``; ``first_journaled`` = the caller already wrote the first attempt's
        identifier in the same transaction as the intent (one commit fewer before the POST).
        ``first_attempt`` > 1 when earlier identifiers of the intent went to another request
        (a cancel-and-new that never took effect)."""
        if not _ID_PART.match(intent.intent_id):
            raise ValueError(f"intent id {intent.intent_id!r} must be short and alphanumeric")
        last_error: Exception | None = None
        attempts = range(first_attempt, first_attempt + self._max_attempts)
        for attempt in attempts:
            identifier = self.identifier(intent.intent_id, attempt)
            # validates before the identifier is journalled: a refused order burns nothing
            self._client.check(intent)
            if attempt > first_attempt or not first_journaled:
                await self._journal.record_attempt(intent.intent_id, identifier, attempt)
            sent = await self.send(identifier, partial(self._client.submit, intent, identifier))
            if not isinstance(sent, Ambiguous):
                return sent
            last_error = sent.error
            log.warning("order %s: ambiguous failure (%s); looking it up", identifier, last_error)
            found = await self.resolve(identifier, in_flight=isinstance(last_error, NetworkError))
            if found is not None:
                await self._journal.mark_attempt(identifier, "accepted", str(last_error))
                return found
            await self._journal.mark_attempt(identifier, "confirmed_absent", str(last_error))
            if attempt < attempts[-1]:
                self._on_event(
                    OrderResubmitted(
                        intent_id=intent.intent_id,
                        old_identifier=identifier,
                        new_identifier=self.identifier(intent.intent_id, attempt + 1),
                        reason=str(last_error),
                    )
                )
        # a slow request may still have landed after its own lookups: one last look at each
        for attempt in attempts:
            late = await self.lookup(self.identifier(intent.intent_id, attempt))
            if late is not None:
                await self._journal.mark_attempt(late.identifier or "", "accepted", "found late")
                return late
        # every attempt was confirmed absent: nothing was placed, the error says why
        assert last_error is not None
        last_error.add_note(
            f"order intent {intent.intent_id}: {self._max_attempts} attempts, none placed"
        )
        raise last_error

    async def resolve(self, identifier: str, *, in_flight: bool = False) -> OrderReport | None:
        """The order if it exists; None only when two lookups a settle time apart agree.
        ``in_flight``: the request timed out or its connection broke (timeouts included), so
        the exchange may still be working on it: wait the longer ``timeout_settle_s``."""
        for check in range(2):
            if check:
                await asyncio.sleep(self._timeout_settle_s if in_flight else self._settle_s)
            order = await self.lookup(identifier)
            if order is not None:
                return order
        return None

    async def lookup(self, identifier: str) -> OrderReport | None:
        """The order under ``identifier``, None if the exchange has none; lookups that keep failing
        raise ``OrderOutcomeUnknown`` (never a guess)."""
        last: Exception | None = None
        for attempt in range(self._lookup_attempts):
            try:
                return await self._client.fetch_order(identifier=identifier)
            except NotFound:
                return None
            except (TransientError, CircuitOpen) as exc:
                last = exc
                await asyncio.sleep(min(self._settle_s * 2**attempt, 10.0))
        raise OrderOutcomeUnknown(
            f"could not tell whether order {identifier} exists: {last}", identifier=identifier
        ) from last
