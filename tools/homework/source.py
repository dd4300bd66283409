"""Read a homework source (homework/*.md) and check it against the closed authoring vocabulary."""

from __future__ import annotations

import ast
import builtins
import difflib
import io
import re
import symtable
import tokenize
from dataclasses import dataclass
from pathlib import Path

import jupytext

ROLES = ("solution", "hidden-test", "public-test")
TEST_ROLES = ("hidden-test", "public-test")
CODE_MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")
TEXT_MARKERS = ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->")
TEST_HEADER = re.compile(r"^# TEST (?P<question>q\d+(?:\.\d+)*[a-z]?) \((?P<points>\d+(?:\.\d+)?) points?\)$")
TEST_HEADER_LIKE = re.compile(r"^\s*#\s*test\b", re.IGNORECASE)
TEST_HEADER_HELP = "'# TEST <question> (<n> points)', e.g. '# TEST q1.2 (2 points)'"
FRONT_MATTER_KEYS = ("jupytext", "kernelspec")
MAGIC = re.compile(r"^(\s*)[%!]")


class HomeworkError(ValueError):
    """A homework source breaks the authoring rules; the message starts with `file:line:`."""

    def __init__(self, path: str | Path, line: int, problem: str):
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


@dataclass(frozen=True)
class Region:
    """A solution region of a cell: the 0-based lines of its BEGIN and END markers."""

    begin: int
    end: int


@dataclass(frozen=True)
class Test:
    """What a test cell's header declares."""

    question: str
    points: int | float
    visibility: str  # "hidden" or "public"


@dataclass(frozen=True)
class Cell:
    """One checked cell of a homework source."""

    kind: str  # "code" or "markdown"
    role: str  # "" (plain), "solution", "hidden-test" or "public-test"
    source: str
    line: int  # the line of the source file on which the cell's text starts
    regions: tuple[Region, ...] = ()
    test: Test | None = None

    @property
    def lines(self) -> list[str]:
        return self.source.split("\n")


@dataclass(frozen=True)
class Assignment:
    """A checked homework source."""

    path: Path
    cells: tuple[Cell, ...]
    kernelspec: dict
    prelude: str = ""  # the given cells' imports and definitions: what the tests see besides the answers
    uses: tuple[tuple[str, ...], ...] = ()  # per test (in order): the names it takes from the student's notebook

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def title(self) -> str:
        for cell in self.cells:
            for line in cell.lines:
                if cell.kind == "markdown" and line.startswith("# "):
                    return line[2:].strip()
        return self.name

    @property
    def tests(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.test is not None]


