"""Sphinx extension of the course book: a dependency-aware execution cache, the execution
report and status page, lecture time budgets, and the "Open in Colab" and PDF buttons.

Loaded through `_config.yml` (`sphinx.local_extensions`). Driven by tools/build.py, which
sets BOOK_PROFILE and BOOK_COMMIT for the build (and BOOK_DEVICE, if the caller knows it).

Whether a page was executed in this build is decided without clocks: the jupyter-cache
records are listed when the build starts, and a page counts as executed when the build
left a cache record for it that was not there before (or its execution failed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

# Time budgets in seconds when a lecture declares none (see CONTRIBUTING.md).
DEFAULT_BUDGETS = {"quick": 60, "full": 90, "colab_t4": 600}
# The environment the kernels run in: its pins are part of every page's cache key.
REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
FINGERPRINTS = "book-fingerprints.json"
EXECUTIONS = "book-executions.json"
IMPORT_RE = re.compile(
    r"^[ \t]*(?:from[ \t]+helpers\.(\w+)[ \t]+import"  # from helpers.x import ...
    r"|import[ \t]+helpers\.(\w+)"  # import helpers.x
    r"|from[ \t]+helpers[ \t]+import[ \t]+\(?([\w ,\t\n]+)\)?)",  # from helpers import x, y
    re.M,
)


# ------------------------------------------------------------ what a page depends on


def helpers_dir() -> Path:
    """The helpers package's folder (BOOK_HELPERS_DIR overrides it, for tests)."""
    if os.environ.get("BOOK_HELPERS_DIR"):
        return Path(os.environ["BOOK_HELPERS_DIR"])
    import helpers

    return Path(helpers.__file__).resolve().parent


def imported_helpers(text: str, package: Path) -> set[str]:
    """The helpers modules that `text` imports directly (`from helpers.x import ...` etc.)."""
    found = set()
    for module, dotted, names in IMPORT_RE.findall(text):
        candidates = [module or dotted] if (module or dotted) else re.split(r"[\s,]+", names)
        found |= {name for name in candidates if name and (package / f"{name}.py").exists()}
    return found


def helpers_closure(modules: set[str], package: Path) -> set[str]:
    """`modules` and every helpers module they import, transitively."""
    todo, seen = list(modules), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += imported_helpers((package / f"{name}.py").read_text(encoding="utf-8"), package)
    return seen


def environment_digest(requirements: Path = REQUIREMENTS) -> str:
    """A hash of the kernels' environment: the pins in `requirements` and the installed torch.

    The torch version is read from the package metadata (importing torch takes seconds).
    """
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = "not installed"
    pins = requirements.read_bytes() if requirements.exists() else b""
    return hashlib.sha256(b"torch=" + torch_version.encode() + b"\n" + pins).hexdigest()


def fingerprint(source: Path, profile: str, package: Path, environment: str | None = None) -> str:
    """A hash of what a page's outputs depend on besides its code: profile, helpers modules and
    the environment (`environment_digest()` unless given)."""
    modules = helpers_closure(imported_helpers(source.read_text(encoding="utf-8"), package), package)
    environment = environment_digest() if environment is None else environment
    digest = hashlib.sha256(f"profile={profile}\nenvironment={environment}\n".encode())
    for name in sorted(modules | {"__init__"}):
        digest.update(f"{name}\n".encode() + (package / f"{name}.py").read_bytes())
    return digest.hexdigest()


