"""tools/book_ext.py: the execution cache re-runs exactly what a change affects; budgets; report."""

from __future__ import annotations

import json
import shutil
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


def test_fingerprint_depends_on_the_environment(tmp_path, monkeypatch):
    pkg = tmp_path / "helpers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    page = tmp_path / "page.md"
    page.write_text("```{code-cell} ipython3\nx = 1\n```\n")
    assert book_ext.fingerprint(page, "quick", pkg, "env-a") != book_ext.fingerprint(page, "quick", pkg, "env-b")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch==2.4.1\n")
    monkeypatch.setattr(book_ext.importlib.metadata, "version", lambda name: "2.4.1")
    base = book_ext.environment_digest(requirements)
    requirements.write_text("torch==2.5.0\n")
    assert book_ext.environment_digest(requirements) != base, "a new pin must change the digest"
    requirements.write_text("torch==2.4.1\n")
    assert book_ext.environment_digest(requirements) == base
    monkeypatch.setattr(book_ext.importlib.metadata, "version", lambda name: "2.5.0+cu121")
    assert book_ext.environment_digest(requirements) != base, "an upgraded torch must change the digest"
    # The default fingerprint includes the real environment.
    monkeypatch.setattr(book_ext, "environment_digest", lambda requirements=None: "changed")
    assert book_ext.fingerprint(page, "quick", pkg) == book_ext.fingerprint(page, "quick", pkg, "changed")


# ------------------------------------------------------------ end to end, on a tiny book

# The pages of the tiny book and the helpers module each imports (None: no helpers import).
IMPORTS = {"alpha": "plotting", "beta": "config", "gamma": None}


def page(module: str | None, pkg: Path) -> str:
    imports = f"from helpers import {module}\n        " if module else ""
    return f"""
        # Page {module or "without helpers"}

        Some prose.

        ```{{code-cell}} ipython3
        import sys
        sys.path.insert(0, {str(pkg.parent)!r})
        {imports}VALUE = 1
        assert VALUE >= 1
        ```
        """


@pytest.fixture()
def tiny_book(tmp_path, root):
    """A tiny book whose pages import a temporary copy of src/helpers (BOOK_HELPERS_DIR)."""
    pkg = tmp_path / "pkg" / "helpers"
    shutil.copytree(root / "src" / "helpers", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for module in filter(None, IMPORTS.values()):
        assert (pkg / f"{module}.py").exists(), f"helpers.{module} is gone: update IMPORTS"
    pages = {"index": "# Home\n", **{name: page(module, pkg) for name, module in IMPORTS.items()}}
    return tinybook.make_book(tmp_path, root, pages), pkg


def build(book: Path, root: Path, pkg: Path) -> dict:
    """Build the tiny book west of UTC (where a clock-based report went wrong); return its report."""
    proc = tinybook.build(book, root, BOOK_HELPERS_DIR=str(pkg), TZ="America/New_York")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((book / "out" / "execution-report.json").read_text())


def executed(report: dict) -> list[str]:
    rows = [n for n in report["notebooks"] if Path(n["source"]).stem != "index"]
    assert len(rows) == len(IMPORTS), report
    return sorted(Path(n["source"]).stem for n in rows if n["method"] == "executed")


@pytest.mark.build
@pytest.mark.slow
def test_report_says_exactly_what_each_build_executed(tiny_book, root):
    book, pkg = tiny_book
    cold = build(book, root, pkg)
    assert executed(cold) == sorted(IMPORTS), "a cold build executes every page"
    assert cold["device"], "a build that executed something names its device"
    assert all(n["device"] == cold["device"] for n in cold["notebooks"] if n["method"] == "executed")

    unchanged = build(book, root, pkg)
    assert executed(unchanged) == [], "an unchanged rebuild reported an execution"
    assert unchanged["device"] is None
    assert all(n["device"] == cold["device"] for n in unchanged["notebooks"]), "cached pages keep their device"

    alpha = book / "lectures" / "alpha.md"
    alpha.write_text(alpha.read_text().replace("Some prose.", "Edited prose only."))
    assert executed(build(book, root, pkg)) == [], "a prose-only edit re-executed something"

    beta = book / "lectures" / "beta.md"
    beta.write_text(beta.read_text().replace("VALUE = 1", "VALUE = 2"))
    assert executed(build(book, root, pkg)) == ["beta"], "a code edit re-executes exactly that page"

    edited = "profile"  # imported by helpers.config, so a transitive dependency of beta
    (pkg / f"{edited}.py").write_text((pkg / f"{edited}.py").read_text() + "\n# edited\n")
    importers = sorted(name for name, module in IMPORTS.items()
                       if module and edited in book_ext.helpers_closure({module}, pkg))
    assert importers, f"no page depends on helpers.{edited}: the check below could not fail"
    assert executed(build(book, root, pkg)) == importers, f"only the importers of helpers.{edited} re-run"
