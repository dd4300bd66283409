"""Deriving the student notebook, the solution notebook and the autograder tests from a homework source."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import nbformat
import pytest

from tools.homework import scan
from tools.homework.derive import STUB_TEXT, derive, student_notebook
from tools.homework.source import read_assignment

FRONT = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# Images in solutions
"""
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
IMAGES = f"""
Explain the figure.

<!-- BEGIN SOLUTION -->
The answer is this picture, pasted in: ![my plot](data:image/png;base64,{PIXEL})
and a file: ![saved plot](solution-plot.png)
<!-- END SOLUTION -->

+++ {{"tags": ["solution"]}}

A whole written answer with <img src="solution-plot.png" alt="plot"> an HTML image.

+++

```{{code-cell}} ipython3
def square(x):
    # BEGIN SOLUTION
    return x * x  # the squaring secret
    # END SOLUTION
```

```{{code-cell}} ipython3
:tags: [hidden-test]

# TEST q1 (2 points)
assert square(3) == 9, "hidden check of square at three"
```
"""


@pytest.fixture(scope="module")
def sources(root):
    return scan.homework_sources(root)


def test_the_assignment_sources(sources):
    assert [p.name for p in sources] == ["hw1-gradients-sgd.md", "hw2-logistic-regression.md", "hw3-softmax-mlp.md",
                                         "hw4-conv-backprop-init.md",
                                         "hw5-optimizers-batchnorm-architectures.md", "hw6-flows.md"]


def test_student_notebooks_are_clean(sources):
    for source in sources:
        assignment = read_assignment(source)
        nb = student_notebook(assignment)
        nbformat.validate(nb)
        assert set(nb.metadata) == {"kernelspec", "language_info", "homework"}
        assert nb.metadata.homework == {"assignment": assignment.name}
        for cell in nb.cells:
            assert "attachments" not in cell
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
            assert cell.metadata in ({}, {"deletable": False, "editable": False})
            assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        text = "\n".join(cell.source for cell in nb.cells)
        hidden = [c for c in assignment.cells if c.role == "hidden-test"]
        assert hidden and not any(c.source in text for c in hidden)
        stubs = sum(c.source.count("raise NotImplementedError") for c in nb.cells if c.cell_type == "code")
        answers = sum(len(c.regions) or c.role == "solution" for c in assignment.cells if c.kind == "code")
        assert stubs == answers > 0
        # no line of a solution region or hidden test, however it is spaced
        hay = f" {scan.words(text)} "
        assert not [s for s in scan.collect([source]).lines if f" {s.words} " in hay]


def test_derive_writes_three_files_and_is_idempotent(tmp_path, sources):
    for source in sources:
        first = derive(source, tmp_path / "a")
        bytes_first = {k: p.read_bytes() for k, p in first.items()}
        mtimes = {k: p.stat().st_mtime_ns for k, p in first.items()}
        again = derive(source, tmp_path / "a")
        assert {k: p.read_bytes() for k, p in again.items()} == bytes_first
        assert {k: p.stat().st_mtime_ns for k, p in again.items()} == mtimes  # nothing rewritten
        elsewhere = derive(source, tmp_path / "b")  # no path or time in the output
        assert {k: p.read_bytes() for k, p in elsewhere.items()} == bytes_first


def test_derive_from_the_command_line_twice_gives_identical_files(tmp_path, root):
    source = root / "homework" / "hw1-gradients-sgd.md"
    outputs = []
    for run in ("one", "two"):
        proc = subprocess.run([sys.executable, "-m", "tools.homework", "derive", str(source), "--out",
                               str(tmp_path / run)], cwd=root, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.append({p.relative_to(tmp_path / run): p.read_bytes() for p in (tmp_path / run).rglob("*")
                        if p.is_file()})
    assert outputs[0] == outputs[1]
    assert set(map(str, outputs[0])) == {"student/hw1-gradients-sgd.ipynb", "autograder/tests.json",
                                         "solution/hw1-gradients-sgd-solution.ipynb"}


def test_solution_notebook_and_autograder_spec(tmp_path, root):
    paths = derive(root / "homework" / "hw2-logistic-regression.md", tmp_path)
    solution = nbformat.read(paths["solution"], as_version=4)
    assert not any("BEGIN SOLUTION" in c.source or "END SOLUTION" in c.source for c in solution.cells)
    assert any("torch.log1p" in c.source for c in solution.cells)
    spec = json.loads(paths["autograder"].read_text())
    assert spec["assignment"] == "hw2-logistic-regression"
    assert {t["visibility"] for t in spec["tests"]} == {"hidden", "public"}
    assert all(t["source"].startswith(f"# TEST {t['question']} (") for t in spec["tests"])
    assert sum(t["points"] for t in spec["tests"]) == 14
    assert {t["role"] for t in spec["template"]} == {"given", "answer", "public-test"}
    student = nbformat.read(paths["student"], as_version=4)
    assert [t["id"] for t in spec["template"]] == [c.id for c in student.cells if c.cell_type == "code"]


def test_images_in_written_solutions_are_stripped(tmp_path):
    (tmp_path / "solution-plot.png").write_bytes(b"\x89PNG fake plot bytes")
    source = tmp_path / "hw-images.md"
    source.write_text(FRONT + IMAGES, encoding="utf-8")
    paths = derive(source, tmp_path / "out")
    raw = paths["student"].read_text()
    for secret in (PIXEL, "data:image", "solution-plot.png", "<img", "squaring secret", "hidden check",
                   "attachment", "image/png"):
        assert secret not in raw, secret
    nb = nbformat.reads(raw, as_version=4)
    assert [c.source for c in nb.cells if c.cell_type == "markdown"][1:] == [STUB_TEXT]
    assert STUB_TEXT in nb.cells[0].source
    found = scan.collect([source])
    assert len(found.images) == 1  # the saved plot, by its bytes


def test_the_solution_notebooks_are_ruff_clean(tmp_path, root, sources):
    ruff = root / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is installed in .venv by `make`")
    notebooks = [derive(source, tmp_path / source.stem)["solution"] for source in sources]
    # As for lectures: imports sit in the setup cell, and a cell may end with a bare expression.
    proc = subprocess.run([str(ruff), "check", "--ignore", "E402,B018", *map(str, notebooks)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout


def test_assignments_load_mnist_through_helpers_and_colab_gets_the_configured_repository(sources, root):
    """No assignment carries its own MNIST reader or guesses the repository layout; the Colab
    install line names the repository of _config.yml, filled in by derive."""
    from tools.homework.derive import REPOSITORY_TOKEN, repository_url

    url = repository_url(root)
    assert url.startswith("https://")
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for copy in ("def read_idx", "def find_mini_mnist", "Path.cwd()", "__file__"):
            assert copy not in text, (source.name, copy)
        if "load_mnist" in text:
            assert "from helpers.data import load_mnist" in text, source.name
            cells = student_notebook(read_assignment(source)).cells
            code = "\n".join(c.source for c in cells if c.cell_type == "code")
            assert REPOSITORY_TOKEN not in code and f"git+{url}" in code, source.name
