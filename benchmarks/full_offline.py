"""Build the whole book in the full profile on a GPU machine without internet, and print each
lecture's time against its full budget.

Usage (on the GPU machine, from the repository root, with `.venv` set up):

    .venv/bin/python benchmarks/full_offline.py            # builds, then prints the table
    .venv/bin/python benchmarks/full_offline.py --report-only

It sets `BOOK_PROFILE=full` and `BOOK_DATA=offline`: real datasets are used where they lie
under `BOOK_DATA_ROOT` (default `./data`), and the labelled stand-ins otherwise (the mini
MNIST set beside the checkout, the synthetic CIFAR-10), at full model size and schedule.
Every page's provenance note and every printed number name the data used, and the
stand-ins' gates apply. The exit status is the build's (1 if any lecture is over budget).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "_build" / "full" / "execution-report.json"


def table(report: dict) -> tuple[list[str], int]:
    """Lines of the time table, and the number of lectures over budget or failed."""
    lines = [f"profile {report['profile']}, device {report['device']}, commit {report['commit']}",
             f"{'lecture':46}{'status':>8}{'run':>10}{'seconds':>10}{'budget':>8}  within"]
    bad = 0
    for row in report["notebooks"]:
        seconds = row["seconds"]
        within = "n/a" if seconds is None else ("OVER" if row["over_budget"] else "yes")
        bad += row["status"] != "ok" or row["over_budget"]
        shown = "-" if seconds is None else f"{seconds:.1f}"
        lines.append(f"{row['source']:46}{row['status']:>8}{row['method']:>10}{shown:>10}"
                     f"{row['budget_seconds']:>8.0f}  {within}")
    return lines, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true", help="print the last full build's table")
    args = parser.parse_args(argv)
    status = 0
    if not args.report_only:
        env = {**os.environ, "BOOK_PROFILE": "full", "BOOK_DATA": "offline"}
        status = subprocess.run([sys.executable, "-m", "tools.build", "--profile", "full"], cwd=ROOT,
                                env=env).returncode
    if not REPORT.exists():
        print(f"no report at {REPORT}: the build did not get as far as executing", file=sys.stderr)
        return status or 1
    lines, bad = table(json.loads(REPORT.read_text(encoding="utf-8")))
    print("\n".join(lines))
    return status or (1 if bad else 0)


if __name__ == "__main__":
    sys.exit(main())
