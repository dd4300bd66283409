"""tools/book_ext.py: the execution cache re-runs exactly what a change affects; budgets; report."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import tinybook

from tools import book_ext


def test_imported_helpers_parses_every_import_form(tmp_path):
    for name in ("alpha", "beta", "gamma", "delta"):
        (tmp_path / f"{name}.py").write_text("")
    text = textwrap.dedent("""
        from helpers.alpha import f, g
        import helpers.beta
        from helpers import gamma, delta
        from helpers import (
            alpha,
        )
        from helpersextra.alpha import nothing
        # from helpers.missing import x  (no such module: ignored)
    """)
    assert book_ext.imported_helpers(text, tmp_path) == {"alpha", "beta", "gamma", "delta"}


def test_closure_follows_helpers_imports(tmp_path):
    (tmp_path / "alpha.py").write_text("X = 1\n")
    (tmp_path / "beta.py").write_text("from helpers.alpha import X\n")
    (tmp_path / "gamma.py").write_text("from helpers.beta import X\n")
    assert book_ext.helpers_closure({"gamma"}, tmp_path) == {"alpha", "beta", "gamma"}


def test_fingerprint_depends_on_profile_and_imported_modules_only(tmp_path):
    pkg = tmp_path / "helpers"
    pkg.mkdir()
    for name in ("__init__", "alpha", "beta"):
        (pkg / f"{name}.py").write_text(f"# {name}\n")
    page = tmp_path / "page.md"
    page.write_text("```{code-cell} ipython3\nfrom helpers.alpha import x\n```\n")
    base = book_ext.fingerprint(page, "quick", pkg)
    assert book_ext.fingerprint(page, "full", pkg) != base
    (pkg / "beta.py").write_text("# beta, edited\n")
    assert book_ext.fingerprint(page, "quick", pkg) == base
    (pkg / "alpha.py").write_text("# alpha, edited\n")
    assert book_ext.fingerprint(page, "quick", pkg) != base


def test_budgets_come_from_front_matter(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("---\nbook:\n  budget_seconds: {quick: 30}\n---\n# Page\n")
    assert book_ext.budgets(page) == {"quick": 30, "full": 90, "colab_t4": 600}
    page.write_text("---\nbook:\n  budget_seconds: {fast: 30}\n---\n# Page\n")
    with pytest.raises(ValueError, match="unknown budget"):
        book_ext.budgets(page)


# ------------------------------------------------------------ end to end, on a tiny book



def page(module: str, pkg: Path) -> str:
    return f"""
        # Page using {module}

        Some prose.

        ```{{code-cell}} ipython3
        import sys
        sys.path.insert(0, {str(pkg.parent)!r})
        from helpers.{module} import VALUE
        assert VALUE >= 1
        ```
        """


@pytest.fixture()
def tiny_book(tmp_path, root):
    pkg = tmp_path / "pkg" / "helpers"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "alpha.py").write_text("VALUE = 1\n")
    (pkg / "beta.py").write_text("from helpers.alpha import VALUE\n")
    (pkg / "gamma.py").write_text("VALUE = 3\n")
    pages = {"index": "# Home\n", **{m: page(m, pkg) for m in ("alpha", "beta", "gamma")}}
    return tinybook.make_book(tmp_path, root, pages), pkg


def build(book: Path, root: Path, pkg: Path) -> dict[str, str]:
    """Build the tiny book; return {page: "executed" | "cache"} from its execution report."""
    proc = tinybook.build(book, root, BOOK_HELPERS_DIR=str(pkg))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((book / "out" / "execution-report.json").read_text())
    return {Path(n["source"]).stem: n["method"] for n in report["notebooks"]}


@pytest.mark.build
def test_cache_reexecutes_exactly_what_changed(tiny_book, root):
    book, pkg = tiny_book
    executed = lambda runs: sorted(k for k, v in runs.items() if v == "executed" and k != "index")  # noqa: E731
    assert executed(build(book, root, pkg)) == ["alpha", "beta", "gamma"]
    assert executed(build(book, root, pkg)) == [], "an unchanged rebuild re-executed something"
    lecture = book / "lectures" / "alpha.md"
    lecture.write_text(lecture.read_text().replace("Some prose.", "Edited prose only."))
    assert executed(build(book, root, pkg)) == [], "a prose-only edit re-executed something"
    (pkg / "gamma.py").write_text("VALUE = 4\n")
    assert executed(build(book, root, pkg)) == ["gamma"]
    (pkg / "alpha.py").write_text("VALUE = 2\n")
    assert executed(build(book, root, pkg)) == ["alpha", "beta"], "beta imports alpha: both must re-run"
