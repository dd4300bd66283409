"""Turn each MyST lecture into a clean Colab notebook (.ipynb) with a bootstrap cell.

Usage: `python -m tools.colab [--out DIR] [--commit SHA] [--helpers-spec SPEC]`; the build
runs it after a successful build, writing `_build/<profile>/colab/lectures/*.ipynb`. The
publish workflow pushes that folder to the branch the "Open in Colab" buttons point at.

The notebooks install `helpers` at the commit checked out (HEAD). When src/helpers has
uncommitted changes, that commit lacks the helpers the book executed: every notebook then
carries a warning cell after its title, and the folder holds UNPUBLISHABLE, which makes
the publish workflow refuse it.

MyST syntax (directives, roles, targets) is rewritten as plain Markdown that Colab renders:
theorems become bold-titled paragraphs, solutions become <details> blocks, cross-references
become links to the published site.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
HELPERS_SOURCE = "src/helpers"
# Written into the notebooks' folder when they pin a commit without the helpers that ran.
UNPUBLISHABLE = "UNPUBLISHABLE"

TITLES = {
    "prf:theorem": "Theorem", "prf:lemma": "Lemma", "prf:proposition": "Proposition",
    "prf:corollary": "Corollary", "prf:definition": "Definition", "prf:remark": "Remark",
    "prf:example": "Example", "prf:algorithm": "Algorithm", "prf:conjecture": "Conjecture",
    "prf:axiom": "Axiom", "prf:assumption": "Assumption", "prf:property": "Property",
    "prf:observation": "Observation", "prf:criterion": "Criterion",
    "exercise": "Exercise", "note": "Note", "tip": "Tip", "warning": "Warning",
    "important": "Important", "caution": "Caution", "attention": "Attention", "hint": "Hint",
    "seealso": "See also", "danger": "Danger", "error": "Error", "admonition": "",
}
OPEN_RE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
OPTION_RE = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
ROLE_RE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<body>[^`]*)`")
TARGET_RE = re.compile(r"^\((?P<label>[\w:.-]+)\)=\s*$")
# Anything left over from MyST that must never reach a Colab notebook.
MYST_LEFTOVER_RE = re.compile(r"(^|\n)(`{3,}|:{3,})\{[\w:-]+\}|\{[\w:-]+\}`|(^|\n)\([\w:.-]+\)=\s*(\n|$)|(^|\n):label:")


@dataclass(frozen=True)
class Site:
    """Where the published book lives, for links that leave the notebook."""

    base_url: str  # e.g. https://course-org.github.io/dnn-course-book/
    labels: dict  # label -> (page without suffix, link text)


def load_config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def site_base_url(config: dict) -> str:
    url = (config.get("html") or {}).get("baseurl", "")
    if not url:
        repo = config["sphinx"]["config"]["book_repository_url"].rstrip("/")
        owner, name = repo.removeprefix("https://github.com/").split("/")[:2]
        url = f"https://{owner}.github.io/{name}/"
    return url if url.endswith("/") else url + "/"


def collect_labels(sources: list[Path], root: Path) -> dict:
    """Every referenceable label in the lectures: `(label)=` targets and `:label:` options."""
    labels = {}
    for source in sources:
        page = source.relative_to(root).with_suffix("").as_posix()
        lines = source.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if m := TARGET_RE.match(line):
                heading = next((x.lstrip("# ").strip() for x in lines[i + 1:i + 3] if x.startswith("#")), m["label"])
                labels[m["label"]] = (page, heading)
            elif (m := OPTION_RE.match(line.strip())) and m["key"] == "label":
                openers = (OPEN_RE.match(x.strip()) for x in reversed(lines[:i]))
                opener = next((o for o in openers if o), None)
                kind = TITLES.get(opener["name"], "") if opener else ""
                title = opener["arg"].strip() if opener else ""
                text = f"{kind} ({title})" if kind and title else kind or title or m["value"]
                labels[m["value"].strip()] = (page, text)
    return labels


def rewrite_roles(text: str, page: str, site: Site) -> str:
    """Rewrite MyST roles as Markdown: math inline, references as links to the site."""

    def one(m: re.Match) -> str:
        role, body = m["role"], m["body"]
        explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$", body, flags=re.S)
        text, target = (explicit["text"], explicit["target"]) if explicit else (None, body)
        if role == "math":
            return f"${body}$"
        if role in ("ref", "numref", "prf:ref", "eq", "doc", "download", "term"):
            if role == "eq":
                text = text or f"({target})"
            target_page, label_text = site.labels.get(target, (None, target))
            if role == "doc":
                target_page = str((Path(page).parent / target).as_posix()).removesuffix(".md")
                return f"[{text or target}]({site.base_url}{target_page}.html)"
            if role == "download":
                return text or target
            if target_page is None:
                return text or label_text
            anchor = "" if target_page == page and role != "eq" else None
            href = f"#{target}" if anchor == "" else f"{site.base_url}{target_page}.html#{target}"
            return f"[{text or label_text}]({href})"
        if role in ("cite", "cite:p", "cite:t"):
            return f"[{body}]"
        return text or body  # abbr, sub, sup, kbd and friends: keep the text

    return ROLE_RE.sub(one, text)


def rewrite_markdown(text: str, page: str, site: Site) -> str:
    """Rewrite one markdown cell's MyST into plain (Colab-renderable) Markdown."""
    lines, out, stack = text.splitlines(), [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if m := TARGET_RE.match(stripped):
            out.append(f'<a id="{m["label"]}"></a>')
            i += 1
            continue
        if m := OPEN_RE.match(stripped):
            name, arg, fence = m["name"], m["arg"].strip(), m["fence"]
            options = {}
            i += 1
            while i < len(lines) and (o := OPTION_RE.match(lines[i].strip())):
                options[o["key"]] = o["value"].strip()
                i += 1
            stack.append((fence, name))
            label = options.get("label")
            if label:
                out.append(f'<a id="{label}"></a>')
            if name == "solution-start":  # gated: its code cells follow as ordinary cells
                out += ["#### Solution", ""]
            elif name == "solution-end":
                out.append("---")
            elif name in ("solution", "dropdown", "toggle") or "dropdown" in options.get("class", ""):
                summary = "Solution" if name == "solution" else (arg or "Details")
                out += [f"<details><summary><b>{summary}</b></summary>", ""]
            elif name == "prf:proof":
                out.append("*Proof.*")
            elif name in ("math",):
                out.append("$$")
            elif name in ("code-block", "code", "sourcecode"):
                out.append(f"```{arg}")
            elif name == "figure":
                out.append(f"![{options.get('alt', '')}]({arg})")
            else:
                kind = TITLES.get(name, name.split(":")[-1].capitalize())
                head = f"{kind} ({arg})" if kind and arg and name != "admonition" else kind or arg
                out.append(f"**{head}.**")
            continue
        if stack and stripped == stack[-1][0]:
            _, name = stack.pop()
            closing = {"solution": ["", "</details>"], "dropdown": ["", "</details>"], "toggle": ["", "</details>"],
                       "prf:proof": ["$\\blacksquare$"], "math": ["$$"], "code-block": ["```"], "code": ["```"],
                       "sourcecode": ["```"]}.get(name, [])
            out += closing
            out.append("")
            i += 1
            continue
        out.append(line)
        i += 1
    if stack:
        raise ValueError(f"{page}: unclosed directive(s) {[n for _, n in stack]} in a markdown cell")
    return rewrite_roles("\n".join(out), page, site)


BOOTSTRAP = '''\
# Set-up for Google Colab: installs the course's `helpers` package at the exact commit this
# notebook was generated from, so that the notebook and the book agree. Does nothing elsewhere.
import importlib
import os
import subprocess
import sys

HELPERS_SPEC = {spec!r}
os.environ.setdefault("BOOK_COMMIT", {commit!r})
if "google.colab" in sys.modules or os.environ.get("BOOK_BOOTSTRAP") == "1":
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", HELPERS_SPEC], check=True)
    importlib.invalidate_caches()  # let this running kernel see the new package
'''


@dataclass(frozen=True)
class HelpersState:
    """The commit checked out and the uncommitted changes to src/helpers (git status lines)."""

    commit: str
    changes: tuple[str, ...]

    @property
    def warning(self) -> str | None:
        """The warning the notebooks carry when the pinned commit lacks local helpers changes."""
        if not self.changes:
            return None
        listed = "\n".join(f"- `{line}`" for line in self.changes[:10])
        more = f"\n- ...and {len(self.changes) - 10} more" if len(self.changes) > 10 else ""
        return (f"> **Warning: not for publication.** This notebook installs `helpers` at commit "
                f"`{self.commit[:12]}`, but the book was executed with uncommitted changes to "
                f"`{HELPERS_SOURCE}` that this commit lacks, so its results may differ from the "
                f"book's:\n\n{listed}{more}\n\nCommit the helpers changes and rebuild.")


def helpers_state(root: Path = ROOT) -> HelpersState:
    """HEAD of the repository at `root` and the uncommitted changes (tracked or untracked) to its
    helpers package. Changes elsewhere (a lecture being edited) do not matter: the notebooks
    are generated from the working tree, only `helpers` is installed from the commit."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True,
                                  timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as err:
            raise ValueError(f"{root} is no git checkout (git {' '.join(args)} failed): the Colab "
                             "notebooks need a commit to install helpers from") from err

    commit = git("rev-parse", "HEAD").strip()
    changes = git("status", "--porcelain", "--untracked-files=all", "--", HELPERS_SOURCE).splitlines()
    return HelpersState(commit, tuple(line for line in changes if line.strip()))


def insert_after_title(cells: list, text: str) -> None:
    """Insert a markdown cell holding `text` right after the line of the notebook's title."""
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        title = next((n for n, line in enumerate(lines) if line.startswith("# ")), None)
        if title is None:
            continue
        head, rest = "\n".join(lines[:title + 1]), "\n".join(lines[title + 1:]).strip("\n")
        cell.source = head
        new = [nbformat.v4.new_markdown_cell(text)]
        if rest:
            new.append(nbformat.v4.new_markdown_cell(rest))
        cells[i + 1:i + 1] = new
        return
    cells.insert(0, nbformat.v4.new_markdown_cell(text))  # no title: the warning still comes first


def convert(source: Path, root: Path, site: Site, helpers_spec: str, commit: str,
            warning: str | None = None) -> nbformat.NotebookNode:
    """The clean Colab notebook of one MyST lecture (with `warning` in a cell after its title)."""
    page = source.relative_to(root).with_suffix("").as_posix()
    nb = jupytext.read(source)
    cells = [nbformat.v4.new_code_cell(BOOTSTRAP.format(spec=helpers_spec, commit=commit))]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(rewrite_markdown(cell.source, page, site))
        elif cell.cell_type == "code":
            tags = [t for t in cell.metadata.get("tags", []) if t in ("hide-input", "hide-output", "remove-cell")]
            if "remove-cell" in tags:
                continue
            new = nbformat.v4.new_code_cell(cell.source, metadata={"tags": tags} if tags else {})
        else:
            continue
        cells.append(new)
    if warning:
        insert_after_title(cells, warning)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": [], "toc_visible": True},
        "accelerator": "GPU",
    }
    for i, cell in enumerate(out.cells):
        cell.id = f"cell-{i}"  # stable ids: regenerating gives identical files
    leftover = [c.source for c in out.cells if c.cell_type == "markdown" and MYST_LEFTOVER_RE.search(c.source)]
    if leftover:
        raise ValueError(f"{source}: MyST syntax left after conversion: {leftover[0][:200]!r}")
    return out


