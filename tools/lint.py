"""Lint the project with ruff: src/, tests/, tools/, benchmarks/ and every lecture's code cells.

Usage: `python -m tools.lint`. Lecture notebooks are converted with jupytext to
_build/lint/*.ipynb and checked there, so reported cell numbers match the lecture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parent.parent
PY_DIRS = ("src", "tests", "tools", "benchmarks")
NOTEBOOK_DIRS = ("lectures",)
LECTURE_LINE_LENGTH = 79


def export_notebooks(out: Path) -> list[Path]:
    """Write each lecture as an .ipynb under `out` (for ruff) and return the paths."""
    shutil.rmtree(out, ignore_errors=True)
    paths = []
    for folder in NOTEBOOK_DIRS:
        for source in sorted((ROOT / folder).glob("*.md")):
            target = out / folder / source.with_suffix(".ipynb").name
            target.parent.mkdir(parents=True, exist_ok=True)
            jupytext.write(jupytext.read(source), target)
            paths.append(target)
    return paths


def main() -> int:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    targets = [str(ROOT / d) for d in PY_DIRS if (ROOT / d).exists()]
    status = subprocess.run([ruff, "check", *targets], cwd=ROOT).returncode
    notebooks = export_notebooks(ROOT / "_build" / "lint")
    if notebooks:
        # Lecture cells: imports live in the one import cell and figures display bare; lines
        # wrap at 79 characters, what the page's code column and a printed page show.
        cmd = [ruff, "check", "--line-length", str(LECTURE_LINE_LENGTH), "--ignore", "E402,B018",
               *map(str, notebooks)]
        status |= subprocess.run(cmd, cwd=ROOT).returncode
    print("lint: ok" if status == 0 else "lint: FAILED (see above)")
    return status


if __name__ == "__main__":
    sys.exit(main())
