"""Print the foundation's targets: Week 1 in the quick profile, and `make book` with the environment built.

Usage: `.venv/bin/python benchmarks/bench_foundation.py` from the repository root.
Targets (issue: foundation): Week 1 quick <= 60 s; `make book` on a clean clone with
the environment already built <= 120 s. The second is measured on a fresh clone of
HEAD beside the repository, sharing this .venv, so nothing cached is reused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.execute import execute_lecture  # noqa: E402


def main() -> int:
    week1 = execute_lecture(ROOT / "lectures" / "optimization-sgd.md", "quick")
    print(f"Week 1, quick profile, executed alone: {week1.seconds:6.1f} s  (target <= 60 s)  ok={week1.ok}")

    with tempfile.TemporaryDirectory(dir=ROOT.parent) as tmp:
        clone = Path(tmp)  # beside the repository, so ../shared resolves as in CI
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        (clone / ".venv").symlink_to(ROOT / ".venv")
        # The clone's stamp must look up to date so that `make` reuses the environment.
        for name in ("requirements.txt", "pyproject.toml"):
            os.utime(clone / name, (0, 0))
        shutil.copytree(ROOT / "_vendor", clone / "_vendor")
        start = time.perf_counter()
        proc = subprocess.run(["make", "book"], cwd=clone, capture_output=True, text=True,
                              env={**os.environ, "BOOK_PROFILE": "quick"})
        seconds = time.perf_counter() - start
    print(f"make book, clean clone, env built:     {seconds:6.1f} s  (target <= 120 s)  rc={proc.returncode}")
    return 0 if week1.ok and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
