"""Suite-wide rules: with REQUIRE_POSTGRES_TESTS=1 or REQUIRE_BROWSER_TESTS=1 (CI), a skipped
PostgreSQL or browser test fails the run."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests must pass on a busy 2-core CI machine: no deadline, no "too slow" check.
# Every test inherits this profile; one that sets its own ``@settings`` keeps these unless it
# overrides them.
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_SKIP_PREFIX = "PostgreSQL not available"
BROWSER_SKIP_PREFIX = "Chromium not available"


def pytest_configure(config: pytest.Config) -> None:
    # python-telegram-bot 22 warns on every RetryAfter unless it may use timedelta (the bot
    # sets the same); under filterwarnings=error the warning would hide the 429 itself
    os.environ.setdefault("PTB_TIMEDELTA", "true")


#: (skip reason prefix, the variable that makes such a skip fail the run, what it names)
REQUIRED_SKIPS = (
    (PG_SKIP_PREFIX, "REQUIRE_POSTGRES_TESTS", "PostgreSQL"),
    (BROWSER_SKIP_PREFIX, "REQUIRE_BROWSER_TESTS", "browser (Chromium)"),
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    for prefix, variable, what in REQUIRED_SKIPS:
        if os.environ.get(variable) != "1":
            continue
        missed = [rep for rep in skipped if prefix in str(rep.longrepr)]
        if missed:
            reporter.write_line(
                f"FAILED: {len(missed)} {what} test(s) were skipped but CI requires them"
                f" ({variable}=1)",
                red=True,
            )
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
