"""What the chat platforms' transport kinds (``bot.telegram.kind``, ``bot.slack.kind``) share:
finding their own config section, the role lists every chat section has, and pacing from the
``[notify]`` section. A chat kind states only what is its platform's own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol, TypeVar

from pydantic import BaseModel

from bot.config.sections import NotifyBase
from bot.notify.pacing import Limits
from handlers.auth import Policy

S = TypeVar("S", bound=BaseModel)


class RoleIds(Protocol):
    """The user lists of a chat section, one per role."""

    @property
    def admin_ids(self) -> Iterable[object]: ...
    @property
    def operator_ids(self) -> Iterable[object]: ...
    @property
    def viewer_ids(self) -> Iterable[object]: ...


def section_of(section: BaseModel, config: type[S]) -> S:
    """``section`` as the kind's own ``config`` class (the registry hands over a model)."""
    if not isinstance(section, config):
        raise TypeError(f"expected a {config.__name__}, got {type(section).__name__}")
    return section


def role_policy(chats: Iterable[object], section: RoleIds) -> Policy:
    """Who may do what in ``chats``, from the section's role lists."""
    return Policy.of(
        chats=chats,
        admins=section.admin_ids,
        operators=section.operator_ids,
        viewers=section.viewer_ids,
    )


def paced_limits(limits: Limits, notify: NotifyBase, *, global_max: int | None = None) -> Limits:
    """The platform's ``limits`` with the operator's per-chat pace from ``[notify]`` (and a
    global cap where the platform lets it be set)."""
    chat = replace(
        limits, per_chat_max=notify.max_per_minute, min_interval_s=notify.min_interval_s
    )
    return chat if global_max is None else replace(chat, global_max=global_max)
