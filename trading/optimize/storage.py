"""Optuna studies in an SQL database: SQLite by default, PostgreSQL (or any SQLAlchemy URL).

Every process opens its own ``RDBStorage``; a study is found by name, so workers on several
machines pointed at one PostgreSQL URL with one ``--study`` name share its trials. The study
records the setup it was created for (strategy, objective, space, data window) and refuses a
worker that brings a different one: mixing trials of two setups would make "best" meaningless.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from trading.optimize.errors import OptimizeInputError
from trading.store.private import private_sqlite_file

__all__ = ["SETUP_ATTR", "open_storage", "prepare_study", "storage_at"]

SETUP_ATTR = "upbit_bot_setup"
SQLITE_LOCK_TIMEOUT_S = 60.0
"""SQLite serializes writers; a worker waits this long for the lock instead of failing."""


def open_storage(url: str) -> RDBStorage:
    """An optuna storage for ``url``; SQLite files get their directory and a lock timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise OptimizeInputError(f"--storage {url!r} is not a database URL") from None
    engine_kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise OptimizeInputError(
                f"--storage {url!r}: an in-memory SQLite database is private to one connection;"
                " give a file (sqlite:///optuna.db)"
            )
        private_sqlite_file(Path(parsed.database))
        engine_kwargs["connect_args"] = {"timeout": SQLITE_LOCK_TIMEOUT_S}
    else:
        engine_kwargs["pool_pre_ping"] = True
    for attempt in range(2):
        try:
            storage = RDBStorage(url, engine_kwargs=engine_kwargs)
        except SQLAlchemyError as exc:
            # two workers starting at once may race creating optuna's tables: retry once
            if attempt == 0 and not isinstance(exc, OperationalError):
                time.sleep(0.5)
                continue
            raise OptimizeInputError(f"cannot open the study storage: {_first(exc)}") from None
        except (ImportError, ValueError) as exc:
            raise OptimizeInputError(f"cannot open the study storage: {_first(exc)}") from None
        if parsed.get_backend_name() == "sqlite":
            _fast_sqlite(storage)
        return storage
    raise AssertionError("unreachable")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _fast_sqlite(storage: RDBStorage) -> None:
    """WAL and ``synchronous=NORMAL``: a trial is about ten commits, and with the default
    rollback journal each one waits for a full fsync (most of a trial's time on one month of
    data); WAL also lets one worker read while another writes. A crash can lose the last
    trials, never corrupt the file."""
    event.listen(storage.engine, "connect", _sqlite_pragmas)
    storage.engine.dispose()  # connections opened while creating the tables lack the pragmas


@contextmanager
def storage_at(url: str) -> Iterator[RDBStorage]:
    """``open_storage`` whose connections are closed on exit (no pooled socket left behind)."""
    storage = open_storage(url)
    try:
        yield storage
    finally:
        storage.remove_session()
        storage.engine.dispose()


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def prepare_study(storage: RDBStorage, name: str, setup: Mapping[str, object]) -> optuna.Study:
    """Create study ``name`` (maximize) or join it; a study made for another setup is refused."""
    study = optuna.create_study(
        storage=storage, study_name=name, direction="maximize", load_if_exists=True
    )
    wanted = json.loads(json.dumps(setup, sort_keys=True))
    found = study.user_attrs.get(SETUP_ATTR)
    if found is None:
        study.set_user_attr(SETUP_ATTR, wanted)
    elif found != wanted:
        diff = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        raise OptimizeInputError(
            f"study {name!r} was created for another setup (differs in: {', '.join(diff)}); "
            "use another --study name or the same options"
        )
    return study
