"""Who may have written a strategy file: it runs as Python inside the bot, with every secret
(Upbit keys, chat tokens, the API token) in its process, so only its owner may control it.

A file is refused when anyone could change it (world-writable), when it sits in a folder where
anyone could replace it (world-writable, as the file's path reads and as it resolves), or when
it belongs to a user other than the one running the bot (root's files are accepted: root can
change anything anyway). Write bits do not count on a read-only mount: a Kubernetes ConfigMap
volume's folder is 0777, but nobody can write to it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


def read_only_mount(path: Path) -> bool:
    """``path`` is on a file system mounted read-only."""
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def untrusted_reason(
    path: Path,
    *,
    uid: int | None = None,
    read_only: Callable[[Path], bool] = read_only_mount,
) -> str | None:
    """Why ``path`` may not be loaded, or None. ``uid``: the process's (tests pass another)."""
    me = os.geteuid() if uid is None else uid
    info = path.stat()
    if info.st_uid not in (me, 0):
        return f"it belongs to uid {info.st_uid}, not to the bot's user ({me}) or root"
    if info.st_mode & stat.S_IWOTH and not read_only(path):
        return f"anyone may write to it (chmod o-w {path})"
    for folder in dict.fromkeys((path.absolute().parent, path.resolve().parent)):
        if folder.stat().st_mode & stat.S_IWOTH and not read_only(folder):
            return f"anyone may replace it: its folder {folder} is world-writable"
    return None
