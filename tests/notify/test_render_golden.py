"""Every sample event renders byte for byte as it did before the per-event render functions:
one message per event and language, a few merged bursts, and the console line.

Regenerate (only for an intended change of wording) with ``GOLDEN_UPDATE=1``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.event_log import describe
from bot.notify import Renderer
from bot.notify.codec import encode_reply
from handlers.i18n import Catalog
from tests.notify.conftest import AT, fill
from tests.notify.test_render import SAMPLES
from trading import events as ev

GOLDEN = Path(__file__).parent / "golden" / "render.json"


def _bursts() -> list[list[ev.Event]]:
    risks: list[ev.Event] = [
        ev.RiskBreached(
            at=AT + timedelta(seconds=n), check="daily_loss", market=None, reason=f"r{n % 3}"
        )
        for n in range(25)
    ]
    exit_fills: list[ev.Event] = [fill("i9", n, complete=n == 2, side="ask") for n in range(3)]
    closes = [e for e in SAMPLES if isinstance(e, ev.PositionClosed)]
    return [
        [fill("i1", n, complete=n == 2) for n in range(3)],
        [*exit_fills, *closes],
        closes * 2,
        risks,
        [e for e in SAMPLES if isinstance(e, ev.FeedStalled | ev.FeedGapped | ev.FeedFailed)],
    ]


def _snapshot() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("ko", "en"):
        for paper in (True, False):
            r = Renderer(Catalog.load(lang), paper=paper)
            mode = "paper" if paper else "live"
            for n, event in enumerate(SAMPLES):
                reply = r.render(event)
                key = f"{n:02d} {type(event).__name__} {lang} {mode}"
                out[key] = None if reply is None else encode_reply(reply)
            for n, burst in enumerate(_bursts()):
                reply = r.render_group(burst)
                out[f"burst {n} {lang} {mode}"] = None if reply is None else encode_reply(reply)
    for n, event in enumerate(SAMPLES):
        out[f"{n:02d} {type(event).__name__} describe"] = describe(event)
    return out


def test_renderings_are_unchanged() -> None:
    snapshot = _snapshot()
    if os.environ.get("GOLDEN_UPDATE"):
        GOLDEN.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1) + "\n", "utf-8")
    golden = json.loads(GOLDEN.read_text("utf-8"))
    assert snapshot.keys() == golden.keys()
    for key, value in snapshot.items():
        assert value == golden[key], key
