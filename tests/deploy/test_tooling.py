"""Developer tooling: the GitHub Actions workflow mirrors .ci/run, and pre-commit runs the
same linters as `make lint` from the project's venv."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.deploy.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def _workflow() -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict)
    # YAML 1.1 reads the key `on` as the boolean true
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _ci_run_command() -> str:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return lines[-1]


def _runs(job: dict) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9_-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_workflow_runs_the_same_test_command_as_ci_run():
    test = _workflow()["jobs"]["test"]
    assert _ci_run_command() == "make test"
    assert _ci_run_command() in _runs(test)
    assert "make lint" in _runs(test)
    assert {"test", "lint"} <= _makefile_targets()
    assert test["runs-on"] == "ubuntu-latest"
    (python,) = [s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    assert str(python["with"]["python-version"]) == "3.11"


def test_workflow_requires_postgres_and_the_browser_like_ci_run():
    test = _workflow()["jobs"]["test"]
    ci_run = (ROOT / ".ci" / "run").read_text()
    for name in ("REQUIRE_POSTGRES_TESTS", "REQUIRE_BROWSER_TESTS"):
        assert f"export {name}=1" in ci_run
        assert test["env"][name] == "1"
    pg = test["services"]["postgres"]
    assert pg["image"] == "postgres:15"
    assert pg["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_DB": "test"}
    assert "5432:5432" in pg["ports"]
    chromium = next(s for s in test["steps"] if s.get("id") == "chromium")
    assert chromium["uses"].startswith("browser-actions/setup-chrome@")
    path = "${{ steps.chromium.outputs.chrome-path }}"
    assert any(f"CHROMIUM={path}" in r for r in _runs(test))
    # tests/http/browser.py looks for `chromium` on PATH, like .ci/run installs it
    assert "command -v chromium" in ci_run
    assert any(f'ln -sf "{path}" /usr/local/bin/chromium' in r for r in _runs(test))
    steps = [s.get("name", s.get("uses", "")) for s in test["steps"]]
    assert steps.index("Install Chromium") < steps.index("Test")


def test_image_job_builds_and_pushes_only_on_tags():
    wf = _workflow()
    assert set(wf["on"]["push"]["tags"]) == {"v*"}
    image = wf["jobs"]["image"]
    assert image["needs"] == "test"
    builds = [
        s for s in image["steps"] if s.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert builds
    for step in builds:
        pushes = step["with"].get("push", False)
        if pushes is not False:
            assert "refs/tags/" in step.get("if", "")
            assert "refs/tags/" in str(pushes)
    assert any("State.Health.Status" in r for r in _runs(image))  # the HEALTHCHECK is used
    login = next(s for s in image["steps"] if s.get("uses", "").startswith("docker/login-action"))
    assert "refs/tags/" in login["if"]


def test_every_action_is_pinned_to_a_version():
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.search(r"@v\d+|@[0-9a-f]{40}$", step["uses"]), step["uses"]


def _hooks() -> dict[str, dict]:
    cfg = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {
        hook["id"]: {**hook, "repo": repo["repo"]}
        for repo in cfg["repos"]
        for hook in repo["hooks"]
    }


def test_pre_commit_runs_the_linters_of_make_lint_from_the_venv():
    hooks = _hooks()
    lint = re.search(r"^lint:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert lint is not None
    wanted = {
        "ruff-check": "ruff check",
        "ruff-format": "ruff format",
        "mypy": "mypy",
        "lint-imports": "lint-imports",
    }
    for hook_id, tool in wanted.items():
        hook = hooks[hook_id]
        assert hook["repo"] == "local", hook_id
        assert hook["language"] == "system", hook_id
        assert hook["entry"].startswith(f".venv/bin/{tool}"), hook_id
        assert f"$(BIN)/{tool}" in lint.group(1), f"make lint does not run {tool}"
        exe = ROOT / hook["entry"].split()[0]
        assert exe.exists(), f"{exe} missing: the hook could not run"
    assert hooks["mypy"]["pass_filenames"] is False  # the whole packages, like make lint


def test_pre_commit_accepts_its_config():
    exe = Path(sys.executable).parent / "pre-commit"  # a dev dependency
    result = subprocess.run(
        [str(exe), "validate-config", str(ROOT / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
