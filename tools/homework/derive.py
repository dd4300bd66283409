"""Derive, from one homework source, the student notebook, the TA's solution notebook and the autograder tests."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tools.homework.source import MAGIC, Assignment, Cell, HomeworkError, read_assignment

ROOT = Path(__file__).resolve().parents[2]
STUB_CODE = ("# YOUR CODE HERE", 'raise NotImplementedError("write your solution here")')
STUB_TEXT = "*Write your answer here.*"
SPEC_FORMAT = 2  # 2: the tests run in the grader, with a prelude and the student names they use
# A source may write this token where the course's repository URL belongs (the Colab set-up cell
# that installs `helpers`); derive fills it in from _config.yml, the one place the URL is set.
REPOSITORY_TOKEN = "{{ book_repository_url }}"


def repository_url(root: Path = ROOT) -> str:
    """The course repository's URL, from _config.yml (`sphinx.config.book_repository_url`)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"]["book_repository_url"].rstrip("/")


def _fill(text: str) -> str:
    return text.replace(REPOSITORY_TOKEN, repository_url()) if REPOSITORY_TOKEN in text else text


def default_out(assignment: Assignment, root: Path = ROOT) -> Path:
    """Where `derive` writes by default: `_build/homework/<name>/`."""
    return root / "_build" / "homework" / assignment.name


def _code_stub(indent: str) -> list[str]:
    """The lines that replace a code region, at its indentation."""
    return [indent + line for line in STUB_CODE]


def student_source(cell: Cell) -> str | None:
    """The text the student sees for `cell`: stubs for solutions; None for a hidden test."""
    if cell.role == "hidden-test":
        return None
    if cell.role == "solution":
        return "\n".join(STUB_CODE) if cell.kind == "code" else STUB_TEXT
    lines, out, cursor = cell.lines, [], 0
    for region in cell.regions:
        out += lines[cursor:region.begin]
        indent = lines[region.begin][: len(lines[region.begin]) - len(lines[region.begin].lstrip())]
        out += _code_stub(indent) if cell.kind == "code" else [STUB_TEXT]
        cursor = region.end + 1
    return _fill("\n".join(out + lines[cursor:]))


def solution_source(cell: Cell) -> str:
    """The text of `cell` with its marker lines removed (solutions and tests kept)."""
    markers = {i for region in cell.regions for i in (region.begin, region.end)}
    return _fill("\n".join(line for i, line in enumerate(cell.lines) if i not in markers))


def _check_python(assignment: Assignment, cell: Cell, source: str, version: str) -> None:
    """Raise HomeworkError when the derived code of a cell does not compile."""
    neutral = "\n".join(MAGIC.sub(r"\1pass  #", line) for line in source.split("\n"))
    try:
        compile(neutral, str(assignment.path), "exec")
    except SyntaxError as err:
        raise HomeworkError(assignment.path, cell.line, f"the {version} version of this cell is not valid "
                            f"Python ({err.msg}, its line {err.lineno}): check where the markers sit") from None


def _cell(kind: str, cell_id: str, source: str, metadata: dict | None = None) -> dict:
    """A notebook cell with a fixed id, no outputs and no execution count."""
    node = {"cell_type": kind, "id": cell_id, "metadata": metadata or {}, "source": source}
    if kind == "code":
        node.update(outputs=[], execution_count=None)
    return node


def _notebook(assignment: Assignment, cells: list[dict], extra: dict) -> nbformat.NotebookNode:
    """A validated nbformat 4.5 notebook with only the metadata Jupyter needs, plus `extra`."""
    metadata = {"kernelspec": assignment.kernelspec, "language_info": {"name": "python"}, **extra}
    nb = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells})
    nbformat.validate(nb)
    return nb


def student_cells(assignment: Assignment) -> list[tuple[Cell, str, str]]:
    """(source cell, student text, role in the template) for each cell the student gets."""
    result = []
    for cell in assignment.cells:
        text = student_source(cell)
        if cell.kind == "code":
            _check_python(assignment, cell, solution_source(cell), "solution")
        if text is None:
            continue
        if cell.kind == "code":
            _check_python(assignment, cell, text, "student")
        answer = cell.role == "solution" or bool(cell.regions)
        role = "public-test" if cell.role == "public-test" else "answer" if answer else "given"
        result.append((cell, text, role))
    return result


def student_notebook(assignment: Assignment) -> nbformat.NotebookNode:
    """The student notebook: no solution text, no hidden test, no outputs, attachments or stray metadata."""
    cells = []
    for n, (cell, text, role) in enumerate(student_cells(assignment), start=1):
        locked = {"deletable": False, "editable": False} if role == "public-test" else None
        cells.append(_cell(cell.kind, f"cell-{n:02d}", text, locked))
    return _notebook(assignment, cells, {"homework": {"assignment": assignment.name}})


def solution_notebook(assignment: Assignment) -> nbformat.NotebookNode:
    """The TA's notebook: every cell, solutions and all tests in, markers out, outputs cleared."""
    cells = []
    for n, cell in enumerate(assignment.cells, start=1):
        metadata = {"tags": [cell.role]} if cell.role else None
        cells.append(_cell(cell.kind, f"cell-{n:02d}", solution_source(cell), metadata))
    return _notebook(assignment, cells, {"homework": {"assignment": assignment.name, "solution": True}})


def autograder_spec(assignment: Assignment) -> dict:
    """What `grade` needs: the tests, the student template's code cells and the written answers."""
    tests = [{"question": c.test.question, "points": c.test.points, "visibility": c.test.visibility,
              "line": c.line, "source": c.source, "uses": list(uses)}
             for c, uses in zip(assignment.tests, assignment.uses, strict=True)]
    template, written = [], 0
    for n, (cell, text, role) in enumerate(student_cells(assignment), start=1):
        if cell.kind == "code":
            template.append({"id": f"cell-{n:02d}", "role": role, "source": text})
        elif role == "answer":
            written += 1
    return {"format": SPEC_FORMAT, "assignment": assignment.name, "title": assignment.title,
            "source": assignment.path.name, "prelude": assignment.prelude, "tests": tests, "template": template,
            "written_answers": written}


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The canonical, byte-stable JSON text of a notebook."""
    return nbformat.writes(nb) + "\n"


def spec_text(spec: dict) -> str:
    """The canonical, byte-stable JSON text of an autograder spec."""
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; return whether it wrote."""
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def derive(source: str | Path, out: str | Path | None = None) -> dict[str, Path]:
    """Write the student notebook, solution notebook and autograder tests of `source` under `out`."""
    assignment = read_assignment(source)
    out = Path(out) if out is not None else default_out(assignment)
    paths = {
        "student": out / "student" / f"{assignment.name}.ipynb",
        "solution": out / "solution" / f"{assignment.name}-solution.ipynb",
        "autograder": out / "autograder" / "tests.json",
    }
    write_if_changed(paths["student"], notebook_text(student_notebook(assignment)))
    write_if_changed(paths["solution"], notebook_text(solution_notebook(assignment)))
    write_if_changed(paths["autograder"], spec_text(autograder_spec(assignment)))
    return paths
