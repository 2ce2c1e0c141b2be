"""The Slack app manifest a user pastes must match what the bot expects."""

from __future__ import annotations

from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"


def test_manifest_declares_the_command_scopes_and_socket_mode():
    text = MANIFEST.read_text(encoding="utf-8")

    assert "command: /upbit" in text  # slack.command's default
    for scope in ("commands", "chat:write", "files:write"):
        assert f"- {scope}" in text
    assert "socket_mode_enabled: true" in text
    assert "interactivity:\n    is_enabled: true" in text