def cache_dir(app: Sphinx) -> Path:
    configured = app.config.nb_execution_cache_path
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def purge_stale(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Drop cached outputs whose helpers or profile changed, and have Sphinx re-read those pages."""
    if app.config.nb_execution_mode != "cache":
        return []
    from jupyter_cache import get_cache

    package, profile, environment = helpers_dir(), app.config.book_profile, environment_digest()
    manifest_path = cache_dir(app) / FINGERPRINTS
    manifest = _load(manifest_path)
    stale = []
    for docname in sorted(env.found_docs):
        source = Path(env.doc2path(docname))
        if source.suffix not in (".md", ".ipynb") or not source.exists():
            continue
        current = fingerprint(source, profile, package, environment)
        if manifest.get(docname) == current:
            continue
        cache = get_cache(str(cache_dir(app)))
        for record in cache.list_cache_records():
            if Path(record.uri).resolve() == source.resolve():
                cache.remove_cache(record.pk)
        manifest[docname] = current
        stale.append(docname)
    _save(manifest_path, manifest)
    return [d for d in stale if d not in added and d not in changed]


# ------------------------------------------------------------ budgets and the report


def front_matter(source: Path) -> dict:
    text = source.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, flags=re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def budgets(source: Path) -> dict[str, float]:
    """A page's time budgets per profile: its front matter's `book.budget_seconds` over the defaults."""
    declared = (front_matter(source).get("book") or {}).get("budget_seconds") or {}
    unknown = set(declared) - set(DEFAULT_BUDGETS)
    if unknown:
        raise ValueError(f"{source}: unknown budget(s) {sorted(unknown)}; use {sorted(DEFAULT_BUDGETS)}")
    return {**DEFAULT_BUDGETS, **declared}


def cache_records(app: Sphinx) -> dict[tuple, Path]:
    """The jupyter-cache records now: {(pk, hashkey, created): the notebook's source path}.

    pk alone is no identity: SQLite may give a new record the pk of one just deleted.
    """
    if app.config.nb_execution_mode != "cache":
        return {}
    from jupyter_cache import get_cache

    return {(r.pk, r.hashkey, str(r.created)): Path(r.uri).resolve()
            for r in get_cache(str(cache_dir(app))).list_cache_records()}


def executed_in_this_build(app: Sphinx) -> set[str]:
    """The docnames this build executed: a cache record that was not there when it started,
    or an execution that failed (which leaves no record)."""
    from myst_nb.sphinx_ import NbMetadataCollector

    env = app.env
    before = getattr(app, "book_records_before", {})
    new = {path for key, path in cache_records(app).items() if key not in before}
    read = getattr(app, "book_docs_read", set())
    executed = set()
    for docname in read:
        data = NbMetadataCollector.get_exec_data(env, docname)
        if not data:
            continue
        if not data["succeeded"] or Path(env.doc2path(docname)).resolve() in new:
            executed.add(docname)
    return executed


def execution_rows(app: Sphinx) -> list[dict]:
    """One row per executed notebook: source, profile, device, seconds, executed or cached, status."""
    from myst_nb.sphinx_ import NbMetadataCollector

    env = app.env
    ran = executed_in_this_build(app)
    executions = _load(cache_dir(app) / EXECUTIONS)
    rows = []
    for docname in sorted(env.found_docs):
        data = NbMetadataCollector.get_exec_data(env, docname)
        if not data:
            continue
        source = Path(env.doc2path(docname))
        executed = docname in ran
        if executed and data["succeeded"]:
            executions[docname] = {"device": build_device(app), "date": dt.datetime.now(dt.UTC).isoformat()}
        budget = budgets(source)[app.config.book_profile]
        seconds = data.get("runtime")
        rows.append({
            "docname": docname,
            "source": source.relative_to(Path(app.srcdir)).as_posix(),
            "profile": app.config.book_profile,
            "device": build_device(app) if executed else executions.get(docname, {}).get("device", "unknown"),
            "seconds": round(seconds, 2) if seconds is not None else None,
            "method": "executed" if executed else "cache",
            "status": "ok" if data["succeeded"] else "failed",
            "error": data.get("error"),
            "budget_seconds": budget,
            "over_budget": seconds is not None and seconds > budget,
            "budgets": budgets(source),
        })
    _save(cache_dir(app) / EXECUTIONS, executions)
    return rows


def build_device(app: Sphinx) -> str:
    """The device the kernels of this build run on (found lazily: importing torch takes seconds)."""
    if not app.config.book_device:
        from helpers.device import device_name, get_device

        app.config.book_device = device_name(get_device())
    return app.config.book_device


def note_build_start(app: Sphinx) -> None:
    """Remember the cache records that exist before anything is read or executed."""
    app.book_records_before = cache_records(app)
    app.book_docs_read = set()


def note_docs_read(app: Sphinx, env, docnames: list[str]) -> None:
    """Remember the pages this build (re-)reads: only those can have been executed."""
    app.book_docs_read = set(docnames)


def write_report(app: Sphinx, exception) -> None:
    """Write <build>/execution-report.json when the build finishes (also after warnings)."""
    if app.builder.name != "html" or not hasattr(app, "book_records_before"):
        return
    rows = execution_rows(app)
    report = {
        "profile": app.config.book_profile,
        # Finding the device imports torch: only worth it when this build executed something.
        "device": build_device(app) if any(r["method"] == "executed" for r in rows) else None,
        "commit": os.environ.get("BOOK_COMMIT", "unknown"),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "notebooks": rows,
    }
    _save(Path(app.outdir).parent / "execution-report.json", report)


class execution_status(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Placeholder replaced by the status table once every page has been executed."""


class ExecutionStatusDirective(SphinxDirective):
    """`{execution-status}`: the table of lecture execution times against their budgets."""

    def run(self):
        return [execution_status()]


def _row(cells: list[str], header: bool = False) -> nodes.row:
    row = nodes.row()
    for text in cells:
        entry = nodes.entry()
        entry += nodes.paragraph(text=text)
        row += entry
    return row


def render_status(app: Sphinx, doctree, docname: str) -> None:
    for node in doctree.findall(execution_status):
        rows = execution_rows(app)
        table = nodes.table(classes=["execution-status"])
        group = nodes.tgroup(cols=7)
        table += group
        group.extend(nodes.colspec(colwidth=1) for _ in range(7))
        head = nodes.thead()
        head += _row(["Notebook", "Status", "Seconds", "Budget (s)", "Within budget", "Run", "Device"])
        body = nodes.tbody()
        for r in rows:
            within = "n/a" if r["seconds"] is None else ("OVER BUDGET" if r["over_budget"] else "yes")
            body += _row([r["source"], r["status"], "–" if r["seconds"] is None else f"{r['seconds']:.1f}",
                          f"{r['budget_seconds']:.0f}", within, r["method"], r["device"]])
        group += head
        group += body
        caption = nodes.paragraph(text=(
            f"Profile '{app.config.book_profile}'. "
            "'Run' says whether the notebook was executed in this build or its outputs came from the "
            "execution cache (in which case the time is that of the run that produced them)."))
        node.replace_self([caption, table])


# ------------------------------------------------------------ the Colab button


def colab_url(app: Sphinx, pagename: str) -> str | None:
    """The Colab URL of a lecture's generated notebook, or None when the page is no lecture."""
    repo = app.config.book_repository_url.rstrip("/")
    if not pagename.startswith("lectures/") or not repo.startswith("https://github.com/"):
        return None
    owner_name = repo.removeprefix("https://github.com/")
    return (f"https://colab.research.google.com/github/{owner_name}/blob/"
            f"{app.config.book_colab_branch}/{pagename}.ipynb")


def add_colab_button(app: Sphinx, pagename, templatename, context, doctree) -> None:
    url = colab_url(app, pagename)
    if url is None or "header_buttons" not in context:
        return
    context["header_buttons"].append({
        "type": "group", "tooltip": "Run this lecture", "icon": "fas fa-rocket", "label": "launch-buttons",
        "buttons": [{"type": "link", "text": "Open in Colab", "tooltip": "Open this lecture in Google Colab",
                     "icon": "_static/images/logo_colab.png", "url": url}],
    })


def add_pdf_button(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """A lecture's PDF, next to its Colab button. tools/pdf.py prints it after the HTML build,
    to the predictable path pdf/<lecture>.pdf of the site."""
    if not pagename.startswith("lectures/") or "header_buttons" not in context:
        return
    url = context["pathto"](f"pdf/{pagename.removeprefix('lectures/')}.pdf", 1)
    context["header_buttons"].append({
        "type": "link", "url": url, "tooltip": "Download this lecture as PDF (for printing)",
        "icon": "fas fa-file-pdf", "label": "lecture-pdf",
    })


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_profile", os.environ.get("BOOK_PROFILE", "quick"), "env")
    app.add_config_value("book_device", os.environ.get("BOOK_DEVICE", ""), "env")
    app.add_config_value("book_repository_url", "", "html")
    app.add_config_value("book_colab_branch", "colab", "html")
    app.add_node(execution_status)
    app.add_directive("execution-status", ExecutionStatusDirective)
    app.connect("builder-inited", note_build_start)
    app.connect("env-get-outdated", purge_stale)
    app.connect("env-before-read-docs", note_docs_read)
    app.connect("doctree-resolved", render_status)
    app.connect("html-page-context", add_colab_button, priority=600)
    app.connect("html-page-context", add_pdf_button, priority=601)
    app.connect("build-finished", write_report)
    return {"version": "0.1", "parallel_read_safe": False, "parallel_write_safe": True}
