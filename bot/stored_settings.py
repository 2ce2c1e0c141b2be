"""What ``check-config`` adds below the config: the live ``/set`` changes kept in the store,
judged exactly as the next start will judge them (re-applied, or refused and dropped).

Imports of the store and the engine stay inside the function: ``check-config`` must work
(and say why not) even where the database or a strategy file is broken.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.config import AppConfig

TIMEOUT_S = 5.0


def report(cfg: AppConfig) -> list[str]:
    """Comment lines (the dump stays valid TOML) describing the stored overrides."""
    head = "# live changes in the store (/set, /undo), re-applied on start:"
    try:
        stored = asyncio.run(asyncio.wait_for(_read(cfg), TIMEOUT_S))
    except Exception as exc:  # a report line, not a crash: the config itself is fine
        return [head, f"#   (not read: {type(exc).__name__}: {exc})"]
    if stored is None:
        return [head, "#   (no store yet)"]
    if not stored:
        return [head, "#   (none)"]
    return [head, *_judged(cfg, stored)]


async def _read(cfg: AppConfig) -> dict[str, object] | None:
    from trading.engine.facade import PARAMS_KEY
    from trading.store import Store, create_engine, session_factory

    url = cfg.store.url
    if url.startswith("sqlite") and not _sqlite_exists(url):
        return None
    engine = create_engine(url)
    try:
        value = await Store(session_factory(engine)).get_state(PARAMS_KEY, {})
    finally:
        await engine.dispose()
    return dict(value)


def _sqlite_exists(url: str) -> bool:
    path = url.split("///", 1)[1] if "///" in url else ""
    return path == ":memory:" or Path(path).exists()


def _judged(cfg: AppConfig, stored: dict[str, object]) -> list[str]:
    from bot.trader import risk_limits
    from trading.engine.tunables import Tunables
    from trading.strategies import build_strategy

    strategy = build_strategy(cfg.strategy.name, cfg.strategy.file, cfg.strategy.params)
    replayed = Tunables(strategy, risk_limits(cfg)).replay(stored)
    lines = [f"#   {key} = {value}" for key, value in replayed.kept.items()]
    for rejected in replayed.rejected:
        lines.append(
            f"#   {rejected.key} = {rejected.stored}: REFUSED at start"
            f" ({rejected.refusal.message}); {rejected.applies} applies"
        )
    return lines
