"""Suite-wide rules: with REQUIRE_POSTGRES_TESTS=1 (CI), a skipped PostgreSQL test fails."""

from __future__ import annotations

import os

import pytest

PG_SKIP_PREFIX = "PostgreSQL not available"


def pytest_configure(config: pytest.Config) -> None:
    # python-telegram-bot 22 warns on every RetryAfter unless it may use timedelta (the bot
    # sets the same); under filterwarnings=error the warning would hide the 429 itself
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("REQUIRE_POSTGRES_TESTS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [
        rep for rep in reporter.stats.get("skipped", []) if PG_SKIP_PREFIX in str(rep.longrepr)
    ]
    if skipped:
        reporter.write_line(
            f"FAILED: {len(skipped)} PostgreSQL test(s) were skipped but CI requires them",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
