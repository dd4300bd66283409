"""Build the book: generate the course pages, execute the lectures, render the HTML site.

It writes no tracked file: the course pages it generates (course/) are git-ignored, and
_toc.yml, which is tracked, is only checked against course.yml: `make toc` regenerates it
(`make book` does that first when course.yml is newer).

Usage (from the repository root, inside .venv): `python -m tools.build [--profile quick|full]`.
The profile comes from `--profile`, else `BOOK_PROFILE`, else `full` with CUDA and `quick`
without. Each profile has its own build folder, `_build/<profile>/` (HTML in `html/`), and
so its own execution cache: outputs of one profile are never reused by the other. The
cache also knows the helpers modules each lecture imports (tools/book_ext.py). After the HTML,
tools/pdf.py prints every lecture and the whole book to PDF (`pdf/`; `--no-pdf` skips it).

The build is strict: a cell that raises or any Sphinx warning fails it, the failing cells
are printed, and the partial site is moved aside. After a failure the next build starts
from a fresh environment and every page is rewritten on every build, so a rebuild shows
every failure that a clean build would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from helpers.config import COMMIT_VAR as COMMIT_ENV_VAR
from helpers.config import book_config
from helpers.profile import ENV_VAR, ProfileError, validate_profile
from helpers.provenance import git_commit
from tools import colab, coursegen
from tools import pdf as book_pdf
from tools.homework import publish as homework

ROOT = Path(__file__).resolve().parent.parent


def output_dir(root: Path, profile: str) -> Path:
    """The build folder of `profile`: HTML in `html/`, the execution cache in `.jupyter_cache/`."""
    return root / "_build" / profile


def build_env(root: Path, profile: str) -> dict[str, str]:
    """The environment of the build and its kernels: profile, commit, data and checkpoint roots."""
    env = dict(os.environ)
    env[ENV_VAR] = profile
    # The commit checked out; whether its helpers are the ones that ran is the Colab step's check.
    env.setdefault(COMMIT_ENV_VAR, git_commit(root).removesuffix("-dirty"))
    # Data locations are passed to the kernels, never guessed by helpers from its own path.
    mini = ROOT.parent / "shared" / "data" / "mini"
    if mini.is_dir():
        env.setdefault("BOOK_MINI_DATA_ROOT", str(mini))
    env.setdefault("BOOK_DATA_ROOT", str(ROOT / "data"))
    env.setdefault("BOOK_CHECKPOINT_DIR", str(ROOT / "checkpoints"))
    # Sphinx loads tools.book_ext from the repository; kernels import helpers from src/.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH")]))
    # Kernels must keep matplotlib's inline backend: a non-interactive one (Agg) drops every figure.
    env.pop("MPLBACKEND", None)
    if profile == "quick":
        # The quick profile computes on small tensors, where a second intra-op thread costs more than
        # it gains: on the 2-core CI machine one thread ran Week 7 in 18 s against 44 s, Week 14 in
        # 26 s against 122 s. The full profile keeps PyTorch's default (its work is on the GPU).
        env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_sphinx(root: Path, out: Path, profile: str) -> int:
    """Build the book at `root` into `out` strictly; return the exit status (0 on success)."""
    env = build_env(root, profile)
    bindir = Path(sys.executable).parent
    # Jupyter Book turns _config.yml into Sphinx's conf.py; calling Sphinx directly lets us
    # rewrite every page (-a) while re-reading only what changed.
    conf, config_yml = root / "conf.py", root / "_config.yml"
    if not conf.exists() or conf.stat().st_mtime < config_yml.stat().st_mtime:
        config = subprocess.run([str(bindir / "jupyter-book"), "config", "sphinx", str(root)], env=env,
                                capture_output=True, text=True)
        if config.returncode != 0:
            print(config.stdout + config.stderr, file=sys.stderr)
            return config.returncode
    doctrees = out / "doctrees"
    if (out / "html-failed").exists():
        shutil.rmtree(doctrees, ignore_errors=True)  # re-read everything after a failed build
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-a", "-W", "--keep-going", "-q",
           "-d", str(doctrees), "-D", f"nb_execution_cache_path={out / '.jupyter_cache'}",
           str(root), str(out / "html")]
    proc = subprocess.run(cmd, env=env, cwd=root)
    if proc.returncode != 0:
        report_failures(out)
    else:
        shutil.rmtree(out / "html-failed", ignore_errors=True)
    return proc.returncode


def report_failures(out: Path) -> None:
    """Print the failing cell of every notebook that failed, then withdraw the broken HTML."""
    html = out / "html"
    logs = sorted((html / "reports").rglob("*.err.log")) if html.exists() else []
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        marker = "An error occurred while executing the following cell:"
        print(f"\n===== execution failed: {log.name.removesuffix('.err.log')} =====", file=sys.stderr)
        print(text[text.find(marker):] if marker in text else text, file=sys.stderr)
    # A failed build must not leave a site that looks publishable: keep it aside for inspection.
    failed = out / "html-failed"
    shutil.rmtree(failed, ignore_errors=True)
    if html.exists():
        html.rename(failed)
    else:
        failed.mkdir(parents=True)
    hint = "the failing cells are shown above" if logs else "see the warnings above"
    print(f"\nBUILD FAILED ({hint}). The partial site was moved to {failed}; nothing is published.\n"
          "Fix the source and run `make book` again.", file=sys.stderr)


def toc_is_current(course_file: Path, root: Path = ROOT) -> bool:
    """Whether the tracked _toc.yml is what `make toc` would write from `course_file`."""
    toc = root / "_toc.yml"
    expected = coursegen.render_toc(coursegen.load_course(course_file))
    return toc.exists() and toc.read_text(encoding="utf-8") == expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course book.")
    parser.add_argument("--profile", help="quick or full (default: BOOK_PROFILE, else by hardware)")
    parser.add_argument("--course", type=Path, default=ROOT / "course.yml", help="the course data file")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDFs of the lectures and the book")
    args = parser.parse_args(argv)
    try:
        profile = validate_profile(args.profile) if args.profile else book_config().profile
    except ProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if coursegen.main(["--course", str(args.course)]) != 0:  # course/ only (untracked)
        return 2
    if not toc_is_current(args.course, ROOT):
        print(f"error: _toc.yml is out of date with {args.course.name}: run `make toc` and commit _toc.yml.",
              file=sys.stderr)
        return 2
    homework.build_step(ROOT, args.course)  # course/homework/<id>.ipynb; exits 2 naming file:line on a bad source
    out = output_dir(ROOT, profile)
    print(f"Building the book, profile '{profile}', into {out.relative_to(ROOT)}/ ...", flush=True)
    start = time.perf_counter()
    status = run_sphinx(ROOT, out, profile)
    report = out / "execution-report.json"
    if report.exists():
        shutil.copy(report, ROOT / "_build" / "execution-report.json")
    if status == 0:
        try:
            helpers = colab.helpers_state(ROOT)  # the commit, and whether its helpers are those that ran
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        notebooks = colab.generate(out / "colab", ROOT, commit=helpers.commit, warning=helpers.warning)
        where = (out / "colab").relative_to(ROOT)
        print(f"{len(notebooks)} Colab notebook(s) in {where}/ (installing helpers @ {helpers.commit[:12]})")
        if helpers.warning:
            print(f"warning: src/helpers has uncommitted changes, which commit {helpers.commit[:12]} lacks: "
                  f"the notebooks say so and {where}/{colab.UNPUBLISHABLE} keeps them from being "
                  "published. Commit the helpers changes and rebuild.", file=sys.stderr)
        if not args.no_pdf:  # after the HTML: Chromium prints the built pages (tools/pdf.py)
            pdf_start = time.perf_counter()
            try:
                pdfs = book_pdf.build(ROOT, out, profile, commit=helpers.commit)
            except book_pdf.PdfError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(f"{len(pdfs)} PDF(s) in {(out / book_pdf.PDF_DIR).relative_to(ROOT)}/ "
                  f"in {time.perf_counter() - pdf_start:.0f} s")
        print(f"\nBook built in {time.perf_counter() - start:.0f} s (profile '{profile}').")
        print(f"Open {(out / 'html' / 'index.html').relative_to(ROOT)}  "
              f"(or: python -m http.server -d {(out / 'html').relative_to(ROOT)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