def read_assignment(path: str | Path) -> Assignment:
    """Parse and check a homework source; raise HomeworkError naming file and line on any problem."""
    path = Path(path)
    if path.suffix != ".md":
        raise HomeworkError(path, 1, "a homework source is a MyST markdown notebook (.md)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HomeworkError(path, 1, f"cannot be read: {err}") from None
    if not text.startswith("---\n"):
        raise HomeworkError(path, 1, "must start with the jupytext front matter (see homework/README.md)")
    try:
        notebook = jupytext.reads(text, fmt="md:myst")
    except Exception as err:  # jupytext raises many kinds; all mean "not a MyST notebook"
        raise HomeworkError(path, 1, f"is not a MyST notebook: {err}") from None
    kernelspec = _check_front_matter(path, notebook.metadata)
    starts = _cell_starts(text, notebook.cells)
    cells = tuple(_check_cell(path, cell, line) for cell, line in zip(notebook.cells, starts, strict=True))
    if not any(cell.test and cell.test.points > 0 for cell in cells):
        raise HomeworkError(path, 1, "has no graded test: tag a code cell hidden-test or public-test "
                            f"and start it with {TEST_HEADER_HELP}")
    prelude, uses = _test_names(path, cells)
    return Assignment(path, cells, kernelspec, prelude, uses)


# ---------------------------------------------------------------- what a test may use


def _parse(path: Path, cell: Cell) -> ast.Module:
    """A code cell's syntax tree, magics and shell escapes blanked out."""
    neutral = "\n".join(MAGIC.sub(r"\1pass  #", line) for line in cell.lines)
    try:
        return ast.parse(neutral)
    except SyntaxError as err:
        raise HomeworkError(path, cell.line + (err.lineno or 1) - 1, f"not valid Python: {err.msg}") from None


def _bound(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
            if sub is not node:
                continue
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return names


def free_names(code: str) -> set[str]:
    """The global names `code` reads and does not bind itself (builtins left out)."""
    top = symtable.symtable(code, "<test>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (table is top or sym.is_global()):
                used.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return used - bound - set(dir(builtins))


def _test_names(path: Path, cells: tuple[Cell, ...]) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """The prelude (given cells' imports and definitions) and, per test, the student's names it uses.

    Tests run in the grader's own process: they see the prelude, their own names and, called
    across the sandbox, the functions and values that the answer cells define. Any other name
    stops the source here, naming the test's line.
    """
    prelude, trusted, computed, answers = [], set(), set(), set()
    for cell in cells:
        if cell.kind != "code" or cell.role in TEST_ROLES:
            continue
        tree = _parse(path, cell)
        lines = cell.lines
        for node in tree.body:
            if cell.role == "solution" or cell.regions:
                answers |= _bound(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
                prelude.append("\n".join(lines[first - 1: node.end_lineno]))
                trusted |= _bound(node)
            else:
                computed |= _bound(node)
    prelude_text = "\n\n".join(prelude) + ("\n" if prelude else "")
    from_prelude = free_names(prelude_text) & answers - trusted
    uses = []
    for cell in cells:
        if cell.test is None:
            continue
        names = free_names(cell.source) - trusted
        for name in sorted(names - answers):
            line = next((cell.line + i for i, text in enumerate(cell.lines) if re.search(rf"\b{name}\b", text)),
                        cell.line)
            if name in computed:
                raise HomeworkError(path, line, f"the test uses {name!r}, which a given cell computes: tests run "
                                    "in the grader, apart from the student's notebook, and see only the given "
                                    "cells' imports and definitions and the answers; compute it in the test")
            raise HomeworkError(path, line, f"the test uses {name!r}, which neither the test, a given cell's "
                                "imports and definitions, nor an answer cell defines")
        uses.append(tuple(sorted(names | from_prelude)))
    return prelude_text, tuple(uses)


def _check_front_matter(path: Path, metadata: dict) -> dict:
    """Allow only the jupytext header and a python3 kernelspec; return the kernelspec."""
    unknown = sorted(set(metadata) - set(FRONT_MATTER_KEYS))
    if unknown:
        raise HomeworkError(path, 1, f"unknown front-matter key(s) {unknown}: only {list(FRONT_MATTER_KEYS)}")
    kernelspec = metadata.get("kernelspec") or {}
    if kernelspec.get("name") != "python3":
        raise HomeworkError(path, 1, "the front matter must name the kernel python3")
    return dict(kernelspec)


def _cell_starts(text: str, cells: list) -> list[int]:
    """The 1-based line of the source file at which each cell's text starts."""
    starts, cursor = [], text.find("\n---", 3) + 4
    for cell in cells:
        if cell.cell_type == "code":
            fence = text.find("{code-cell}", cursor)
            cursor = text.find("\n", fence) + 1 if fence >= 0 else cursor
        else:
            cursor = _skip_separators(text, cursor)
        pos = text.find(cell.source, cursor) if cell.source else -1
        pos = cursor if pos < 0 else pos
        starts.append(text.count("\n", 0, pos) + 1)
        cursor = pos + len(cell.source)
    return starts


def _skip_separators(text: str, cursor: int) -> int:
    """Move past blank lines, closing fences and `+++` cell breaks."""
    while cursor < len(text):
        end = text.find("\n", cursor)
        end = len(text) if end < 0 else end
        line = text[cursor:end].strip()
        if line and not line.startswith("+++") and set(line) != {"`"}:
            return cursor
        cursor = end + 1
    return cursor


def _check_cell(path: Path, cell, line: int) -> Cell:
    """Check one jupytext cell: kind, tags, markers and test header."""
    if cell.cell_type not in ("code", "markdown"):
        raise HomeworkError(path, line, f"{cell.cell_type} cells are not part of the homework vocabulary")
    unknown = sorted(set(cell.metadata) - {"tags"})
    if unknown:
        raise HomeworkError(path, line, f"unknown cell option(s) {unknown}: a homework cell carries only tags")
    tags = list(cell.metadata.get("tags", []))
    for tag in tags:
        if tag not in ROLES:
            guess = difflib.get_close_matches(str(tag), ROLES, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            raise HomeworkError(path, line, f"unknown tag {tag!r}{hint}: the tags are {', '.join(ROLES)}")
    if len(tags) > 1:
        raise HomeworkError(path, line, f"a cell carries at most one tag, got {tags}")
    role = tags[0] if tags else ""
    if role in TEST_ROLES and cell.cell_type != "code":
        raise HomeworkError(path, line, f"only code cells can be tagged {role}")
    lines = cell.source.split("\n")
    regions = _regions(path, line, cell.cell_type, role, lines)
    test = _test_header(path, line, role, lines) if cell.cell_type == "code" else None
    return Cell(cell.cell_type, role, cell.source, line, regions, test)


def _regions(path: Path, start: int, kind: str, role: str, lines: list[str]) -> tuple[Region, ...]:
    """Find the solution regions of a cell; reject near-miss, misplaced and unbalanced markers."""
    begin, end = CODE_MARKERS if kind == "code" else TEXT_MARKERS
    other = TEXT_MARKERS if kind == "code" else CODE_MARKERS
    comments = _comment_lines(path, start, lines) if kind == "code" else None
    regions, opened = [], None
    for i, raw in enumerate(lines):
        text, where = raw.strip(), start + i
        if text in (begin, end):
            if comments is not None and i not in comments:
                raise HomeworkError(path, where, f"{text!r} inside a string literal: a marker is a comment "
                                    "on a line of its own")
            if role:
                raise HomeworkError(path, where, f"solution marker in a cell tagged {role!r}: "
                                    "a tagged cell is hidden whole, so it takes no markers")
            if text == begin:
                if opened is not None:
                    raise HomeworkError(path, where, f"{begin!r} inside the region opened at line "
                                        f"{start + opened}: regions do not nest")
                opened = i
            else:
                if opened is None:
                    raise HomeworkError(path, where, f"{end!r} without a {begin!r} before it in this cell")
                if i == opened + 1:
                    raise HomeworkError(path, where, "empty solution region")
                regions.append(Region(opened, i))
                opened = None
        elif text in other:
            raise HomeworkError(path, where, f"{text!r} is the marker for {'markdown' if kind == 'code' else 'code'}"
                                f" cells; in a {kind} cell write {begin!r} ... {end!r}")
        elif near_marker(text):
            raise HomeworkError(path, where, f"{text!r} looks like a solution marker but is not one: write "
                                f"exactly {begin!r} and {end!r} (upper case, on a line of their own)")
    if opened is not None:
        raise HomeworkError(path, start + opened, f"{begin!r} is never closed in this cell "
                            "(a region cannot span cells)")
    return tuple(regions)


def _close(word: str, targets: tuple[str, ...]) -> bool:
    """True when `word` is one of `targets` or differs from one by a typo or two."""
    return any(word == t or difflib.SequenceMatcher(None, word, t).ratio() >= 0.8 for t in targets)


def near_marker(text: str) -> bool:
    """True when a line resembles a BEGIN/END SOLUTION marker (typo, case, spacing, order)."""
    words = re.findall(r"[a-z]+", text.lower())
    edge, solution = ("begin", "end"), ("solution", "soln")
    if any(_close(w, ("beginsolution", "endsolution")) and not _close(w, (*solution, "solutions")) for w in words):
        return True
    if any(_close(a, edge) and _close(b, solution) for a, b in zip(words, words[1:], strict=False)):
        return True
    # Short lines such as "<!-- SOLUTION END -->" or "# solution: begin".
    return len(words) <= 3 and any(_close(w, solution) for w in words) and any(_close(w, edge) for w in words)


def _comment_lines(path: Path, start: int, lines: list[str]) -> set[int]:
    """The 0-based lines of a code cell that hold nothing but a comment."""
    # IPython magics and shell escapes are not Python: blank them out, keeping the line count.
    neutral = "\n".join(MAGIC.sub(r"\1pass  #", line) for line in lines) + "\n"
    found, code = set(), set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(neutral).readline):
            if tok.type == tokenize.COMMENT:
                found.add(tok.start[0] - 1)
            elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                  tokenize.ENDMARKER):
                code.update(range(tok.start[0] - 1, tok.end[0]))
    except tokenize.TokenError as err:
        row, problem = min(err.args[1][0], len(lines)), err.args[0]
        try:  # the compiler says where the unfinished statement starts
            compile(neutral, "<cell>", "exec")
        except SyntaxError as syntax:
            row, problem = syntax.lineno or row, syntax.msg
    except SyntaxError as err:
        row, problem = err.lineno or 1, err.msg
    else:
        return found - code
    raise HomeworkError(path, start + row - 1, f"this code cell is not valid Python: {problem}")


def _test_header(path: Path, start: int, role: str, lines: list[str]) -> Test | None:
    """Parse the header of a test cell; reject test-like lines in other cells."""
    if role not in TEST_ROLES:
        for i, line in enumerate(lines):
            if TEST_HEADER_LIKE.match(line) and re.search(r"\bq\d", line, re.IGNORECASE):
                raise HomeworkError(path, start + i, "looks like a test header, but the cell is not tagged "
                                    "hidden-test or public-test")
        return None
    match = TEST_HEADER.match(lines[0])
    if match is None:
        raise HomeworkError(path, start, f"a {role} cell starts with a header {TEST_HEADER_HELP}, "
                            f"got {lines[0]!r}")
    for i, line in enumerate(lines[1:], start=1):
        if TEST_HEADER_LIKE.match(line):
            raise HomeworkError(path, start + i, "a second test header: one test per cell")
    points = float(match["points"])
    points = int(points) if points.is_integer() else points
    if role == "hidden-test" and points <= 0:
        raise HomeworkError(path, start, "a hidden test is graded: give it more than 0 points")
    return Test(match["question"], points, role.removesuffix("-test"))
