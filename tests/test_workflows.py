"""The GitHub workflows: valid against the workflow schema, doing what the book needs, and
runnable: the PR workflow's `run:` steps are run in order in a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.env_hash import env_hash

WORKFLOWS = ("pr.yml", "book.yml")


def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert found, "check-jsonschema is missing from .venv: run `make` to set up the environment"
    return found


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True)


def load(root: Path, name: str) -> dict:
    # PyYAML reads the key `on` as True; workflows use it as a string.
    data = yaml.safe_load((root / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_workflows_match_the_github_schema(root):
    proc = validate(*(root / ".github" / "workflows" / name for name in WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  test:\n    steps: []\n")  # no runs-on
    assert validate(bad).returncode != 0


def test_pr_checks_run_make_test_in_the_quick_profile(root):
    wf = load(root, "pr.yml")
    assert "pull_request" in wf["on"]
    job = wf["jobs"]["test"]
    assert job["env"]["BOOK_PROFILE"] == "quick"
    assert any(step.get("run") == "make test" for step in job["steps"])


def test_full_build_runs_weekly_on_a_configurable_gpu_runner(root):
    wf = load(root, "book.yml")
    assert "schedule" in wf["on"] and "workflow_dispatch" in wf["on"]
    build = wf["jobs"]["build"]
    assert "vars.GPU_RUNNER_LABELS" in build["runs-on"]
    assert build["env"]["BOOK_PROFILE"] == "full"
    steps = build["steps"]
    assert any(s.get("uses", "").startswith("actions/cache") and ".jupyter_cache" in s["with"]["path"]
               for s in steps)
    report = [s for s in steps if "execution-report" in str(s.get("with", {}))]
    assert report and report[0]["if"] == "failure()"


def test_publish_pushes_notebooks_to_the_colab_branch_of_the_config(root):
    wf = load(root, "book.yml")
    publish = wf["jobs"]["publish"]
    assert publish["needs"] == "build"
    script = " ".join(s.get("run", "") for s in publish["steps"])
    assert "book_colab_branch" in script and "git push" in script
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in publish["steps"])
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["sphinx"]["config"]["book_colab_branch"]


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflows_pin_action_major_versions(root, name):
    for job in load(root, name)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert "@v" in step["uses"], step["uses"]


# ------------------------------------------------------------ the PR workflow's steps, in order


def run_steps(root: Path) -> list[str]:
    return [step["run"] for step in load(root, "pr.yml")["jobs"]["test"]["steps"] if "run" in step]


def test_nothing_uses_python_before_make_env_creates_the_venv(root):
    steps = [s.strip() for s in run_steps(root)]
    assert "make env" in steps, "the PR workflow must create .venv with `make env`"
    first = steps.index("make env")
    for step in steps[:first]:
        # The runner's own Python has no torch: before .venv, no step may run Python or use .venv.
        assert not re.search(r"\bpython|\.venv|pip\b|pytest", step), f"runs before `make env`: {step!r}"
    for step in steps[first + 1:]:
        for call in re.findall(r"(\S*python3?)\b", step):
            assert call == ".venv/bin/python", f"{step!r} runs {call}, not .venv/bin/python"
    assert any("make_mini_mnist.py ../shared/data/mini" in s for s in steps[first + 1:])
    assert steps[-1] == "make test", "the suite runs last, once the mini set is in place"


def test_publish_refuses_notebooks_that_pin_a_commit_without_the_helpers_that_ran(root, tmp_path):
    steps = load(root, "book.yml")["jobs"]["publish"]["steps"]
    [refuse] = [i for i, s in enumerate(steps) if "UNPUBLISHABLE" in s.get("run", "")]
    deploy = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/deploy-pages"))
    push = next(i for i, s in enumerate(steps) if "git push" in s.get("run", ""))
    download = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/download-artifact"))
    assert download < refuse < deploy < push, "the check must come before anything is published"
    script = steps[refuse]["run"]
    (tmp_path / "colab-notebooks").mkdir()

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True)

    assert run().returncode == 0
    (tmp_path / "colab-notebooks" / "UNPUBLISHABLE").write_text("src/helpers has uncommitted changes\n")
    refused = run()
    assert refused.returncode != 0
    assert "::error::" in refused.stdout and "uncommitted changes" in refused.stdout


@pytest.mark.slow
def test_pr_workflow_steps_run_in_order_in_a_fresh_clone(root, tmp_path):
    """Every `run:` step of pr.yml, in order, in a clone of HEAD, as the runner would (bash -eo
    pipefail, the job's env), except `make test` itself: this test is part of that suite, so
    running it would recurse. The `uses:` steps are stood in for: checkout by the clone,
    setup-python by the Python that made .venv. It runs offline: the existing .venv and MathJax
    are linked in (the venv's stamp matches, so `make env` installs nothing), and the mini set
    beside the clone links to ../shared/data/mini (so the mini-set step has nothing to do)."""
    venv_stamp = root / ".venv" / ".installed"
    mini = root.parent / "shared" / "data" / "mini"
    assert mini.is_dir(), f"the offline mini set is missing at {mini}"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True, capture_output=True)
    if env_hash(clone) != env_hash(root):
        pytest.skip("requirements.txt or pyproject.toml have uncommitted changes: a clone of HEAD needs another .venv")
    assert venv_stamp.exists() and venv_stamp.read_text().strip() == env_hash(clone), (
        ".venv is not what requirements.txt and pyproject.toml describe: run `make env`")
    (clone / ".venv").symlink_to(root / ".venv")
    (clone / "_vendor").symlink_to(root / "_vendor")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "mini").symlink_to(mini)

    job = load(clone, "pr.yml")["jobs"]["test"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "PYTEST_", "VIRTUAL_ENV"))}
    env.update({k: str(v) for k, v in job.get("env", {}).items()})
    stamp_before = venv_stamp.stat().st_mtime_ns
    ran = []
    for step in run_steps(clone):
        if step.strip() == "make test":
            continue  # this test runs inside `make test`
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", step], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, f"step {step!r} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        ran.append((step.strip(), proc.stdout + proc.stderr))
    steps = dict(ran)
    assert "make env" in steps and ".venv is up to date" in steps["make env"], steps.get("make env")
    assert venv_stamp.stat().st_mtime_ns == stamp_before, "make env rebuilt the environment"
    [mini_step] = [out for step, out in ran if "make_mini_mnist.py" in step]
    assert "already there" in mini_step
