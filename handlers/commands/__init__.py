"""Every built-in command; ``build_registry()`` is what a bot serves."""

from __future__ import annotations

from handlers.commands import control, info, reports, research, trade
from handlers.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (info, reports, research, control, trade):
        for command in module.COMMANDS:
            registry.register(command)
    return registry
