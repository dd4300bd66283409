"""Print the build's speed targets: cold quick build, unchanged rebuild, prose-only edit, helpers edit.

Usage: `.venv/bin/python benchmarks/bench_build.py [--module data]` from the repository root.
Works on a fresh clone of HEAD beside the repository (so ../shared resolves as in CI) that
shares this .venv. Targets (issue: Colab, cache, report): cold build <= 10 min and <= 60 s per
lecture; unchanged rebuild <= 10 s with zero re-executions; prose-only edit <= 15 s with
zero re-executions; a helpers edit re-executes exactly the lectures importing that module.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.book_ext import helpers_closure, imported_helpers  # noqa: E402


def build(clone: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tools.build", "--profile", "quick"], cwd=clone,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed in {clone}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, json.loads((clone / "_build" / "quick" / "execution-report.json").read_text())


def executed(report: dict) -> list[str]:
    return sorted(n["source"] for n in report["notebooks"] if n["method"] == "executed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="data", help="the helpers module to edit (default: data)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT.parent, prefix="bench-build-") as tmp:
        clone = Path(tmp)
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shutil.copytree(ROOT / "_vendor", clone / "_vendor")

        seconds, report = build(clone)
        print(f"cold quick build:         {seconds:6.1f} s  (target <= 600 s)  executed {len(executed(report))}")
        print(f"  {'lecture':45} {'seconds':>8} {'budget':>7}")
        for n in report["notebooks"]:
            flag = "  OVER BUDGET" if n["over_budget"] else ""
            print(f"  {n['source']:45} {n['seconds']:8.1f} {n['budget_seconds']:7.0f}{flag}")

        seconds, report = build(clone)
        print(f"unchanged rebuild:        {seconds:6.1f} s  (target <= 10 s)   re-executed {executed(report)}")

        lecture = clone / "lectures" / "optimization-sgd.md"
        text = lecture.read_text()
        marker = "## Overview\n"
        lecture.write_text(text.replace(marker, marker + "\nA sentence added by the benchmark.\n", 1))
        seconds, report = build(clone)
        print(f"prose-only edit:          {seconds:6.1f} s  (target <= 15 s)   re-executed {executed(report)}")

        module = clone / "src" / "helpers" / f"{args.module}.py"
        package = module.parent
        expected = sorted(
            n["source"] for n in report["notebooks"]
            if args.module in helpers_closure(imported_helpers((clone / n["source"]).read_text(), package), package)
        )
        module.write_text(module.read_text() + "\n# edited by the benchmark\n")
        seconds, report = build(clone)
        got = executed(report)
        verdict = "exactly the importers" if got == expected else f"MISMATCH, expected {expected}"
        print(f"helpers edit ({args.module}.py): {seconds:6.1f} s  re-executed {got}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
