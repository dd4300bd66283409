"""Build the book: generate the course pages, execute the lectures, render the HTML site.

Usage (from the repository root, inside .venv): `python -m tools.build [--profile quick|full]`.
The profile comes from `--profile`, else `BOOK_PROFILE`, else `full` with CUDA and `quick`
without. Each profile has its own build folder, `_build/<profile>/`, and so its own
execution cache: outputs of one profile are never reused by the other. The build is
strict: a cell that raises or a Sphinx warning fails it, and every page is re-read on
every build, so a rebuild shows every failure a clean build would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from helpers.profile import ENV_VAR, ProfileError, get_profile, validate_profile
from helpers.provenance import COMMIT_ENV_VAR, git_commit
from tools import coursegen

ROOT = Path(__file__).resolve().parent.parent


def output_dir(root: Path, profile: str) -> Path:
    """Where jupyter-book writes for `profile`; the HTML is in `<this>/_build/html`."""
    return root / "_build" / profile


def run_jupyter_book(root: Path, out: Path, profile: str) -> int:
    """Run `jupyter-book build` strictly on `root` into `out`; return its exit status."""
    env = dict(os.environ)
    env[ENV_VAR] = profile
    env.setdefault(COMMIT_ENV_VAR, git_commit(root))
    # Lectures import `helpers` and, through the kernel's working directory, nothing else.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(root), "--path-output", str(out),
           "--all", "--warningiserror", "--keep-going", "--builder", "html"]
    proc = subprocess.run(cmd, env=env, cwd=root)
    if proc.returncode != 0:
        report_failures(out)
    return proc.returncode


def report_failures(out: Path) -> None:
    """Print the failing cell of every notebook that failed, then withdraw the broken HTML."""
    html = out / "_build" / "html"
    logs = sorted((html / "reports").rglob("*.err.log")) if html.exists() else []
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        marker = "An error occurred while executing the following cell:"
        print(f"\n===== execution failed: {log.name.removesuffix('.err.log')} =====", file=sys.stderr)
        print(text[text.find(marker):] if marker in text else text, file=sys.stderr)
    # A failed build must not leave a site that looks publishable: keep it aside for inspection.
    failed = html.with_name("html-failed")
    if html.exists():
        shutil.rmtree(failed, ignore_errors=True)
        html.rename(failed)
    hint = "the failing cells are shown above" if logs else "see the warnings above"
    print(f"\nBUILD FAILED ({hint}). The partial site was moved to {failed}; nothing is published.\n"
          "Fix the source and run `make book` again.", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course book.")
    parser.add_argument("--profile", help="quick or full (default: BOOK_PROFILE, else by hardware)")
    parser.add_argument("--course", type=Path, default=ROOT / "course.yml", help="the course data file")
    args = parser.parse_args(argv)
    try:
        profile = validate_profile(args.profile) if args.profile else get_profile()
    except ProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if coursegen.main(["--course", str(args.course)]) != 0:
        return 2
    out = output_dir(ROOT, profile)
    print(f"Building the book, profile '{profile}', into {out.relative_to(ROOT)}/ ...", flush=True)
    start = time.perf_counter()
    status = run_jupyter_book(ROOT, out, profile)
    if status == 0:
        index = out / "_build" / "html" / "index.html"
        print(f"\nBook built in {time.perf_counter() - start:.0f} s (profile '{profile}').")
        print(f"Open {index.relative_to(ROOT)}  (or: python -m http.server -d {index.parent.relative_to(ROOT)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
