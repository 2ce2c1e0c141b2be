"""Every pushed event kind renders in Korean and English, with badge, KRW and KST times."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from bot.notify import (
    BotStarted,
    BotStopping,
    ChatTokenRefused,
    PartFailed,
    Renderer,
    coalesce_key,
    kind_of,
)
from bot.notify.codec import decode_event, decode_reply, encode_event, encode_reply
from bot.notify.kinds import EVENT_KINDS, KINDS
from handlers.i18n import Catalog
from handlers.reply import Image, Reply, Severity, Table
from tests.notify.conftest import AT, field, fill
from trading import events as ev

SAMPLES: list[ev.Event] = [
    ev.OrderPlaced(
        at=AT,
        intent_id="i1",
        identifier="ubot-i1",
        uuid="u1",
        market="KRW-BTC",
        side="bid",
        ord_type="limit",
        price=D("143250000"),
        volume=D("0.001"),
        paper=True,
    ),
    fill("i1", 1, complete=True),
    ev.PositionClosed(
        at=AT,
        market="KRW-BTC",
        volume=D("0.001"),
        entry_price=D("143250000"),
        exit_price=D("150000000"),
        pnl_krw=D("6606.5"),
        fees_krw=D("146.6"),
        reason="take_profit",
    ),
    ev.PositionOpened(
        at=AT,
        market="KRW-BTC",
        volume=D("0.001"),
        avg_price=D("143250000"),
        stop_price=D("140000000"),
    ),
    ev.OrderCancelled(
        at=AT, intent_id="i2", identifier="ubot-i2", market="KRW-ETH", reason="timeout"
    ),
    ev.OrderRejected(
        at=AT,
        intent_id="i3",
        market="KRW-ETH",
        name="insufficient_funds_bid",
        reason="not enough KRW",
    ),
    ev.OrderBecameUncertain(
        at=AT,
        intent_id="i5",
        market="KRW-BTC",
        side="bid",
        ord_type="price",
        reason="no response within 5s",
    ),
    ev.OrderResubmitted(
        at=AT,
        intent_id="i4",
        old_identifier="a",
        new_identifier="b",
        reason="absent on the exchange",
    ),
    ev.OrderSettled(
        at=AT, intent_id="i4", market="KRW-BTC", side="ask", state="done", executed_volume=D("0.5")
    ),
    ev.StopMoved(at=AT, market="KRW-BTC", old=None, new=D("141000000")),
    ev.RiskBreached(at=AT, check="daily_loss", market=None, reason="daily loss limit reached"),
    ev.HaltChanged(at=AT, name="maintenance", active=True, reason="Upbit maintenance"),
    ev.HaltChanged(at=AT, name="maintenance", active=False, reason=""),
    ev.ProtectionTripped(
        at=AT,
        protection="stoploss_guard",
        market="KRW-BTC",
        until=AT + timedelta(hours=4),
        reason="3 losing stop exits on KRW-BTC within 60 min",
        code="stoploss_guard_market",
        values=(
            ("market", "KRW-BTC"),
            ("stops", "3"),
            ("lookback", "60"),
            ("pause", "240"),
            ("until", "2025-06-19 16:10 Asia/Seoul"),
        ),
    ),
    ev.ProtectionLifted(
        at=AT,
        protection="drawdown_guard",
        market=None,
        reason="the drawdown guard ended: entries allowed again",
        code="drawdown_guard_lifted",
    ),
    ev.MarketStatusChanged(
        at=AT,
        market="KRW-XRP",
        warned=True,
        was_warned=False,
        closing=True,
        was_closing=False,
        warning=True,
        state="ACTIVE",
        delisting_date=date(2025, 7, 1),
        exit_on=date(2025, 6, 28),
    ),
    ev.MarketStatusChanged(
        at=AT,
        market="KRW-XRP",
        warned=True,
        was_warned=False,
        closing=True,
        was_closing=False,
        cautions=("PRICE_FLUCTUATIONS",),
        state="ACTIVE",
        delisting_date=date(2025, 7, 1),
    ),
    ev.MarketStatusChanged(
        at=AT,
        market="KRW-XRP",
        warned=False,
        was_warned=False,
        closing=True,
        was_closing=False,
        state="",
        listed=False,
    ),
    ev.MarketStatusChanged(
        at=AT, market="KRW-XRP", warned=False, was_warned=True, closing=False, was_closing=True
    ),
    ev.UniverseChanged(
        at=AT,
        top=3,
        markets=("KRW-BTC", "KRW-ETH", "KRW-XRP"),
        joined=("KRW-BTC", "KRW-ETH", "KRW-XRP"),
        ranks=(("KRW-BTC", "1"), ("KRW-ETH", "2"), ("KRW-XRP", "3")),
        values=(("KRW-BTC", "9000000000"), ("KRW-ETH", "5000000000"), ("KRW-XRP", "900000000")),
        first=True,
    ),
    ev.UniverseChanged(
        at=AT,
        top=3,
        markets=("KRW-BTC", "KRW-SOL", "KRW-ETH"),
        joined=("KRW-SOL",),
        left=("KRW-XRP", "KRW-DOGE"),
        why=(("KRW-XRP", "rank"), ("KRW-DOGE", "warning")),
        ranks=(("KRW-SOL", "2"), ("KRW-XRP", "4"), ("KRW-DOGE", "0")),
        values=(("KRW-SOL", "7000000000"), ("KRW-XRP", "800000000"), ("KRW-DOGE", "1")),
        held=("KRW-XRP",),
    ),
    ev.BookAdjusted(
        at=AT, market="KRW-BTC", book=D("0.5"), exchange=D("0.2"), state="long", reason="check"
    ),
    ev.BookAdjusted(
        at=AT, market="KRW-ETH", book=D("2"), exchange=D(0), state="flat", reason="start"
    ),
    ev.OrdersSuspended(
        at=AT, market="KRW-BTC", refusals=5, window_s=3600, reasons=("insufficient_funds_ask",)
    ),
    ev.Paused(at=AT, market=None, by="telegram:42"),
    ev.Resumed(at=AT, market="KRW-BTC", by="slack:U1"),
    ev.ParameterChanged(at=AT, key="strategy.fast", old="5", new="7", by="telegram:42"),
    ev.CircuitStateChanged(at=AT, name="rest", old="closed", new="open", reason="5 failures"),
    ev.CircuitStateChanged(at=AT, name="rest", old="half_open", new="closed", reason="probe ok"),
    ev.RateLimitBanned(at=AT, group="order", until=AT + timedelta(minutes=5), message="418"),
    ev.RateLimitBanLifted(at=AT, group="order"),
    ev.FeedStalled(at=AT, stream="public", silent_for_s=31.2),
    ev.FeedGapped(
        at=AT, stream="public", disconnected_at=AT - timedelta(minutes=2), reconnected_at=AT
    ),
    ev.FeedFailed(at=AT, stream="private", name="HTTP 401", message="invalid key"),
    ev.FeedRecovered(at=AT, stream="public"),
    ev.FeedConnected(at=AT, stream="public", url="wss://x"),
    ev.Reconciled(
        at=AT,
        checked=3,
        settled=("a",),
        never_placed=(),
        adopted=("b",),
        foreign=0,
        mismatches=("KRW: store 10, exchange 11",),
    ),
    BotStarted(
        at=AT, mode="paper", markets=("KRW-BTC", "KRW-ETH"), strategy="ma_cross", version="0.1.0"
    ),
    BotStopping(at=AT, mode="paper", reason="SIGTERM"),
    PartFailed(at=AT, where="telegram", message="boom"),
    ChatTokenRefused(at=AT, platform="slack", variable="SLACK_BOT_TOKEN", reason="token_revoked"),
    ev.SignalRaised(
        at=AT,
        market="KRW-BTC",
        action="enter",
        price=D("143250000"),
        strategy="ma_cross",
        reason="fast crossed slow",
    ),
    ev.ReplayFinished(
        at=AT,
        markets=("KRW-BTC",),
        first=AT,
        last=AT + timedelta(days=9),
        trades=40,
        wins=10,
        win_rate_pct=25.0,
        start_krw=D(10_000_000),
        end_krw=D(9_947_000),
        return_pct=-0.53,
        max_drawdown_pct=0.61,
        fees_krw=D(8000),
        buy_and_hold_pct=-11.59,
        exits=(("stop", 30), ("signal", 10)),
    ),
]
BADGES = {"ko": ("[모의]", "[실거래]"), "en": ("[PAPER]", "[LIVE]")}


def renderer(lang: str, paper: bool = True) -> Renderer:
    return Renderer(Catalog.load(lang), paper=paper)


def test_every_kind_has_a_sample_and_a_default() -> None:
    assert {kind_of(e) for e in SAMPLES} | {"candle", "report"} == set(KINDS)
    assert set(EVENT_KINDS.values()) <= set(KINDS)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_renders_with_badge_and_kst_time(lang: str, event: ev.Event) -> None:
    reply = renderer(lang).render(event)

    assert reply is not None
    paper_badge, _ = BADGES[lang]
    assert reply.title.startswith(paper_badge + " ")
    assert "{" not in reply.plain_text()  # every template field was filled
    assert "2025-06-19 12:03:05 KST" in reply.plain_text()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_live_badge_comes_from_the_event_or_the_mode(lang: str) -> None:
    paper_badge, live_badge = BADGES[lang]
    assert (
        renderer(lang, paper=True)
        .render(fill("i", 1, paper=False))
        .title.startswith(  # type: ignore[union-attr]
            live_badge
        )
    )
    risk = ev.RiskBreached(at=AT, check="x", market=None, reason="r")
    assert renderer(lang, paper=False).render(risk).title.startswith(live_badge)  # type: ignore[union-attr]
    assert renderer(lang, paper=True).render(risk).title.startswith(paper_badge)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("lang", "price", "fee", "total"),
    [
        ("ko", "143,250,000원", "72원", "143,250원"),
        ("en", "143,250,000 KRW", "72 KRW", "143,250 KRW"),
    ],
)
def test_fill_shows_krw_with_separators(lang: str, price: str, fee: str, total: str) -> None:
    reply = renderer(lang).render(fill("i1", 1, complete=True))
    labels = Catalog.load(lang)

    assert reply is not None
    assert field(reply, labels.t("notify.field.price")) == price
    assert field(reply, labels.t("notify.field.fee")) == fee
    assert field(reply, labels.t("notify.field.total")) == total
    assert field(reply, labels.t("notify.field.volume")) == "0.001"


def test_prices_follow_the_tick_grid() -> None:
    r = renderer("en")
    assert r.price("KRW-XRP", D("1234.5678")) == "1,235 KRW"
    assert r.price("KRW-DOGE", D("345.67")) == "346 KRW"
    assert r.price("KRW-SHIB", D("0.0123456")) == "0.0123 KRW"
    assert r.price("KRW-ETH", D("5123456.7")) == "5,123,000 KRW"
    assert r.price("BTC-ETH", D("0.0312345678")) == "0.03123457 BTC"
    assert r.signed_krw(D("-1234.4")) == "-1,234 KRW"
    assert r.signed_krw(D("1234.6")) == "+1,235 KRW"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_exit_burst_is_one_message_with_the_pnl(lang: str) -> None:
    catalog = Catalog.load(lang)
    fills = [fill("x1", n, side="ask", price="150000000", complete=n == 2) for n in range(3)]
    closed = SAMPLES[2]
    reply = renderer(lang).render_group([*fills, closed])

    assert reply is not None
    assert {coalesce_key(e) for e in [*fills, closed]} == {"exit:KRW-BTC"}
    assert field(reply, catalog.t("notify.field.fills")) == "3"
    assert field(reply, catalog.t("notify.field.volume")) == "0.003"
    pnl = field(reply, catalog.t("notify.field.pnl"))
    assert pnl == ("+6,607원" if lang == "ko" else "+6,607 KRW")
    # the reason in the chat's language, the words of /stats (issue #13)
    assert field(reply, catalog.t("notify.field.reason")) == catalog.t("stats.reason.take_profit")


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        (
            "en",
            (
                "Upbit flags a market you hold · KRW-XRP",
                "investment warning (유의종목)",
                "Upbit delists KRW-XRP on 2025-07-01.",
                "The bot sells the position on 2025-06-28",
            ),
        ),
        (
            "ko",
            (
                "보유 마켓에 업비트 지정 · KRW-XRP",
                "투자유의 종목(유의종목)",
                "2025-07-01에 KRW-XRP을(를) 상장폐지합니다.",
                "2025-06-28에 포지션을 매도합니다",
            ),
        ),
    ],
)
def test_a_flagged_held_market_says_what_upbit_said_and_what_the_bot_does(
    lang: str, texts: tuple[str, ...]
) -> None:
    flagged = next(e for e in SAMPLES if isinstance(e, ev.MarketStatusChanged))
    cleared = [e for e in SAMPLES if isinstance(e, ev.MarketStatusChanged)][-1]

    reply = renderer(lang).render(flagged)
    lifted = renderer(lang).render(cleared)

    assert reply is not None
    assert lifted is not None
    assert all(text in reply.plain_text() for text in texts), reply.plain_text()
    assert reply.severity is Severity.WARNING
    assert lifted.severity is Severity.INFO
    assert "KRW-XRP" in lifted.title
    assert len(lifted.lines) == 2  # the warning lifted, the delisting called off


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_universe_change_says_who_joined_who_left_and_why(lang: str) -> None:
    changed = [e for e in SAMPLES if isinstance(e, ev.UniverseChanged)][-1]
    reply = renderer(lang).render(changed)
    assert reply is not None
    text = "\n".join(reply.lines)
    assert "KRW-SOL" in text
    assert "7,000,000,000" in text
    assert ("#4" if lang == "en" else "4위") in text
    assert ("investment warning" if lang == "en" else "투자유의") in text
    held = reply.lines[-1]
    assert held.startswith("KRW-XRP")
    assert ("position is kept" if lang == "en" else "포지션은 유지") in held
    assert field(reply, "Markets" if lang == "en" else "마켓") == "KRW-BTC, KRW-SOL, KRW-ETH"


def test_a_burst_of_one_kind_merges_and_counts() -> None:
    breaches = [
        ev.RiskBreached(at=AT, check="max_open", market="KRW-BTC", reason=f"reason {i % 3}")
        for i in range(30)
    ]
    reply = renderer("en").render_group(breaches)

    assert reply is not None
    assert reply.title == "[PAPER] Risk alert · max_open and 30 in all"
    assert reply.lines == (
        "Risk alert · max_open — reason 0 (×10)",
        "Risk alert · max_open — reason 1 (×10)",
        "Risk alert · max_open — reason 2 (×10)",
    )
    assert reply.severity is Severity.WARNING


def test_candles_are_never_rendered_and_late_marks_show_kst() -> None:
    from datetime import UTC, datetime

    assert EVENT_KINDS[ev.CandleClosed] == "candle"
    assert KINDS["candle"] == "off"
    r = renderer("en")
    late = r.mark_late(Reply("[PAPER] Filled"), datetime(2025, 6, 19, 3, 3, tzinfo=UTC))
    assert late.title == "[PAPER] Filled (late: 12:03 KST)"
    ko = renderer("ko").mark_late(Reply("x"), datetime(2025, 6, 19, 3, 3, tzinfo=UTC))
    assert ko.title == "x (지연: 12:03 KST)"


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_events_survive_the_queue_codec(event: ev.Event) -> None:
    assert decode_event(encode_event(event)) == event


def test_replies_survive_the_queue_codec() -> None:
    reply = Reply(
        "t",
        lines=("a",),
        fields=(("k", "v"),),
        table=Table(("h1", "h2"), (("1", "2"),)),
        image=Image("c.png", b"\x89PNG...", "cap"),
        severity=Severity.CRITICAL,
    )
    assert decode_reply(encode_reply(reply)) == reply


def test_both_languages_have_the_same_notify_keys() -> None:
    ko, en = Catalog.load("ko").messages, Catalog.load("en").messages
    mine = {k for k in ko if k.startswith("notify.")}
    assert mine == {k for k in en if k.startswith("notify.")}
    assert len(mine) > 100


def test_a_refusal_is_pushed_in_the_chat_language():
    breach = ev.RiskBreached(
        at=AT,
        check="max_positions",
        market="KRW-BTC",
        reason="3 of 3 positions are open; close one before entering another",
        code="max_positions",
        values=(("open", "3"), ("limit", "3")),
    )

    korean = renderer("ko").render(breach)
    english = renderer("en").render(breach)
    unknown = renderer("ko").render(ev.RiskBreached(at=AT, check="x", market=None, reason="as is"))

    assert korean is not None
    assert english is not None
    assert unknown is not None
    assert "보유 포지션 3개 / 한도 3개" in korean.lines[0]
    assert english.lines[0].startswith("3 of 3 positions are open")
    assert unknown.lines == ("as is",)  # no code: the engine's own sentence


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_protection_push_names_the_protection_and_what_it_locks(lang: str) -> None:
    tripped, lifted = (
        e for e in SAMPLES if isinstance(e, ev.ProtectionTripped | ev.ProtectionLifted)
    )

    on = renderer(lang).render(tripped)
    off = renderer(lang).render(lifted)

    assert on is not None
    assert off is not None
    label = {"ko": ("손절 가드", "낙폭 가드"), "en": ("Stoploss guard", "Drawdown guard")}[lang]
    assert label[0] in on.title
    assert on.severity is Severity.WARNING
    assert "KRW-BTC" in on.plain_text()
    assert "2025-06-19 16:10" in on.plain_text()
    assert label[1] in off.title
    assert off.severity is Severity.INFO


@pytest.mark.parametrize(
    ("lang", "lost", "hold", "exits"),
    [
        ("en", "The bot lost 0.53% (-53,000 KRW)", "same data lost 11.59%", "stop 30, strategy"),
        ("ko", "봇은 0.53% (-53,000원) 잃었습니다", "11.59% 잃었습니다", "손절 30, 전략 신호 10"),
    ],
)
def test_replay_summary_says_a_loss_plainly(lang: str, lost: str, hold: str, exits: str) -> None:
    event = next(e for e in SAMPLES if isinstance(e, ev.ReplayFinished))
    reply = renderer(lang).render(event)
    assert reply is not None
    text = reply.plain_text()
    assert lost in text
    assert hold in text
    assert exits in text
    assert reply.severity is Severity.WARNING
    assert isinstance(event, ev.ReplayFinished)
    gain = renderer(lang).render(dataclasses.replace(event, end_krw=D(10_100_000)))
    assert gain is not None
    assert gain.severity is Severity.INFO
    assert ("made" if lang == "en" else "벌었습니다") in gain.plain_text()
