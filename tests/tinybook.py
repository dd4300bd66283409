"""A tiny book with the project's own configuration, for end-to-end tests of the build."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

HEADER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""


def make_book(folder: Path, root: Path, pages: dict[str, str]) -> Path:
    """A book in `folder` whose lectures are `pages` ({name: MyST body}), the first being the root."""
    book = folder / "book"
    (book / "lectures").mkdir(parents=True)
    (book / "_config.yml").write_text((root / "_config.yml").read_text())
    (book / "_static").symlink_to(root / "_static")
    (book / "_vendor").symlink_to(root / "_vendor")
    first, *rest = pages
    chapters = "".join(f"  - file: lectures/{name}\n" for name in rest)
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: lectures/{first}\n"
                                   + (f"chapters:\n{chapters}" if rest else ""))
    for name, body in pages.items():
        (book / "lectures" / f"{name}.md").write_text(HEADER + textwrap.dedent(body))
    return book


def build(book: Path, root: Path, **env: str) -> subprocess.CompletedProcess:
    """Build `book` into `book/out` with tools.build.run_sphinx (quick profile)."""
    code = ("import sys; from pathlib import Path; from tools.build import run_sphinx; "
            f"sys.exit(run_sphinx(Path({str(book)!r}), Path({str(book / 'out')!r}), 'quick'))")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)
