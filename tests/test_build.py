"""The build is strict: a failing cell or a Sphinx warning fails it, and a rebuild shows it again."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

HEADER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""


def make_book(tmp: Path, root: Path, body: str) -> Path:
    """A one-page book with the project's own _config.yml and static files."""
    book = tmp / "book"
    book.mkdir()
    shutil.copy(root / "_config.yml", book / "_config.yml")
    (book / "_static").symlink_to(root / "_static")
    (book / "_vendor").symlink_to(root / "_vendor")
    (book / "_toc.yml").write_text("format: jb-book\nroot: lectures/page\n")
    (book / "lectures").mkdir()
    (book / "lectures" / "page.md").write_text(HEADER + textwrap.dedent(body))
    return book


def build(book: Path, root: Path) -> subprocess.CompletedProcess:
    code = ("import sys; from pathlib import Path; from tools.build import run_sphinx; "
            f"sys.exit(run_sphinx(Path({str(book)!r}), Path({str(book / 'out')!r}), 'quick'))")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)


FAILING = """
# A page that fails

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
raise ValueError("the-failing-cell-" + str(x))
```
"""


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


def test_sphinx_warning_fails_the_build(tmp_path, root):
    book = make_book(tmp_path, root, "# A page\n\nSee {ref}`a-label-that-does-not-exist`.\n")
    proc = build(book, root)
    assert proc.returncode != 0
    assert "a-label-that-does-not-exist" in proc.stdout + proc.stderr


def test_clean_page_builds(tmp_path, root):
    book = make_book(tmp_path, root, "# A page\n\n```{code-cell} ipython3\nassert 1 + 1 == 2\n```\n")
    proc = build(book, root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (book / "out" / "html" / "lectures" / "page.html").exists()
