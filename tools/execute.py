"""Execute MyST lecture notebooks outside the book build and time them.

Usage: `python -m tools.execute lectures/optimization-sgd.md [...] [--profile quick]`.
Prints one line per lecture (seconds, status) and, on failure, the failing cell.
Used by authors while writing, and by benchmarks/bench_lectures.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Execution:
    """The outcome of executing one lecture."""

    path: str
    profile: str
    seconds: float
    ok: bool
    error: str = ""


def execute_lecture(path: str | Path, profile: str, timeout: int = 900) -> Execution:
    """Run every cell of a MyST notebook in a fresh kernel, configured as the book build does."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from tools.build import build_env

    path = Path(path)
    nb = jupytext.read(path)
    # The kernel sees what it sees in the book build: profile, commit, data and checkpoint roots.
    env = build_env(ROOT, profile)
    os.environ.clear()
    os.environ.update(env)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        return Execution(str(path), profile, time.perf_counter() - start, False, str(err))
    return Execution(str(path), profile, time.perf_counter() - start, True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lectures", nargs="+", type=Path)
    parser.add_argument("--profile", default=os.environ.get("BOOK_PROFILE", "quick"))
    args = parser.parse_args(argv)
    failed = 0
    for lecture in args.lectures:
        result = execute_lecture(lecture, args.profile)
        status = "ok" if result.ok else "FAILED"
        print(f"{result.seconds:7.1f} s  {status:6}  {result.profile:5}  {lecture}", flush=True)
        if not result.ok:
            failed += 1
            print(result.error, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
