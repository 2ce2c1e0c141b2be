"""PositionBook: every change is persisted, and a restart resumes each market exactly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.positions._helpers import RULES, D, M, bar
from trading import events as ev
from trading.positions import (
    ExitReason,
    IllegalTransition,
    Position,
    PositionBook,
    PositionState,
)
from trading.store import PositionRecord, Store, create_engine, session_factory

S = PositionState
ETH = "KRW-ETH"


async def restarted(url: str) -> tuple[PositionBook, list[ev.Event], Any]:
    """A fresh process: new engine, new store, new book, loaded from the database."""
    engine = create_engine(url)
    published: list[ev.Event] = []
    book = PositionBook(RULES, Store(session_factory(engine)), published.append)
    await book.load()
    return book, published, engine


async def test_restart_mid_entry_restores_state_and_intent(
    store: Store, migrated_url: str
) -> None:
    book = PositionBook(RULES, store)
    await book.entry_submitted(M, "e-1", stop_price=D(95), take_profit_price=D("120.5"))
    await book.entry_filled(M, D("0.12345678"), D("100.1"), D("0.00617901"), False, at=bar(0))
    before = book.get(M)

    book2, published, engine = await restarted(migrated_url)
    try:
        assert book2.get(M) == before
        assert (book2.get(M).state, book2.get(M).intent_id) == (S.ENTERING, "e-1")
        # the restarted process finishes the same order
        p = await book2.entry_filled(
            M, D("0.87654322"), D("100.2"), D(0), True, at=bar(1), intent_id="e-1"
        )
        assert (p.state, p.volume, p.opened_at) == (S.LONG, D(1), bar(0))
        assert [type(e) for e in published] == [ev.PositionOpened]
        row = await store.position(M)
        assert row is not None
        assert (row.state, row.volume, row.stop_price) == ("long", D(1), D(95))
        assert row.avg_price == p.avg_entry_price
    finally:
        await engine.dispose()


async def test_restart_mid_exit_keeps_partial_exit_in_pnl(store: Store, migrated_url: str) -> None:
    book = PositionBook(RULES, store)
    await book.entry_submitted(M, "e-1")
    await book.entry_filled(M, D(2), D(100), D("0.1"), True, at=bar(0))
    await book.stop_moved(M, D(90))
    await book.exit_submitted(M, "x-1", ExitReason.STOP)
    await book.exit_filled(M, D("0.5"), D(91), D("0.02275"), False, at=bar(4))
    before = book.get(M)

    book2, published, engine = await restarted(migrated_url)
    try:
        assert book2.get(M) == before
        assert (before.state, before.intent_id, before.exit_reason) == (
            S.EXITING,
            "x-1",
            ExitReason.STOP,
        )
        p = await book2.exit_filled(M, D("1.5"), D(89), D("0.06675"), True, at=bar(5))
        assert (p.state, p.cooldown_remaining, p.exit_bar) == (S.COOLDOWN, 5, bar(5))
        (closed,) = published
        assert isinstance(closed, ev.PositionClosed)
        assert closed.pnl_krw == D("45.5") + D("133.5") - D(200) - D("0.18950")
        assert closed.reason == "stop"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("pending", [True, False])
async def test_restart_keeps_whether_the_stop_waits_for_the_atr(
    store: Store, migrated_url: str, pending: bool
) -> None:
    """Issue #13: a stop still on the fallback (or no longer) stays so after a restart."""
    book = PositionBook(RULES, store)
    await book.entry_submitted(M, "e-1")
    await book.entry_filled(M, D(2), D(100), D("0.1"), True, at=bar(0))
    await book.stop_moved(M, D(90), atr_pending=pending)

    book2, _, engine = await restarted(migrated_url)
    try:
        assert book2.get(M).stop_atr_pending is pending
        assert book2.get(M) == book.get(M)
    finally:
        await engine.dispose()


async def test_restart_in_cooldown_keeps_counting(store: Store, migrated_url: str) -> None:
    book = PositionBook(RULES, store)
    await book.entry_submitted(M, "e-1")
    await book.entry_filled(M, D(1), D(100), D(0), True, at=bar(0))
    await book.exit_submitted(M, "x-1", ExitReason.SIGNAL)
    await book.exit_filled(M, D(1), D(101), D(0), True, at=bar(3))
    await book.candle_closed(M, bar(3))
    await book.candle_closed(M, bar(4))
    await book.entry_submitted(ETH, "e-2")  # a second market, mid-entry

    book2, _, engine = await restarted(migrated_url)
    try:
        assert book2.all() == book.all()
        assert book2.get(M).cooldown_remaining == 1
        assert book2.can_enter(M, bar(5)) == (False, "cooldown: 1 candle(s) remain")
        await book2.candle_closed(M, bar(5))
        assert book2.can_enter(M, bar(6)) == (True, "ok")
        assert book2.get(ETH).intent_id == "e-2"
    finally:
        await engine.dispose()


async def test_unchanged_position_is_not_written(store: Store) -> None:
    book = PositionBook(RULES, store)
    await book.candle_closed(M, bar(0))
    assert await store.positions() == []
    assert book.get(M) == Position(M)


class FailingStore:
    """Refuses every write, as a full disk or a dropped connection would."""

    async def upsert_position(
        self,
        market: str,
        *,
        state: str,
        volume: Decimal,
        avg_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        opened_at: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> PositionRecord:
        raise OSError("disk full")

    async def positions(self) -> list[PositionRecord]:
        return []


async def test_failed_write_changes_nothing_and_publishes_nothing() -> None:
    published: list[ev.Event] = []
    book = PositionBook(RULES, FailingStore(), published.append)
    with pytest.raises(OSError, match="disk full"):
        await book.entry_submitted(M, "e-1")
    assert book.get(M) == Position(M)
    assert published == []


async def test_illegal_trigger_through_the_book_raises_and_keeps_state() -> None:
    book = PositionBook(RULES)  # no store: the backtest's in-memory book
    await book.entry_submitted(M, "e-1")
    with pytest.raises(IllegalTransition, match="KRW-BTC: illegal trigger 'entry_submitted'"):
        await book.entry_submitted(M, "e-2")
    assert book.get(M).intent_id == "e-1"
    assert await book.load() == {M: book.get(M)}
