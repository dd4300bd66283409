"""The build is strict: a failing cell or a Sphinx warning fails it, and a rebuild shows it again.
It writes no tracked file (it only checks _toc.yml) and tells the kernels where the data is."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tinybook

from tools import build as book_build
from tools import coursegen


def make_book(tmp: Path, root: Path, body: str) -> Path:
    return tinybook.make_book(tmp, root, {"page": body})


def build(book: Path, root: Path) -> subprocess.CompletedProcess:
    return tinybook.build(book, root)


FAILING = """
# A page that fails

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
raise ValueError("the-failing-cell-" + str(x))
```
"""


@pytest.mark.build
@pytest.mark.slow
def test_failing_cell_fails_the_build_and_is_shown_on_every_rebuild(tmp_path, root):
    book = make_book(tmp_path, root, FAILING)
    for attempt in ("clean build", "rebuild"):
        proc = build(book, root)
        output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # drop colour codes
        assert proc.returncode != 0, f"{attempt} passed although a cell raises"
        assert 'raise ValueError("the-failing-cell-" + str(x))' in output, f"{attempt} did not show the cell"
        assert "ValueError: the-failing-cell-1" in output
        assert "BUILD FAILED" in output
        assert not (book / "out" / "html").exists(), "a failed build left a publishable site"


@pytest.mark.build
@pytest.mark.slow
def test_sphinx_warning_fails_the_build(tmp_path, root):
    book = make_book(tmp_path, root, "# A page\n\nSee {ref}`a-label-that-does-not-exist`.\n")
    proc = build(book, root)
    assert proc.returncode != 0
    assert "a-label-that-does-not-exist" in proc.stdout + proc.stderr


@pytest.mark.build
@pytest.mark.slow
def test_clean_page_builds(tmp_path, root):
    book = make_book(tmp_path, root, "# A page\n\n```{code-cell} ipython3\nassert 1 + 1 == 2\n```\n")
    proc = build(book, root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (book / "out" / "html" / "lectures" / "page.html").exists()


# ------------------------------------------------------------ no tracked file written


@pytest.fixture()
def course_root(tmp_path, root) -> Path:
    """A root holding a copy of course.yml and the _toc.yml that `make toc` writes from it."""
    shutil.copy(root / "course.yml", tmp_path / "course.yml")
    assert coursegen.main(["--course", str(tmp_path / "course.yml"), "--root", str(tmp_path), "--toc"]) == 0
    return tmp_path


def test_course_pages_and_toc_are_separate_steps(course_root):
    course = course_root / "course.yml"
    toc = course_root / "_toc.yml"
    before = toc.read_bytes()
    toc.write_text("stale\n")
    assert coursegen.main(["--course", str(course), "--root", str(course_root)]) == 0
    assert toc.read_text() == "stale\n", "generating the course pages rewrote the tracked _toc.yml"
    assert (course_root / "course" / "schedule.md").exists() and (course_root / "course" / "course.ics").exists()
    assert coursegen.main(["--course", str(course), "--root", str(course_root), "--toc"]) == 0
    assert toc.read_bytes() == before


def test_toc_is_current_follows_course_yml(course_root):
    course = course_root / "course.yml"
    assert book_build.toc_is_current(course, course_root)
    topic = coursegen.load_course(course)["plan"][0]["topic"]
    course.write_text(course.read_text().replace(f"topic: {topic}", "topic: A renamed first topic", 1))
    assert "A renamed first topic" in coursegen.render_toc(coursegen.load_course(course)), "the edit reaches the toc"
    assert not book_build.toc_is_current(course, course_root), "a course.yml edit makes _toc.yml stale"
    assert coursegen.main(["--course", str(course), "--root", str(course_root), "--toc"]) == 0
    assert book_build.toc_is_current(course, course_root)


def test_build_stops_naming_make_toc_when_the_toc_is_stale(course_root, monkeypatch, capsys):
    (course_root / "_toc.yml").write_text("format: jb-book\nroot: course/index\n")
    monkeypatch.setattr(book_build, "ROOT", course_root)
    pages = []
    monkeypatch.setattr(book_build.coursegen, "main", lambda argv: pages.append(argv) or 0)
    monkeypatch.setattr(book_build, "run_sphinx", lambda *a: pytest.fail("built with a stale _toc.yml"))
    status = book_build.main(["--profile", "quick", "--course", str(course_root / "course.yml")])
    assert status == 2 and pages, "the course pages come first, then the check"
    err = capsys.readouterr().err
    assert "make toc" in err and "_toc.yml" in err and len(err.strip().splitlines()) == 1


def test_the_build_passes_data_locations_and_the_plain_commit(root, monkeypatch):
    for var in ("BOOK_MINI_DATA_ROOT", "BOOK_DATA_ROOT", "BOOK_CHECKPOINT_DIR", "BOOK_COMMIT"):
        monkeypatch.delenv(var, raising=False)
    env = book_build.build_env(root, "quick")
    assert env["BOOK_PROFILE"] == "quick"
    assert env["BOOK_DATA_ROOT"] == str(root / "data")
    assert env["BOOK_CHECKPOINT_DIR"] == str(root / "checkpoints")
    mini = root.parent / "shared" / "data" / "mini"
    assert env.get("BOOK_MINI_DATA_ROOT") == (str(mini) if mini.is_dir() else None)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{12}", env["BOOK_COMMIT"]) and head.startswith(env["BOOK_COMMIT"])
    monkeypatch.setenv("BOOK_DATA_ROOT", "/elsewhere")
    assert book_build.build_env(root, "quick")["BOOK_DATA_ROOT"] == "/elsewhere", "the caller's setting wins"


def test_the_quick_profile_computes_on_one_thread_and_full_keeps_the_default(root, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert book_build.build_env(root, "quick")["OMP_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in book_build.build_env(root, "full")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert book_build.build_env(root, "quick")["OMP_NUM_THREADS"] == "2", "the caller's setting wins"
