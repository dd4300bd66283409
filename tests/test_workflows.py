"""The GitHub workflows: valid against the workflow schema, and doing what the book needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
