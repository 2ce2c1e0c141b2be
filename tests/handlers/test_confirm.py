from handlers.confirm import Confirmations, Outcome
from tests.handlers.conftest import ADMIN, OPERATOR, Clock, Principal


def test_token_once_by_owner_within_ttl():
    clock = Clock()
    box = Confirmations(60, clock)
    pending = box.create(ADMIN, "set", {"key": "k"}, "en")
    assert len(f"cf:{pending.token}".encode()) <= 64
    assert box.take(pending.token, OPERATOR)[0] is Outcome.OTHER_USER
    assert box.take(pending.token, Principal("telegram", "1", "other-chat"))[0] is (
        Outcome.OTHER_USER
    )
    assert box.latest(ADMIN) == pending
    outcome, got = box.take(pending.token, ADMIN)
    assert outcome is Outcome.OK
    assert got is not None
    assert got.args == {"key": "k"}
    assert box.take(pending.token, ADMIN)[0] is Outcome.USED
    assert box.take("nope", ADMIN)[0] is Outcome.UNKNOWN


def test_expired():
    clock = Clock()
    box = Confirmations(60, clock)
    pending = box.create(ADMIN, "flatten", {}, "en")
    clock.advance(61)
    assert box.latest(ADMIN) is None
    assert box.take(pending.token, ADMIN)[0] is Outcome.EXPIRED
    assert box.take(pending.token, ADMIN)[0] is Outcome.USED
