"""Command line: `python -m tools.homework derive|grade|publish|scan ...` (see homework/README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools import coursegen
from tools.homework import derive, grade, publish, scan
from tools.homework.source import HomeworkError, read_assignment


def cmd_derive(args: argparse.Namespace) -> int:
    """derive: write the three derived files of one source, or of all."""
    sources = scan.homework_sources() if args.all else [args.source]
    if args.out and len(sources) != 1:
        print("error: --out takes one source", file=sys.stderr)
        return 2
    for source in sources:
        paths = derive.derive(source, args.out)
        print(f"derived {source}:")
        for kind, path in paths.items():
            print(f"  {kind:<11}{path}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    """grade: grade submissions and write their results."""
    spec = grade.load_spec(args.assignment)
    out = args.out or grade.ROOT / "_build" / "homework" / spec["assignment"] / "grades"
    limits = grade.Limits(time_limit=args.time_limit, cell_timeout=args.cell_timeout,
                          memory=int(args.memory_limit * 2**30), sandbox=not args.unsafe_no_sandbox)
    if limits.sandbox:
        try:
            grade.check_available()
        except grade.SandboxUnavailableError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    else:
        print("warning: --unsafe-no-sandbox: the submissions run unconfined, with your permissions, and can read "
              "and change your files (the verdicts are still decided outside them)", file=sys.stderr)
    results = []
    for submission in args.submissions:
        result = grade.grade_submission(spec, submission, limits)
        print(grade.summary(result))
        results.append(result)
    written = grade.write_results(results, Path(out))
    print(f"wrote {len(written)} file(s) to {out} (per submission: .json and .txt; scores.csv for all)")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """publish: write course/homework/<id>.ipynb."""
    paths, written = publish.publish(course_file=args.course)
    for path in paths:
        print(f"  {path}{'  (updated)' if path in written else ''}")
    print(f"publish: {len(paths)} student notebook(s), {len(written)} updated")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """scan: look for leaks; exit 1 on any."""
    sources = args.sources or scan.homework_sources()
    targets = args.targets or scan.default_targets()
    report = scan.run_scan(targets, sources)
    for secret in report.shared:
        print(f"note: {secret.origin} is also in a lecture, so it is not sought: {secret.words!r}")
    for leak in report.leaks:
        print(leak)
    verdict = f"{len(report.leaks)} LEAK(S)" if report.leaks else "CLEAN"
    print(f"scan: {report.files} published file(s) in {len(targets)} location(s) checked for {report.secrets} "
          f"secret line(s) of {len(sources)} homework source(s): {verdict}")
    return 1 if report.leaks else 0


def cmd_check(args: argparse.Namespace) -> int:
    """check: read the sources, report their tests and points."""
    for source in args.sources or scan.homework_sources():
        assignment = read_assignment(source)
        points = sum(t.test.points for t in assignment.tests)
        print(f"{source}: OK ({len(assignment.tests)} tests, {points:g} points)")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(prog="python -m tools.homework", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("derive", help="write the student notebook, solution notebook and autograder tests")
    d.add_argument("source", nargs="?", type=Path, help="a homework source, e.g. homework/hw1-gradients-sgd.md")
    d.add_argument("--all", action="store_true", help="every source in homework/")
    d.add_argument("--out", type=Path, help="output folder (default _build/homework/<name>/)")
    d.set_defaults(func=cmd_derive)
    g = sub.add_parser("grade", help="grade submitted notebooks")
    g.add_argument("assignment", type=Path, help="the homework source (.md), or a derived autograder/tests.json")
    g.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    g.add_argument("--out", type=Path, help="results folder (default _build/homework/<name>/grades/)")
    g.add_argument("--time-limit", type=float, default=grade.Limits.time_limit,
                   help="wall-clock seconds per submission (default %(default)s)")
    g.add_argument("--cell-timeout", type=float, default=grade.Limits.cell_timeout,
                   help="seconds per cell or test (default %(default)s)")
    g.add_argument("--memory-limit", type=float, default=grade.Limits.memory / 2**30, metavar="GIB",
                   help="memory of a submission's sandbox, in GiB (default %(default)g)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without bubblewrap, where it cannot run: only on a throwaway machine")
    g.set_defaults(func=cmd_grade)
    u = sub.add_parser("publish", help="write course/homework/<id>.ipynb for the assignments in course.yml")
    u.add_argument("--course", type=Path, default=None, help="the course data file (default course.yml)")
    u.set_defaults(func=cmd_publish)
    s = sub.add_parser("scan", help="check that nothing published holds a solution or hidden-test line")
    s.add_argument("targets", nargs="*", type=Path, help="files or folders (default: everything published)")
    s.add_argument("--sources", nargs="+", type=Path, help="homework sources (default homework/*.md)")
    s.set_defaults(func=cmd_scan)
    c = sub.add_parser("check", help="only check homework sources against the authoring rules")
    c.add_argument("sources", nargs="*", type=Path)
    c.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a command; a bad source or course.yml prints `error: file:line: ...` and exits 2."""
    args = parser().parse_args(argv)
    if args.command == "derive" and not args.all and args.source is None:
        parser().error("derive needs a source (or --all)")
    try:
        return args.func(args)
    except (HomeworkError, coursegen.CourseDataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
