"""on | silent | off per event kind and per transport, from [notify] in the config."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import NotifyConfig, load_config, render_example
from bot.notify import NotifyPolicy
from handlers.reply import Severity
from tests.notify.conftest import FakeSender, fill, make_notifier, until
from trading import events as ev


def test_defaults() -> None:
    policy = NotifyPolicy()
    assert policy.level("fill", "telegram") == "on"
    assert policy.level("feed", "slack") == "silent"
    assert policy.level("candle", "telegram") == "off"
    assert policy.level("position_opened", "telegram") == "off"


def test_transport_table_wins_over_events_table_over_defaults() -> None:
    cfg = NotifyConfig.model_validate(
        {"events": {"fill": "silent", "feed": "off"}, "telegram": {"fill": "off"}}
    )
    policy = NotifyPolicy.from_config(cfg)

    assert policy.level("fill", "telegram") == "off"
    assert policy.level("fill", "slack") == "silent"
    assert policy.level("feed", "console") == "off"
    assert policy.level("risk", "slack") == "on"


def test_min_severity_turns_quieter_messages_off() -> None:
    policy = NotifyPolicy(min_severity=Severity.WARNING)
    assert policy.level("fill", "telegram", Severity.INFO) == "off"
    assert policy.level("risk", "telegram", Severity.WARNING) == "on"


def test_bad_kinds_and_levels_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown event kind"):
        NotifyConfig.model_validate({"events": {"fills": "on"}})
    with pytest.raises(ValidationError, match="'on', 'silent' or 'off'"):
        NotifyConfig.model_validate({"slack": {"fill": "loud"}})
    with pytest.raises(ValueError, match="unknown event kind"):
        NotifyPolicy(transports={"telegram": {"nope": "on"}})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="backoff_base_s"):
        NotifyConfig.model_validate({"backoff_base_s": 10, "backoff_max_s": 5})


def test_config_file_and_environment_override(tmp_path) -> None:
    path = tmp_path / "config.toml"
    (tmp_path / ".env").write_text("")
    path.write_text('[notify]\nevents = { fill = "silent" }\nslack = { risk = "off" }\n')
    cfg = load_config(
        path, environ={"UPBIT_BOT_NOTIFY__TELEGRAM": '{"feed": "off"}'}, dotenv=tmp_path / ".env"
    )
    policy = NotifyPolicy.from_config(cfg.notify)

    assert policy.level("fill", "telegram") == "silent"
    assert policy.level("risk", "slack") == "off"
    assert policy.level("feed", "telegram") == "off"


def test_example_config_documents_the_kinds() -> None:
    example = render_example()
    assert "events = {}" in example
    assert "kinds: order_placed, fill, position_closed" in example


async def test_silent_and_off_reach_the_sender_as_such(store) -> None:
    sender = FakeSender()
    policy = NotifyPolicy(events={"feed": "silent"}, transports={"slack": {"fill": "off"}})
    notifier = make_notifier(
        store,
        {"telegram": sender, "slack": sender},
        {"telegram": ["1"], "slack": ["C1"]},
        policy=policy,
    )
    await notifier.start()
    await notifier.on_event(fill("i1", 1, complete=True))
    await notifier.on_event(ev.FeedStalled(stream="public", silent_for_s=30))
    await until(lambda: len(sender.sent) == 3)
    await notifier.stop()

    got = sorted((s.chat, s.reply.title, s.silent) for s in sender.sent)
    assert got == [
        ("1", "[PAPER] Filled · KRW-BTC buy", False),
        ("1", "[PAPER] Market feed stale · public", True),
        ("C1", "[PAPER] Market feed stale · public", True),
    ]
