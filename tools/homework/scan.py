"""Leak scan: prove that no line of a solution region or hidden test is in anything published."""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tools.homework.derive import student_notebook
from tools.homework.source import Assignment, read_assignment

ROOT = Path(__file__).resolve().parents[2]
MIN_TOKENS, MIN_CHARS = 4, 12  # shorter lines ("return x", "w = w - lr * g") say nothing specific
IMPORT = re.compile(r"^\s*(from\s+\S+\s+)?import\s")
GENERIC = re.compile(r"^\s*((for|while|if|elif|else|try|except|finally|with|def|class)\b[^#]*:\s*(#.*)?"
                     r"|return[\w\s,().]*)$")
WORD = re.compile(r"[^\W_]+")
IMAGE_REF = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)"  # ![alt](path)
                       r"|<img[^>]*\ssrc=[\"']([^\"']+)"  # <img src="path">
                       r"|^\s*[`:]{3,}\{(?:image|figure)\}\s*(\S+)", re.MULTILINE)  # ```{figure} path
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".eot", ".otf",
                   ".pdf", ".zip", ".gz", ".pickle", ".doctree"}


@dataclass(frozen=True)
class Secret:
    """A line that must never be published: its words, and where it comes from."""

    words: str
    origin: str  # "homework/hw1.md:57 (hidden test)"


@dataclass(frozen=True)
class Leak:
    """A secret found in a published file."""

    target: Path
    origin: str
    text: str

    def __str__(self) -> str:
        return f"LEAK {self.target}: contains {self.text!r} from {self.origin}"


def words(text: str) -> str:
    """The text as lower-case words separated by single spaces (markup and punctuation dropped)."""
    return " ".join(WORD.findall(text.lower()))


def secret_lines(assignment: Assignment) -> list[tuple[str, int, str]]:
    """(line text, file line, kind) of every line in a solution region, solution cell or hidden test."""
    found = []
    for cell in assignment.cells:
        if cell.role in ("solution", "hidden-test"):
            spans = [(0, len(cell.lines) - 1)]
        else:
            spans = [(r.begin + 1, r.end - 1) for r in cell.regions]
        kind = "hidden test" if cell.role == "hidden-test" else "solution"
        for first, last in spans:
            found += [(cell.lines[i], cell.line + i, kind) for i in range(first, last + 1)]
    return found


def public_words(assignment: Assignment) -> str:
    """Every word sequence the student notebook shows (and so is not a secret)."""
    return " " + " ".join(words(cell.source) for cell in student_notebook(assignment).cells) + " "


@dataclass(frozen=True)
class Secrets:
    """What the scan looks for, and the secret lines it leaves out because the book publishes them anyway."""

    lines: list[Secret]
    images: dict[str, str]  # sha256 of an image a solution references -> where
    shared: list[Secret]  # also in a lecture source: reported, not sought


def generic(text: str) -> bool:
    """A line too plain to betray a solution: short, an import, a block header, a bare return."""
    w = words(text)
    return (len(w.split()) < MIN_TOKENS or len(w.replace(" ", "")) < MIN_CHARS
            or bool(IMPORT.match(text) or GENERIC.match(text)))


def collect(sources: list[Path], book_sources: list[Path] = ()) -> Secrets:
    """The secret lines and solution images of `sources`, less what students or `book_sources` show."""
    assignments = [read_assignment(path) for path in sources]
    public = "".join(public_words(a) for a in assignments)
    book = " " + " ".join(words(p.read_text(encoding="utf-8", errors="replace")) for p in book_sources) + " "
    secrets, images, shared = {}, {}, {}
    for a in assignments:
        for text, line, kind in secret_lines(a):
            origin = f"{_show(a.path)}:{line} ({kind})"
            for match in IMAGE_REF.finditer(text):
                image = (a.path.parent / next(g for g in match.groups() if g)).resolve()
                if image.is_file():
                    images[hashlib.sha256(image.read_bytes()).hexdigest()] = origin
            w = words(text)
            if generic(text) or f" {w} " in public:
                continue
            (shared if f" {w} " in book else secrets).setdefault(w, Secret(w, origin))
    return Secrets(list(secrets.values()), images, list(shared.values()))


