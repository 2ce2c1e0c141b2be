"""The ``research`` section: the one ``ResearchQuotaSettings`` model of ``handlers.quota``,
so the file's bounds are the ones the dispatcher's quota was built for."""

from __future__ import annotations

from handlers.quota import ResearchQuotaSettings


class ResearchConfig(ResearchQuotaSettings):
    """Chat research: how many /backtest and /optimize jobs one user may start per hour."""
