from handlers.auth import Authorizer, Policy, Principal, Verdict
from handlers.registry import Role
from tests.handlers.conftest import Clock, policies


def make(alerts=None, clock=None):
    return Authorizer(
        policies(),
        on_alert=(alerts if alerts is not None else []).append,
        alert_after=3,
        clock=clock or Clock(),
    )


def test_roles_need_user_and_chat():
    auth = make()
    assert auth.role(Principal("telegram", "1", "100")) is Role.ADMIN
    assert auth.role(Principal("telegram", "2", "100")) is Role.OPERATOR
    assert auth.role(Principal("telegram", "3", "100")) is Role.VIEWER
    assert auth.role(Principal("telegram", "1", "999")) is None  # right user, wrong chat
    assert auth.role(Principal("telegram", "42", "100")) is None  # right chat, unknown user
    assert auth.role(Principal("slack", "1", "100")) is None  # ids are per transport
    assert auth.role(Principal("slack", "U1", "C1")) is Role.ADMIN
    assert auth.role(Principal("discord", "1", "100")) is None  # unconfigured: deny
    assert auth.role(Principal.console()) is Role.ADMIN


def test_deny_by_default_with_empty_lists():
    auth = Authorizer({"telegram": Policy()})
    assert auth.check(Principal("telegram", "1", "1")).role is None


def test_highest_role_wins():
    policy = Policy.of(chats=[1], admins=[5], viewers=[5])
    assert policy.role("5") is Role.ADMIN


def test_refusal_once_an_hour_and_alert_every_n():
    alerts: list[str] = []
    clock = Clock()
    auth = make(alerts, clock)
    who = Principal("telegram", "666", "100", "mallory")
    verdicts = [auth.check(who).verdict for _ in range(4)]
    assert verdicts == [Verdict.REFUSE, Verdict.SILENT, Verdict.SILENT, Verdict.SILENT]
    assert len(alerts) == 1
    assert "3 refused attempts from telegram user 666 (mallory)" in alerts[0]
    clock.advance(3600)
    assert auth.check(who).verdict is Verdict.REFUSE
    assert auth.check(Principal("telegram", "777", "100")).verdict is Verdict.REFUSE
    assert auth.attempts("telegram", "666") == 5
    assert auth.check(Principal("telegram", "1", "999")).reason == "chat not allowed"
