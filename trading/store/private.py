"""SQLite files readable by their owner only: the store holds the account's orders, fills,
balances and the audit log of who commanded what.

A new folder is made 0700 and a new database file 0600 (created before SQLite opens it; SQLite
gives its ``-wal`` and ``-shm`` files the database's mode). An existing database file (and its
companions) that others may read is tightened to 0600 with a warning: nobody else has a reason
to read it. An existing folder is never changed: it may be a mounted volume (a Kubernetes
``fsGroup`` gives the group access on purpose) or the working directory, shared with other
things; one that every user may write to (and so delete or replace the store) is warned about.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def private_sqlite_file(database: Path) -> None:
    """Make ``database``'s folder and file private (see module doc); idempotent."""
    folder = database.parent
    if not folder.exists():
        _make_folders(folder)
    elif folder.stat().st_mode & stat.S_IWOTH:
        log.warning(
            "the store's folder %s is writable by every user (mode %o): chmod o-w it",
            folder,
            stat.S_IMODE(folder.stat().st_mode),
        )
    os.close(os.open(database, os.O_CREAT | os.O_RDWR, FILE_MODE))
    for path in (database, *(database.with_name(database.name + s) for s in COMPANIONS)):
        _tighten(path)


def _make_folders(folder: Path) -> None:
    """Every folder it creates is 0700 (``mkdir(parents=True)`` would give parents 0777-umask)."""
    missing: list[Path] = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        try:
            path.chmod(FILE_MODE)
        except OSError as exc:  # not ours to change: say so, keep going
            log.warning(
                "%s is readable by others (mode %o) and cannot be tightened: %s", path, mode, exc
            )
            return
        log.warning("%s was readable by others (mode %o): now %o", path, mode, FILE_MODE)
