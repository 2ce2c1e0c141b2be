"""Trials in parallel processes sharing one study: SQLite locally, PostgreSQL across machines."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from tests.optimize.conftest import BUNDLED
from trading.optimize import Objective, OptimizeSettings, build_space, optimize
from trading.optimize.storage import storage_at
from trading.optimize.worker import WORKER_ATTR
from trading.strategies import CandleFrame
from trading.strategies.ma_cross import MaCross

TO = "2018-01-26T14:08"  # 5,760 complete minutes of the bundled file


def _settings(
    url: str, spec: dict[str, Any], study: str, trials: int, jobs: int
) -> OptimizeSettings:
    return OptimizeSettings(
        strategy="ma_cross",
        space=build_space(MaCross, {"kind": "sma"}, {"fast": "3:30", "slow": "31:120"}),
        objective=Objective("sortino", min_trades=1),
        spec=spec,
        storage=url,
        study=study,
        trials=trials,
        jobs=jobs,
        seed=3,
    )


def _workers(url: str, study: str) -> dict[str, int]:
    with storage_at(url) as storage:
        trials = optuna.load_study(study_name=study, storage=storage).get_trials()
    counts: dict[str, int] = {}
    for t in trials:
        assert t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        tag = str(t.user_attrs[WORKER_ATTR])
        counts[tag] = counts.get(tag, 0) + 1
    return counts


def _delete(url: str, study: str) -> None:
    with storage_at(url) as storage:
        optuna.delete_study(study_name=study, storage=storage)


@pytest.mark.slow
def test_two_jobs_share_one_sqlite_study(
    frame: CandleFrame, spec_fields: dict[str, Any], sqlite_url: str
) -> None:
    seen: list[int] = []
    result = optimize(
        _settings(sqlite_url, spec_fields, "jobs2", trials=9, jobs=2),
        {"KRW-BTC": frame},
        progress=seen.append,
    )
    counts = _workers(sqlite_url, "jobs2")
    assert sum(counts.values()) == 9  # total = requested, not 2 x 9
    assert sorted(counts.values()) == [4, 5]  # both workers contributed their share
    assert len({tag.split(":")[1] for tag in counts}) == 2  # two processes
    assert sum(seen) == 9  # the progress bar saw every trial
    assert result.folds[0].trials.complete + result.folds[0].trials.pruned == 9


@pytest.mark.slow
@pytest.mark.postgres
def test_two_jobs_share_one_postgresql_study(
    frame: CandleFrame, spec_fields: dict[str, Any], pg_database: str
) -> None:
    study = f"test-{uuid.uuid4().hex[:10]}"
    try:
        optimize(_settings(pg_database, spec_fields, study, trials=6, jobs=2), {"KRW-BTC": frame})
        counts = _workers(pg_database, study)
        assert sum(counts.values()) == 6
        assert len(counts) == 2
    finally:
        _delete(pg_database, study)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_machines_join_one_postgresql_study(
    pg_database: str, off_config: Path, tmp_path: Path
) -> None:
    """Two independent `upbit-bot optimize` processes, as on two machines, one study."""
    study = f"test-{uuid.uuid4().hex[:10]}"
    common = [
        sys.executable, "-m", "bot", "optimize", "--config", str(off_config),
        "--data", str(BUNDLED), "--to", TO, "--space", "fast=3:30", "--space", "slow=31:120",
        "--min-trades", "1", "--trials", "4", "--storage", pg_database, "--study", study,
        "--json", "--quiet",
    ]  # fmt: skip
    (tmp_path / "empty.env").write_text("")
    try:
        procs = [
            subprocess.Popen(
                [*common, "--seed", str(seed)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={"UPBIT_BOT_ENV_FILE": str(tmp_path / "empty.env"), "PATH": ""},
                cwd=tmp_path,
            )
            for seed in (1, 2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
            summary = json.loads(out)
            assert summary["studies"] == [study]
            assert summary["storage"] == pg_database
        counts = _workers(pg_database, study)
        assert sum(counts.values()) == 8
        assert sorted(counts.values()) == [4, 4]
    finally:
        _delete(pg_database, study)
