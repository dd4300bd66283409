"""Publish the student notebook of each assignment in course.yml as course/homework/<id>.ipynb."""

from __future__ import annotations

import sys
from pathlib import Path

from tools import coursegen
from tools.homework.derive import notebook_text, student_notebook, write_if_changed
from tools.homework.scan import collect, words
from tools.homework.source import HomeworkError, read_assignment

ROOT = Path(__file__).resolve().parents[2]


def published_dir(root: Path = ROOT) -> Path:
    """Where the book takes the student notebooks from (course/ is generated, never committed)."""
    return root / "course" / "homework"


def publish(root: Path = ROOT, course_file: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Write course/homework/<id>.ipynb for every assignment and delete stale ones; return (all, written)."""
    course = coursegen.load_course(course_file or root / "course.yml")
    texts = {}
    for i, item in enumerate(course["_parsed"]["assignments"]):
        source = root / item["source"]
        if not source.is_file():
            raise coursegen.CourseDataError(f"assignments[{i}].source", f"names no file: {source} does not exist")
        text = notebook_text(student_notebook(read_assignment(source)))
        _check_clean(source, text)
        texts[published_dir(root) / f"{item['id']}.ipynb"] = text
    out = published_dir(root)
    if out.is_dir():
        for stale in out.glob("*.ipynb"):
            if stale not in texts:
                stale.unlink()
    written = [path for path, text in texts.items() if write_if_changed(path, text)]
    return list(texts), written


def _check_clean(source: Path, text: str) -> None:
    """Refuse to publish a student notebook that holds a line of its source's secrets."""
    hay = f" {words(text)} "
    for secret in collect([source]).lines:
        if f" {secret.words} " in hay:
            line = int(secret.origin.split(":")[1].split()[0])
            raise HomeworkError(source, line, "this secret line would be published in the student notebook")


def build_step(root: Path = ROOT, course_file: Path | None = None) -> None:
    """The build's homework step: publish, or stop the build (exit status 2) naming the file and line."""
    try:
        paths, written = publish(root, course_file)
    except (HomeworkError, coursegen.CourseDataError) as err:
        print(f"error: {err}\nFix the homework source (see homework/README.md) and build again.", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"homework: {len(paths)} student notebook(s) in {published_dir(root).relative_to(root)}/, "
          f"{len(written)} updated")
