"""Events queued under their names from before the past-tense rename (issue #14) still decode."""

from __future__ import annotations

from bot.notify.codec import RENAMED, decode_event, encode_event
from tests.notify.test_render import SAMPLES


def test_a_row_queued_under_an_old_name_decodes_to_the_renamed_event() -> None:
    by_name = {type(e).__name__: e for e in SAMPLES}
    for old, new in RENAMED.items():
        event = by_name[new]
        data = {**encode_event(event), "type": old}
        assert decode_event(data) == event
