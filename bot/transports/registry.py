"""What the bot does with every transport kind of the registry (``wiring.TRANSPORTS``): the
pacers, the auth policies, the credentials to check at start and the transports to run, each
built from its own config section. The app, the chat-ops and the notifier call these loops
and never name a platform."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import AppConfig
from bot.config.sections import NotifyBase
from bot.notify.pacing import CONSOLE_LIMITS, Limits, Pacer
from bot.transports.base import BuildContext, Credential, RouteMount, Transport, TransportKind
from bot.transports.wiring import TRANSPORTS
from handlers.auth import Policy
from handlers.dispatcher import Dispatcher

CONSOLE = "console"  # the stdin desk (``bot.console``): no kind, no pushes, no pace


def default_limits() -> dict[str, Limits]:
    """Each platform's published pace, by transport name."""
    return {CONSOLE: CONSOLE_LIMITS, **{kind.name: kind.limits for kind in TRANSPORTS}}


def limits_from_config(notify: NotifyBase) -> dict[str, Limits]:
    """The platforms' limits with ``[notify]``'s per-chat pace and the kinds' own caps."""
    return {CONSOLE: CONSOLE_LIMITS, **{kind.name: kind.paced(notify) for kind in TRANSPORTS}}


def pacers_from_config(notify: NotifyBase) -> dict[str, Pacer]:
    """One pacer per transport, shared by its command replies and the notifier's pushes."""
    return {name: Pacer(limits) for name, limits in limits_from_config(notify).items()}


def policies(cfg: AppConfig) -> dict[str, Policy]:
    """Who may use each transport (its allow-lists), by transport name."""
    return {kind.name: kind.policy(cfg.section_of(kind)) for kind in TRANSPORTS}


def enabled(cfg: AppConfig) -> list[TransportKind]:
    """The kinds configured to run (on, with the secrets they need), in registry order."""
    return [k for k in TRANSPORTS if k.enabled(cfg.section_of(k), cfg.secrets.of(k))]


def credentials_of(cfg: AppConfig) -> list[Credential]:
    """What the enabled transports will use (the same condition as ``build_all``)."""
    return [
        cred
        for kind in enabled(cfg)
        for cred in kind.credentials(cfg.section_of(kind), cfg.secrets.of(kind))
    ]


def build_all(
    cfg: AppConfig,
    dispatcher: Dispatcher,
    pacers: dict[str, Pacer],
    reporter: Callable[[str], Callable[[str, str], None] | None],
    http: RouteMount | None = None,
) -> list[tuple[Transport, list[str]]]:
    """Every enabled transport with the chats its pushes go to; ``reporter(name)``: where it
    reports a token refused while running; ``http``: the server a transport may mount on."""
    built = []
    for kind in enabled(cfg):
        section = cfg.section_of(kind)
        context = BuildContext(dispatcher, pacers[kind.name], reporter(kind.name), http)
        transport = kind.build(section, cfg.secrets.of(kind), context)
        built.append((transport, list(kind.targets(section))))
    return built


def title(platform: str) -> str:
    """How people call a transport ("Telegram"); its name if no kind has it."""
    return next((k.title for k in TRANSPORTS if k.name == platform), platform)
