"""The build is strict: a failing cell or a Sphinx warning fails it, and a rebuild shows it again."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import tinybook

pytestmark = pytest.mark.build



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
