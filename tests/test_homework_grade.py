"""Grading: the solutions score 100 %, the stubs 0, and a bad submission gets a clear result, never a hang."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from tools.homework import scan
from tools.homework.derive import derive
from tools.homework.grade import Limits, grade_submission, load_spec, summary, write_results

TINY = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# Tiny

```{code-cell} ipython3
factor = 2
```

```{code-cell} ipython3
def double(x):
    # BEGIN SOLUTION
    return factor * x
    # END SOLUTION

pytestmark = pytest.mark.slow  # each grading starts sandboxes and interpreters


def triple(x):
    # BEGIN SOLUTION
    return 3 * x
    # END SOLUTION
```

```{code-cell} ipython3
:tags: [public-test]

# TEST q1 (1 point)
assert double(1) == 2
```

```{code-cell} ipython3
:tags: [hidden-test]

# TEST q1 (2 points)
assert double(21) == 42, "double(21) should be 42"
```

```{code-cell} ipython3
:tags: [hidden-test]

# TEST q2 (3 points)
assert triple(5) == 15
```
"""
FAST = Limits(time_limit=40, cell_timeout=3, grace=5)
GOOD = "def double(x):\n    return factor * x\n\n\ndef triple(x):\n    return 3 * x\n"
STUBBORN = "import time\n\nwhile True:\n    try:\n        time.sleep(0.1)\n    except BaseException:\n        pass\n"


# ---------------------------------------------------------------- the real assignments


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    """Each assignment's solution notebook and derived student notebook, graded (two at a time)."""
    out = tmp_path_factory.mktemp("derived")
    jobs = []
    for source in scan.homework_sources(root):
        paths = derive(source, out / source.stem)
        spec = load_spec(source)
        jobs += [(source.stem, "solution", spec, paths["solution"]), (source.stem, "stub", spec, paths["student"])]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: grade_submission(job[2], job[3]), jobs))
    return {(name, kind): result for (name, kind, _, _), result in zip(jobs, results, strict=True)}


def test_every_solution_scores_full_marks(graded):
    for (name, kind), result in graded.items():
        if kind == "solution":
            assert result["status"] == "graded", (name, result["problems"])
            failed = [t for t in result["tests"] if t["status"] != "passed"]
            assert not failed and result["score"] == result["max_score"] > 0, (name, failed)


def test_every_stub_scores_zero_on_every_graded_test(graded):
    for (name, kind), result in graded.items():
        if kind == "stub":
            assert result["status"] == "graded", (name, result["problems"])
            assert result["score"] == 0
            graded_tests = [t for t in result["tests"] if t["points"] > 0]
            assert graded_tests and all(t["earned"] == 0 and t["status"] != "passed" for t in graded_tests), name


def test_each_assignment_grades_within_30_seconds(graded):
    # Two gradings share the 2-core CPU at a time here; alone, each takes well under this.
    for (name, kind), result in graded.items():
        assert result["elapsed_s"] < 45, (name, kind, result["elapsed_s"])


def test_questions_add_up(graded):
    for result in graded.values():
        assert result["max_score"] == sum(q["max_score"] for q in result["questions"].values())
        assert sum(t["points"] for t in result["tests"]) == result["max_score"]


# ---------------------------------------------------------------- bad submissions


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    source = folder / "tiny.md"
    source.write_text(TINY, encoding="utf-8")
    paths = derive(source, folder / "out")
    return load_spec(source), nbformat.read(paths["student"], as_version=4), folder


def submit(tiny, name: str, answer: str, drop: tuple[int, ...] = ()) -> dict:
    """Grade the tiny student notebook with `answer` in its answer cell and the cells `drop` deleted."""
    spec, student, folder = tiny
    nb = nbformat.from_dict(json.loads(nbformat.writes(student)))
    nb.cells[2].source = answer
    nb.cells = [cell for i, cell in enumerate(nb.cells) if i not in drop]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return grade_submission(spec, path, FAST)


