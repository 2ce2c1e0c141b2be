"""How many ``/backtest`` and ``/optimize`` jobs one user may start: a rolling hour's quota.

A job holds a core for up to its time limit, and the desk runs one at a time, so without a
quota one viewer sending ``/backtest`` again as soon as each result arrives keeps a core busy
(and everyone else waiting) for as long as they like. Each user (per transport) may start
``jobs_per_hour`` jobs in any rolling hour; the one over it is told when the oldest of their
jobs leaves the window. One running at a time per user follows from the desk's one slot.
Admins, the bot's owners, are exempt unless ``admins_exempt`` is off: it is their machine.
``ResearchQuotaSettings`` is the config file's ``[research]`` section.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from handlers.auth import Principal
from handlers.registry import Role

WINDOW_S = 3600.0


class ResearchQuotaSettings(BaseModel):
    """Chat research: how many /backtest and /optimize jobs one user may start per hour."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    jobs_per_hour: int = Field(
        6,
        ge=1,
        le=60,
        description="/backtest and /optimize jobs one user may start in any rolling hour",
    )
    admins_exempt: bool = Field(True, description="admins are not held to jobs_per_hour")


@dataclass
class ResearchQuota:
    """Start times per user within the window; ``clock`` is monotonic seconds."""

    settings: ResearchQuotaSettings = field(default_factory=ResearchQuotaSettings)
    clock: Callable[[], float] = time.monotonic
    _starts: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def wait_s(self, who: Principal, role: Role) -> float:
        """Seconds until ``who`` may start a job (0: now)."""
        if self._exempt(role):
            return 0.0
        starts = self._window(who)
        if len(starts) < self.settings.jobs_per_hour:
            return 0.0
        return starts[0] + WINDOW_S - self.clock()

    def record(self, who: Principal, role: Role) -> None:
        """``who`` started a job now."""
        if not self._exempt(role):
            self._window(who).append(self.clock())

    def _exempt(self, role: Role) -> bool:
        return self.settings.admins_exempt and role >= Role.ADMIN

    def _window(self, who: Principal) -> deque[float]:
        starts = self._starts.setdefault((who.transport, who.user_id), deque())
        while starts and starts[0] <= self.clock() - WINDOW_S:
            starts.popleft()
        return starts
