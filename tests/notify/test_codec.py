"""Events through the queue's JSON and back: renamed events, and the research outcome a
``ResearchFinished`` holds (dataclasses, dicts, bytes, numpy numbers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.notify.codec import RENAMED, decode_event, encode_event
from handlers.events import ResearchFinished
from tests.notify.test_render import SAMPLES
from trading.engine.research import (
    BacktestOutcome,
    GapCount,
    JobFailed,
    OptimizeOutcome,
    Outcome,
    Sources,
)

T0, T1, T2 = (datetime(2025, 6, d, tzinfo=UTC) for d in (1, 8, 10))


def test_a_row_queued_under_an_old_name_decodes_to_the_renamed_event() -> None:
    by_name = {type(e).__name__: e for e in SAMPLES}
    for old, new in RENAMED.items():
        event = by_name[new]
        data = {**encode_event(event), "type": old}
        assert decode_event(data) == event


OUTCOMES: list[Outcome] = [
    BacktestOutcome(
        strategy="ma_cross",
        params={"fast": 5, "slow": 20, "kind": "ema", "trail": True},
        market="KRW-BTC",
        timeframe="1m",
        first=T0,
        last=T1,
        candles=840,
        metrics={"trades": 7, "total_return_pct": -0.42, "sharpe": None},
        png=b"\x89PNG\r\n\x1a\n\x00",
        elapsed_s=1.5,
        sources=Sources(stored=600, live=240, filled=3),
    ),
    BacktestOutcome(  # candles with a hole, run in stretches: the reply says so after a restart
        strategy="ma_cross",
        params={"fast": 5},
        market="KRW-BTC",
        timeframe="1m",
        first=T0,
        last=T2,
        candles=839,
        metrics={"trades": 2},
        png=b"",
        elapsed_s=0.5,
        gaps=GapCount(holes=1, missing=300, stretches=2),
    ),
    OptimizeOutcome(
        strategy="ma_cross",
        objective="sharpe",
        market="KRW-BTC",
        timeframe="1m",
        best_params={"fast": 3},
        in_sample={"trades": 4.0},
        out_of_sample={"trades": 1.0},
        in_score=1.25,
        out_score=-0.5,
        trials=(18, 1, 1),
        trials_asked=20,
        trials_run=20,
        train=(T0, T1),
        test=(T1, T2),
        set_commands=("/set strategy.fast 3",),
        ordered=True,
        live=True,
        png=b"",
        elapsed_s=9.0,
    ),
    JobFailed("optimize", "timeout", "60"),
]


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: type(o).__name__)
def test_a_research_outcome_survives_the_queue(outcome: Outcome) -> None:
    event = ResearchFinished(
        at=T2,
        job="backtest",
        by="b",
        transport="telegram",
        chat_id="1",
        lang="ko",
        outcome=outcome,
    )
    assert decode_event(json.loads(json.dumps(encode_event(event)))) == event


def test_numpy_numbers_in_the_metrics_are_queued_as_plain_numbers() -> None:
    outcome = OUTCOMES[0]
    assert isinstance(outcome, BacktestOutcome)
    metrics = {"trades": np.int64(7), "sharpe": np.float64(0.5)}
    event = ResearchFinished(
        job="backtest",
        by="b",
        transport="telegram",
        chat_id="1",
        lang="en",
        outcome=BacktestOutcome(**{**_fields(outcome), "metrics": metrics}),
    )
    data = json.loads(json.dumps(encode_event(event)))
    assert data["outcome"]["metrics"] == {"trades": 7, "sharpe": 0.5}


def _fields(outcome: BacktestOutcome) -> dict[str, object]:
    return {name: getattr(outcome, name) for name in outcome.__dataclass_fields__}
