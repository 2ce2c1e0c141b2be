"""Issue #13 (speed): the scanner's shortcuts (a stop that cannot move scanned in a few array
operations, the trail applied only where its highest candidates may move the stop) find
the same exit, print for print, as asking the real ``TrailingStop`` at every print of every
candle; on random candles and random exits, entries before the ATR warm-up included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.backtest.test_runner import naive_exits
from trading.backtest.stops import StopScanner, dec
from trading.backtest.synthetic import random_walk
from trading.risk.stops import Trail, TrailingStop
from trading.upbit.market_rules import KRW_TICKS, UpbitMarketRules

PERIOD = 14
BARS = 700

trails = st.one_of(
    st.none(),
    st.builds(
        Trail,
        positive_pct=st.sampled_from([D(0), D("0.1"), D("0.5"), D(1)]),
        offset_pct=st.sampled_from([D(0), D("0.2"), D(1)]),
        only_offset=st.booleans(),
    ),
)
rois = st.sampled_from(
    [
        (),
        ((0, D(3)), (60, D(1)), (240, D("0.3"))),
        ((0, D(1)), (20, D("0.4")), (90, D("0.1"))),
        ((30, D(0)),),
        ((5, D("0.2")),),
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    start_price=st.sampled_from([50_000_000.0, 1_234_567.0, 99_800.0, 150.0]),
    volatility=st.sampled_from([0.0005, 0.002, 0.006]),
    entry=st.integers(1, BARS - 2),
    length=st.integers(0, 500),
    mult=st.sampled_from([D(0), D(1), D(2)]),
    loss=st.sampled_from([D(0), D("0.3"), D(3)]),
    tp=st.sampled_from([D(0), D("0.5"), D(5)]),
    trail=trails,
    roi=rois,
    hold=st.sampled_from([0, 3, 45, 200, 720]),
    gap=st.sampled_from([D("0.05"), D("0.2"), D(1)]),
    late=st.integers(1, 59),
)
def test_the_scanner_finds_what_every_print_finds(
    seed: int,
    start_price: float,
    volatility: float,
    entry: int,
    length: int,
    mult: D,
    loss: D,
    tp: D,
    trail: Trail | None,
    roi: tuple[tuple[int, D], ...],
    hold: int,
    gap: D,
    late: int,
) -> None:
    frame = random_walk(
        BARS, seed, start_price=start_price, volatility=volatility, ticks=KRW_TICKS
    )
    scanner = StopScanner("KRW-BTC", "1m", frame, PERIOD)
    last = min(len(frame) - 1, entry + length)
    price = dec(frame.open[entry])
    entered = datetime.fromtimestamp(int(frame.start[entry]), UTC) + timedelta(seconds=late)

    def fresh() -> TrailingStop:
        return TrailingStop.open(
            market="KRW-BTC",
            entry_price=price,
            atr=scanner.atr(entry - 1) if mult else None,  # None before the warm-up
            atr_mult=mult,
            rules=UpbitMarketRules(),
            fallback_pct=D("0.5"),
            min_distance_pct=gap,
            take_profit_pct=tp,
            stop_loss_pct=loss,
            trail=trail,
            roi=roi,
            max_holding_minutes=hold,
            entered_at=entered,
        )

    fast, slow = fresh(), fresh()
    time_bar = None
    if fast.deadline is not None:
        # the deadline is ``late`` seconds into candle entry + hold, before its last print
        # (59.4 s): the holding time runs out inside that candle
        time_bar = entry + hold if entry + hold < len(frame) else None
    hit = scanner.scan(fast, entry, last, time_bar)
    expected = naive_exits(frame, slow, entry, last, PERIOD)
    found = None if hit is None else (hit.bar, hit.print_index, hit.kind)
    assert found == expected
    if hit is None:
        assert fast.stop == slow.stop
