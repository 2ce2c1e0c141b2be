"""Operational records: bot state, parameter changes, the audit log, the notification queue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update

from trading.store._base import StoreBase, to_record
from trading.store.models import AuditEntry, BotState, Notification, ParameterChange
from trading.store.records import AuditRecord, NotificationRecord, ParamChangeRecord

#: How long a claimed notification is hidden from other claims; if the sender dies mid-send
#: the message becomes due again after this, instead of being lost.
DEFAULT_LEASE = timedelta(minutes=2)


class OpsMixin(StoreBase):
    async def ping(self) -> None:
        """One ``SELECT 1``: the readiness probe's proof that the database answers."""
        async with self._sessions() as session:
            await session.execute(text("SELECT 1"))

    # --- bot state -----------------------------------------------------------------------

    async def get_state(self, key: str, default: Any = None) -> Any:
        """A durable switch (``paused``, ``halts``, ...); ``default`` if never set."""
        async with self._sessions() as session:
            row = await session.get(BotState, key)
            return default if row is None else row.value

    async def set_state(self, key: str, value: Any) -> None:
        """Insert or replace; Decimals are stored as strings (JSON has no exact decimal)."""
        async with self._tx() as session:
            stmt = (
                self._insert(session, BotState)
                .values(key=key, value=value, updated_at=self.clock())
                .on_conflict_do_update(
                    index_elements=["key"], set_={"value": value, "updated_at": self.clock()}
                )
            )
            await session.execute(stmt)

    # --- parameter changes ---------------------------------------------------------------

    async def record_param_change(
        self,
        *,
        who: str,
        transport: str,
        key: str,
        old_value: Any,
        new_value: Any,
        at: datetime | None = None,
    ) -> ParamChangeRecord:
        row = ParameterChange(
            who=who,
            transport=transport,
            key=key,
            old_value=old_value,
            new_value=new_value,
            at=at or self.clock(),
        )
        return await self._add(ParamChangeRecord, row)

    async def param_changes(
        self, limit: int = 20, *, key: str | None = None
    ) -> list[ParamChangeRecord]:
        """Newest first, so ``param_changes(1)`` is what an undo reverts."""
        query = select(ParameterChange)
        if key is not None:
            query = query.where(ParameterChange.key == key)
        return await self._newest(
            ParamChangeRecord, query, limit, ParameterChange.at, ParameterChange.id
        )

    # --- audit log -----------------------------------------------------------------------

    async def audit(
        self,
        *,
        transport: str,
        command: str,
        outcome: str,
        user_id: str | None = None,
        chat_id: str | None = None,
        arguments: Mapping[str, Any] | None = None,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Record one chat command, allowed or denied."""
        row = AuditEntry(
            transport=transport,
            user_id=user_id,
            chat_id=chat_id,
            command=command,
            arguments=dict(arguments or {}),
            outcome=outcome,
            detail=detail,
            at=at or self.clock(),
        )
        return await self._add(AuditRecord, row)

    async def audit_log(self, limit: int = 50, *, user_id: str | None = None) -> list[AuditRecord]:
        """Newest first."""
        query = select(AuditEntry)
        if user_id is not None:
            query = query.where(AuditEntry.user_id == user_id)
        return await self._newest(AuditRecord, query, limit, AuditEntry.at, AuditEntry.id)

    async def audit_page(self, limit: int = 50, before_id: int | None = None) -> list[AuditRecord]:
        """Newest recorded first, paged by id (``before_id``: the last id of the page before),
        so a page never shifts when new entries arrive."""
        query = select(AuditEntry)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
            return [to_record(AuditRecord, row) for row in rows]

    # --- notification queue --------------------------------------------------------------

    async def enqueue_notification(
        self,
        *,
        channel: str,
        kind: str,
        payload: Mapping[str, Any],
        not_before: datetime | None = None,
    ) -> NotificationRecord:
        now = self.clock()
        row = Notification(
            channel=channel,
            kind=kind,
            payload=dict(payload),
            created_at=now,
            attempts=0,
            next_attempt_at=not_before or now,
        )
        return await self._add(NotificationRecord, row)

    async def claim_due_notifications(
        self, limit: int = 20, now: datetime | None = None, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[NotificationRecord]:
        """Take up to ``limit`` unsent notifications that are due, oldest first.

        Claiming counts the attempt and pushes ``next_attempt_at`` out by ``lease``: two
        claimers never get the same message (rows are locked with SKIP LOCKED on PostgreSQL;
        SQLite writers are serialized by BEGIN IMMEDIATE) and a crash mid-send retries later.
        """
        now = now or self.clock()
        async with self._tx() as session:
            # Ids first, then UPDATE: a single UPDATE ... WHERE id IN (SELECT ... SKIP LOCKED
            # LIMIT n) may re-run the subquery on PostgreSQL and claim more than ``limit``.
            ids = (
                await session.scalars(
                    select(Notification.id)
                    .where(Notification.sent_at.is_(None), Notification.next_attempt_at <= now)
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return []
            rows = await session.scalars(
                update(Notification)
                .where(Notification.id.in_(ids))
                .values(attempts=Notification.attempts + 1, next_attempt_at=now + lease)
                .returning(Notification),
                execution_options={"synchronize_session": False},
            )
            claimed = [to_record(NotificationRecord, row) for row in rows]
        return sorted(claimed, key=lambda n: (n.created_at, n.id))

    async def mark_notification_sent(
        self, notification_id: int, sent_at: datetime | None = None
    ) -> None:
        async with self._tx() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(sent_at=sent_at or self.clock(), last_error=None)
            )

    async def mark_notification_failed(
        self, notification_id: int, error: str, retry_at: datetime
    ) -> None:
        """Keep the message queued, due again at ``retry_at`` (the caller picks the backoff)."""
        async with self._tx() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.sent_at.is_(None))
                .values(last_error=error, next_attempt_at=retry_at)
            )

    async def pending_notifications(self) -> int:
        """How many messages are still unsent (for /readyz and metrics)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Notification.id).where(Notification.sent_at.is_(None))
            )
            return len(rows.all())