def lecture_sources(root: Path) -> list[Path]:
    """The lectures listed in _toc.yml, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [root / f"{f}.md" for f in files if f.startswith("lectures/")]


def generate(out: Path, root: Path = ROOT, commit: str = "main", helpers_spec: str | None = None,
             warning: str | None = None) -> list[Path]:
    """Write the Colab notebook of every lecture under `out`; return their paths.

    With `warning` (see HelpersState.warning), every notebook shows it after its title and
    `out/UNPUBLISHABLE` says why the folder must not be published.
    """
    config = load_config(root)
    repo = config["sphinx"]["config"]["book_repository_url"].rstrip("/")
    spec = helpers_spec or f"dnn-course-helpers @ git+{repo}@{commit}"
    sources = lecture_sources(root)
    site = Site(site_base_url(config), collect_labels(sources, root))
    written = []
    for source in sources:
        target = out / source.relative_to(root).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(convert(source, root, site, spec, commit, warning), target)
        written.append(target)
    marker = out / UNPUBLISHABLE
    out.mkdir(parents=True, exist_ok=True)
    if warning:
        marker.write_text(warning + "\n", encoding="utf-8")
    else:
        marker.unlink(missing_ok=True)  # from an earlier build with uncommitted helpers
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "colab")
    parser.add_argument("--commit", help="the commit whose helpers the notebooks install (default: HEAD, "
                        "with a warning when src/helpers has uncommitted changes)")
    parser.add_argument("--helpers-spec", help="pip requirement for helpers (default: the repository at --commit)")
    args = parser.parse_args(argv)
    try:
        if args.commit:
            commit, warning = args.commit, None
        else:
            state = helpers_state(ROOT)
            commit, warning = state.commit, state.warning
        written = generate(args.out, ROOT, commit, args.helpers_spec, warning)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"colab: {len(written)} notebook(s) written to {args.out}")
    if warning:
        print(f"warning: {args.out} is not publishable: src/helpers has uncommitted changes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