def _show(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _strings(node) -> list[str]:
    """Every string (keys included) in a parsed JSON value."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (k, *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def readings(path: Path, data: bytes) -> list[str]:
    """The ways a published file can show text: raw, as HTML text, as the strings of its JSON."""
    text = data.decode("utf-8", errors="replace")
    out = [text]
    if path.suffix in (".html", ".htm", ".xml", ".svg"):
        out.append(html.unescape(re.sub(r"<[^>]+>", " ", text)))
    payload = text
    if path.name == "searchindex.js":
        payload = text[text.find("(") + 1: text.rfind(")")]
    if path.suffix in (".ipynb", ".json") or path.name == "searchindex.js":
        with contextlib.suppress(json.JSONDecodeError):
            out.append("\n".join(_strings(json.loads(payload))))
    return out


def published_files(targets: list[Path]) -> list[tuple[Path, str]]:
    """Each file under `targets`, with its path relative to its target (as a URL would show it)."""
    files = []
    for target in targets:
        if target.is_file():
            files.append((target, target.name))
        elif target.is_dir():
            files += [(p, p.relative_to(target).as_posix()) for p in sorted(target.rglob("*")) if p.is_file()]
    return files


def scan(targets: list[Path], secrets: list[Secret], images: dict[str, str],
         source_names: list[str] = ()) -> list[Leak]:
    """Every leak of a secret line, a solution image or a homework source page in `targets`."""
    leaks = []
    for path, relative in published_files(targets):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in images:
            leaks.append(Leak(path, images[digest], "<image bytes>"))
        for name in source_names:
            if re.search(rf"(^|/)homework/{re.escape(name)}\b", relative):
                leaks.append(Leak(path, f"homework/{name}.md", "<a page or copy of the homework source>"))
        if path.suffix.lower() in BINARY_SUFFIXES:
            continue
        hay = " " + " ".join(words(reading) for reading in readings(path, data)) + " "
        leaks += [Leak(path, s.origin, s.words) for s in secrets if f" {s.words} " in hay]
        if path.name == "searchindex.js":
            leaks += _index_leaks(path, data, source_names)
    return leaks


def _index_leaks(path: Path, data: bytes, source_names: list[str]) -> list[Leak]:
    """Pages of the search index built from a homework source."""
    text = data.decode("utf-8", errors="replace")
    try:
        index = json.loads(text[text.find("(") + 1: text.rfind(")")])
    except json.JSONDecodeError:
        return []
    docnames = index.get("docnames", []) if isinstance(index, dict) else []
    return [Leak(path, f"homework/{doc.split('/')[-1]}.md", f"<search index entry {doc}>")
            for doc in docnames if doc.startswith("homework/") or doc.split("/")[-1] in source_names]


def homework_sources(root: Path = ROOT) -> list[Path]:
    """Every homework source, listed in course.yml or not (a draft must not leak either)."""
    folder = root / "homework"
    return sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md") if folder.is_dir() else []


def default_targets(root: Path = ROOT) -> list[Path]:
    """What is published: student notebooks, built sites, Colab notebooks, derived student folders, helpers."""
    targets = [root / "course" / "homework", root / "src" / "helpers"]
    for pattern in ("*/html", "*/_build/html", "*/colab"):  # each profile's site and Colab notebooks
        targets += sorted((root / "_build").glob(pattern))
    targets += sorted((root / "_build" / "homework").glob("*/student"))
    return [t for t in targets if t.exists()]


def lecture_sources(root: Path = ROOT) -> list[Path]:
    """The book's own sources that may share a line with a solution without leaking it."""
    return sorted((root / "lectures").glob("*.md"))


@dataclass(frozen=True)
class Report:
    """The outcome of a scan."""

    leaks: list[Leak]
    files: int
    secrets: int
    shared: list[Secret]


def run_scan(targets: list[Path], sources: list[Path], book_sources: list[Path] | None = None) -> Report:
    """Scan `targets` for the secrets of `sources` (lines shared with `book_sources` are only reported)."""
    found = collect(sources, lecture_sources() if book_sources is None else book_sources)
    leaks = scan(targets, found.lines, found.images, [s.stem for s in sources])
    return Report(leaks, len(published_files(targets)), len(found.lines), found.shared)
