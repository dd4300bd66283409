"""Time to grade one HW1 submission (the solution): the old unsandboxed grader, and the sandboxed one.

Target: sandboxed at most 2x the old time. The old grader is the last commit that had
tools/homework/runner.py (a Jupyter kernel, the tests in the student's process), checked out
into a temporary folder; it grades the same notebook. Run from the repository root:

    .venv/bin/python benchmarks/bench_grade.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.homework.derive import derive  # noqa: E402
from tools.homework.grade import Limits, grade_submission, load_spec, mini_data_root  # noqa: E402

SOURCE = ROOT / "homework" / "hw1-gradients-sgd.md"
OLD_GRADE = """
import json, sys, time
from tools.homework.grade import grade_submission, load_spec
spec = load_spec(sys.argv[1])
start = time.monotonic()
result = grade_submission(spec, sys.argv[2])
print(json.dumps({"wall": time.monotonic() - start, "score": result["score"], "max": result["max_score"]}))
"""


def old_revision() -> str:
    """The last commit with the unsandboxed grader (the parent of the one that removed runner.py)."""
    removed = subprocess.run(["git", "log", "-1", "--format=%H", "--diff-filter=D", "--", "tools/homework/runner.py"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    if not removed:
        raise SystemExit("cannot find the old grader in the git history")
    return f"{removed}^"


def time_old(tmp: Path, notebook: Path, runs: int) -> list[float]:
    old = tmp / "old"
    old.mkdir()
    archive = subprocess.run(["git", "archive", old_revision(), "tools"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    env = dict(os.environ, PYTHONPATH=str(old), BOOK_MINI_DATA_ROOT=str(mini_data_root()))
    times = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", OLD_GRADE, str(SOURCE), str(notebook)], cwd=old, env=env,
                              capture_output=True, text=True, check=True)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["score"] == out["max"], out
        times.append(out["wall"])
    return times


def time_new(notebook: Path, runs: int, sandbox: bool) -> list[float]:
    spec, times = load_spec(SOURCE), []
    for _ in range(runs):
        start = time.monotonic()
        result = grade_submission(spec, notebook, Limits(sandbox=sandbox))
        times.append(time.monotonic() - start)
        assert result["score"] == result["max_score"], result["problems"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        notebook = derive(SOURCE, Path(tmp) / "hw1")["solution"]
        before = statistics.median(time_old(Path(tmp), notebook, args.runs))
        after = statistics.median(time_new(notebook, args.runs, sandbox=True))
        unsafe = statistics.median(time_new(notebook, args.runs, sandbox=False))
    print(f"grading one HW1 submission (median of {args.runs}, {os.cpu_count()} CPUs):")
    print(f"  before (unsandboxed, tests in the student's kernel): {before:6.2f} s")
    ratio = after / before
    print(f"  after  (bubblewrap sandbox, tests in the grader):    {after:6.2f} s   ({ratio:.2f}x; target <= 2x)")
    print(f"  after, --unsafe-no-sandbox:                          {unsafe:6.2f} s   ({unsafe / before:.2f}x)")


if __name__ == "__main__":
    main()
