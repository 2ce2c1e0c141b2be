"""Who may have written a strategy file: it runs as Python inside the bot, with every secret
(Upbit keys, chat tokens, the API token) in its process, so only its owner may control it.

A file is refused when anyone could change it (world-writable), when it sits in a folder where
anyone could replace it (world-writable, as the file's path reads and as it resolves), or when
it belongs to a user other than the one running the bot (root's files are accepted: root can
change anything anyway).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def untrusted_reason(path: Path, *, uid: int | None = None) -> str | None:
    """Why ``path`` may not be loaded, or None. ``uid``: the process's (tests pass another)."""
    me = os.geteuid() if uid is None else uid
    info = path.stat()
    if info.st_mode & stat.S_IWOTH:
        return f"anyone may write to it (chmod o-w {path})"
    if info.st_uid not in (me, 0):
        return f"it belongs to uid {info.st_uid}, not to the bot's user ({me}) or root"
    for folder in dict.fromkeys((path.absolute().parent, path.resolve().parent)):
        if folder.stat().st_mode & stat.S_IWOTH:
            return f"anyone may replace it: its folder {folder} is world-writable"
    return None
