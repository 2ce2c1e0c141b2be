"""A viewer cannot keep a core busy with back-to-back ``/backtest`` jobs (issue #12.4): each
user may start ``research.jobs_per_hour`` jobs in any rolling hour, and is told when the next
may start. Admins are exempt (``research.admins_exempt``).

Before, the only limit was one job at a time, so sending ``/backtest`` again whenever a result
came back ran one job after another for as long as the viewer liked. Jobs here are started for
real (a spawned process each) and cancelled at once: the quota counts starts, not results.
"""

from __future__ import annotations

import pytest

from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.quota import ResearchQuota, ResearchQuotaSettings
from handlers.reply import Reply
from tests.handlers.conftest import ADMIN, OPERATOR, VIEWER, Rig, policies
from tests.handlers.test_research import research  # noqa: F401  (fixture)


@pytest.fixture
async def quota2(research: Rig) -> Rig:  # noqa: F811
    """The research rig behind a dispatcher whose quota is 2 jobs per user per hour."""
    rig = research
    rig.dispatcher = Dispatcher(
        build_registry(),
        rig.dispatcher.api,
        Authorizer(policies(), clock=rig.clock),
        rig.store,
        language="en",
        clock=rig.clock,
        research_quota=ResearchQuota(ResearchQuotaSettings(jobs_per_hour=2), clock=rig.clock),
    )
    return rig


async def backtest(rig: Rig, who, language: str = "en") -> Reply:
    """``/backtest`` once; a job it started is cancelled at once (its process terminated)."""
    reply = await rig.say(who, "/backtest", language)
    await rig.dispatcher.api.research.close()
    return reply


async def test_a_viewer_over_the_hourly_quota_is_told_when_to_come_back(quota2: Rig) -> None:
    rig = quota2
    first = await backtest(rig, VIEWER)
    rig.clock.advance(600)
    second = await backtest(rig, VIEWER)
    rig.clock.advance(60)

    third = await backtest(rig, VIEWER, "en")
    ko = await backtest(rig, VIEWER, "ko")

    assert first.title == second.title == "Backtest started"
    assert third.title == "Research quota used up"
    assert third.ephemeral
    # the first start leaves the hour 3,600 - 660 s from now: 49 minutes
    assert "started 2 /backtest or /optimize jobs in the last hour" in third.plain_text()
    assert "start the next in 49 min" in third.plain_text()
    assert "49분 뒤" in ko.plain_text()
    assert ko.title == "리서치 한도 초과"
    outcomes = [a.outcome for a in await rig.store.audit_log(10) if a.command == "backtest"]
    assert outcomes == ["ok"] * 4  # answered, not failed

    rig.clock.advance(49 * 60)  # the first start has left the hour
    assert (await backtest(rig, VIEWER)).title == "Backtest started"
    assert (await backtest(rig, VIEWER)).title == "Research quota used up"


async def test_the_quota_is_per_user_and_covers_optimize(quota2: Rig) -> None:
    rig = quota2
    await backtest(rig, VIEWER)
    await backtest(rig, VIEWER)

    other = await backtest(rig, OPERATOR)  # another user's hour is their own
    optimize = await rig.say(OPERATOR, "/optimize 1")
    await rig.dispatcher.api.research.close()
    third = await rig.say(OPERATOR, "/optimize 1")

    assert other.title == "Backtest started"
    assert optimize.title == "Optimization started"
    assert third.title == "Research quota used up"


async def test_admins_are_exempt(quota2: Rig) -> None:
    titles = [(await backtest(quota2, ADMIN)).title for _ in range(3)]

    assert titles == ["Backtest started"] * 3


def test_the_config_section_is_the_quota_model() -> None:
    from bot.config import AppConfig
    from bot.config.research import ResearchConfig

    assert isinstance(AppConfig().research, ResearchQuotaSettings)
    assert ResearchConfig().jobs_per_hour == ResearchQuotaSettings().jobs_per_hour
