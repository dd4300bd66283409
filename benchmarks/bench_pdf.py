"""Print what the PDF step adds to a cold quick build (target: at most 60 s on a 2-core machine).

Usage: `.venv/bin/python benchmarks/bench_pdf.py [--keep]` from the repository root. Works on a
fresh clone of HEAD beside the repository (as benchmarks/bench_build.py does): a cold quick build
of the HTML with `--no-pdf`, then `python -m tools.pdf` on it, timed alone. It prints the wall
time, the CPU seconds of the step's processes and the load average, since on a shared machine
the wall time mostly measures the other work. `--keep` leaves the clone, whose
_build/quick/html can be tested with BOOK_SITE_DIR=... pytest tests/test_pdf.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone and print where it is")
    args = parser.parse_args()
    clone = Path(tempfile.mkdtemp(dir=ROOT.parent, prefix="bench-pdf-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shutil.copytree(ROOT / "_vendor", clone / "_vendor")
        html = run([sys.executable, "-m", "tools.build", "--profile", "quick", "--no-pdf"], clone)
        print(f"cold quick build, HTML only: {html:6.1f} s")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        seconds = run([sys.executable, "-m", "tools.pdf", "--profile", "quick"], clone)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        pdfs = sorted((clone / "_build" / "quick" / "pdf").glob("*.pdf"))
        print(f"PDF step:                    {seconds:6.1f} s  (target <= 60 s)  {len(pdfs)} PDFs, "
              f"{cpu:.0f} CPU s reaped, load average {load:.1f} on {os.cpu_count()} cores")
        if args.keep:
            print(f"kept: BOOK_SITE_DIR={clone / '_build' / 'quick' / 'html'}")
    finally:
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
