"""MarketLifecycle: Upbit's flags as two plain sets, and what changed since the last read."""

from __future__ import annotations

from datetime import date

from trading.risk.lifecycle import MarketLifecycle, MarketStatus

DAY = date(2025, 7, 1)


def test_sets_follow_the_latest_status_and_a_clean_first_sighting_is_no_news() -> None:
    book = MarketLifecycle()

    first = book.update(
        [MarketStatus("KRW-BTC", state="ACTIVE"), MarketStatus("KRW-ETH", warning=True)]
    )
    same = book.update([MarketStatus("KRW-ETH", warning=True)])
    dated = book.update([MarketStatus("KRW-ETH", warning=True, delisting_date=DAY)])
    lifted = book.update([MarketStatus("KRW-ETH")])

    assert [c.market for c in first] == ["KRW-ETH"]
    assert first[0].old is None
    assert same == []
    assert [(c.old.warned, c.new.closing) for c in dated if c.old] == [(True, True)]
    assert [(c.old.closing, c.new.warned, c.new.closing) for c in lifted if c.old] == [
        (True, False, False)
    ]
    assert book.warned == set()
    assert book.closing == set()
    assert book.refusal("KRW-ETH") is None
    assert book.refusal("KRW-SOL") is None  # never read: nothing known, nothing refused


def test_a_delisting_outranks_a_warning_and_states_count() -> None:
    book = MarketLifecycle()
    book.update(
        [
            MarketStatus("KRW-ETH", warning=True, delisting_date=DAY),
            MarketStatus("KRW-SOL", state="PREVIEW"),
            MarketStatus("KRW-ADA", state="DELISTED"),
            MarketStatus("KRW-XRP", state="ACTIVE", cautions=("TRADING_VOLUME_SOARING",)),
        ]
    )

    refusals = {m: book.refusal(m) for m in ("KRW-ETH", "KRW-SOL", "KRW-ADA", "KRW-XRP")}

    assert {m: d.code for m, d in refusals.items() if d} == {
        "KRW-ETH": "delisting",
        "KRW-SOL": "market_inactive",
        "KRW-ADA": "market_inactive",
        "KRW-XRP": "market_caution",
    }
    assert book.closing == {"KRW-ETH", "KRW-SOL", "KRW-ADA"}
    assert book.warned == {"KRW-ETH", "KRW-XRP"}
    assert refusals["KRW-SOL"].reason == (  # type: ignore[union-attr]
        "KRW-SOL is not tradeable on Upbit (state PREVIEW): no new entries"
    )