def test_a_partial_submission_gets_per_question_points(tiny, tmp_path):
    result = submit(tiny, "partial", GOOD.replace("return 3 * x", "return x + x"))
    assert result["status"] == "graded" and result["score"] == 3 and result["max_score"] == 6
    assert result["questions"] == {"q1": {"score": 3, "max_score": 3}, "q2": {"score": 0, "max_score": 3}}
    failed = next(t for t in result["tests"] if t["question"] == "q2")
    assert failed["message"] == "AssertionError (line 2 of the test)" and failed["status"] == "failed"
    written = write_results([result], tmp_path)
    assert {p.name for p in written} == {"partial.json", "partial.txt", "scores.csv"}
    assert json.loads((tmp_path / "partial.json").read_text())["score"] == 3
    assert "Score: 3 / 6" in summary(result) and "q2" in (tmp_path / "scores.csv").read_text()


def test_a_cell_that_hangs_is_interrupted_and_grading_goes_on(tiny):
    result = submit(tiny, "hang", GOOD + "\nwhile True:\n    pass\n")
    assert result["status"] == "graded" and result["score"] == 6
    assert any("timed out" in p for p in result["problems"])


def test_a_cell_that_ignores_interrupts_is_killed_and_grading_goes_on(tiny):
    result = submit(tiny, "stubborn", GOOD + STUBBORN)
    assert result["status"] == "graded" and result["score"] == 0  # its definitions died with the kernel
    assert any("ignored the interrupt" in p for p in result["problems"])


def test_a_function_that_hangs_fails_only_its_tests(tiny):
    result = submit(tiny, "slow", GOOD.replace("return factor * x", "while True:\n        pass"))
    assert result["score"] == 3 and result["questions"]["q2"]["score"] == 3
    assert all("stopped after" in t["message"] for t in result["tests"] if t["question"] == "q1")


def test_a_submission_that_kills_the_kernel(tiny):
    result = submit(tiny, "exit", "import os\n\nos._exit(3)\n")
    assert result["status"] == "graded" and result["score"] == 0
    assert any("killed the kernel" in p for p in result["problems"])
    in_test = submit(tiny, "exit-in-test", GOOD.replace("return factor * x", "import os\n    os._exit(1)"))
    assert in_test["score"] == 3  # the kernel is restarted after the q1 tests, so q2 is still graded
    assert all("kernel died" in t["message"] for t in in_test["tests"] if t["question"] == "q1")


def test_deleted_cells_are_reported(tiny):
    result = submit(tiny, "deleted", GOOD, drop=(1,))
    assert result["status"] == "graded" and result["score"] == 3
    assert any("given code cell 1" in p and "missing" in p for p in result["problems"])
    no_answer = submit(tiny, "no-answer", GOOD, drop=(2,))
    assert no_answer["score"] == 0 and any("answer cell" in p for p in no_answer["problems"])


def test_the_wall_clock_limit_stops_a_submission(tiny):
    spec, student, folder = tiny
    nb = nbformat.from_dict(json.loads(nbformat.writes(student)))
    nb.cells[2].source = STUBBORN
    nbformat.write(nb, folder / "forever.ipynb")
    start = time.monotonic()
    result = grade_submission(spec, folder / "forever.ipynb", Limits(time_limit=4, cell_timeout=30, grace=0.5))
    assert time.monotonic() - start < 12
    assert result["status"] == "time-limit" and result["score"] == 0
    assert all(t["status"] == "not run" for t in result["tests"])
    assert "time limit" in summary(result)


@pytest.mark.parametrize("content", ["{not json", '{"cells": 3}', ""])
def test_a_file_that_is_not_a_notebook_is_invalid(tiny, tmp_path, content):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    result = grade_submission(tiny[0], path, FAST)
    assert result["status"] == "invalid" and result["score"] == 0
    assert "not a readable Jupyter notebook" in result["problems"][0]


def test_grade_from_the_command_line(tiny, tmp_path, root):
    spec, student, folder = tiny
    nbformat.write(student, tmp_path / "student.ipynb")
    proc = subprocess.run([sys.executable, "-m", "tools.homework", "grade", str(folder / "tiny.md"),
                           str(tmp_path / "student.ipynb"), str(tmp_path / "missing.ipynb"), "--out",
                           str(tmp_path / "grades"), "--cell-timeout", "5", "--time-limit", "30"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Score: 0 / 6" in proc.stdout and "status: invalid" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    rows = (tmp_path / "grades" / "scores.csv").read_text().splitlines()
    assert rows[0] == "submission,status,score,max_score,q1,q2" and len(rows) == 3
