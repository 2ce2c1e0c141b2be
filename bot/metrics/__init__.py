"""Prometheus metrics at ``/metrics`` (see docs/metrics.md for every series)."""

from bot.metrics.core import EVENT_KINDS, Metrics
from bot.metrics.labels import BoundedLabel, endpoint_template
from bot.metrics.route import PATH, metrics_route
from bot.metrics.sources import Sources

__all__ = [
    "EVENT_KINDS",
    "PATH",
    "BoundedLabel",
    "Metrics",
    "Sources",
    "endpoint_template",
    "metrics_route",
]
