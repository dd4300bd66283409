"""tools/colab.py: clean Colab notebooks generated from the MyST lectures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

from tools import colab

SITE = colab.Site("https://example.org/book/", {"thm-gd": ("lectures/other", "Theorem (GD)"),
                                                  "sec-here": ("lectures/this", "A section")})

MYST = textwrap.dedent("""\
    (sec-here)=
    ## A section

    ```{prf:theorem} Descent
    :label: thm-descent

    If $f$ is smooth, then gradient descent decreases $f$.
    ```

    ````{prf:proof}
    By the descent lemma, see {prf:ref}`thm-gd` and {ref}`this section <sec-here>`.

    ```{math}
    :label: eq-one
    a = b
    ```
    ````

    :::{note}
    A note with {math}`x^2`.
    :::

    ```{exercise} Step sizes
    :label: ex-steps

    Show it.
    ```

    ```{solution} ex-steps
    :class: dropdown

    Here is how, by {eq}`eq-one`.
    ```
    """)


def test_myst_becomes_plain_markdown():
    text = colab.rewrite_markdown(MYST, "lectures/this", SITE)
    assert not colab.MYST_LEFTOVER_RE.search(text), text
    assert "**Theorem (Descent).**" in text and '<a id="thm-descent"></a>' in text
    assert "*Proof.*" in text and "$\\blacksquare$" in text
    assert "[Theorem (GD)](https://example.org/book/lectures/other.html#thm-gd)" in text
    assert "[this section](#sec-here)" in text
    assert "$x^2$" in text and "**Note.**" in text
    assert "<details><summary><b>Solution</b></summary>" in text and "</details>" in text
    assert "$$\na = b\n$$" in text


GATED = textwrap.dedent("""\
    ---
    jupytext:
      text_representation: {extension: .md, format_name: myst, format_version: 0.13}
    kernelspec: {display_name: Python 3, language: python, name: python3}
    ---
    # A lecture

    ```{exercise} Nine
    :label: ex-nine

    Square three.
    ```

    ```{solution-start} ex-nine
    :class: dropdown
    ```

    It is nine.

    ```{code-cell} ipython3
    assert 3 ** 2 == 9
    ```

    ```{solution-end}
    ```

    After the solution.
    """)


def test_gated_solution_becomes_a_heading_and_ordinary_code_cells(tmp_path):
    source = tmp_path / "lectures" / "gated.md"
    source.parent.mkdir()
    source.write_text(GATED)
    nb = colab.convert(source, tmp_path, SITE, "helpers @ x", "abc")
    kinds = [(c.cell_type, c.source) for c in nb.cells[1:]]  # after the bootstrap
    code = [i for i, (kind, text) in enumerate(kinds) if kind == "code"]
    assert [kinds[i][1] for i in code] == ["assert 3 ** 2 == 9"], kinds
    before, after = kinds[code[0] - 1][1], kinds[code[0] + 1][1]
    assert "#### Solution" in before and "It is nine." in before, before
    assert "<details>" not in before  # a <details> cannot span notebook cells
    assert "After the solution." in after and "Solution-end" not in after, after
    assert not any(colab.MYST_LEFTOVER_RE.search(t) for k, t in kinds if k == "markdown")


def test_unclosed_directive_is_an_error():
    with pytest.raises(ValueError, match="unclosed directive"):
        colab.rewrite_markdown("```{note}\nnever closed\n", "lectures/x", SITE)


def test_generation_is_deterministic(tmp_path, root):
    first = colab.generate(tmp_path / "a", root, commit="abc")
    second = colab.generate(tmp_path / "b", root, commit="abc")
    assert first, "no lecture notebooks were generated"
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory, root):
    return colab.generate(tmp_path_factory.mktemp("colab"), root, commit="0123456789ab")


def test_every_lecture_has_a_notebook_without_myst(notebooks, root):
    assert [p.stem for p in notebooks] == [s.stem for s in colab.lecture_sources(root)]
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            assert not colab.MYST_LEFTOVER_RE.search(cell.source), f"{path.name}: {cell.source[:200]}"
            assert "{code-cell}" not in cell.source and "mystnb" not in str(cell.metadata)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_first_cell_installs_helpers_at_the_build_commit_only_in_colab(notebooks):
    first = nbformat.read(notebooks[0], as_version=4).cells[0]
    assert first.cell_type == "code"
    assert "git+https://github.com/" in first.source and "@0123456789ab" in first.source
    assert 'if "google.colab" in sys.modules' in first.source


@pytest.mark.build
def test_each_lecture_page_links_to_its_colab_notebook(built_site, root):
    colab_dir = built_site.parent / "colab"
    pages = sorted((built_site / "lectures").glob("*.html"))
    assert pages
    for page in pages:
        links = re.findall(r'href="(https://colab\.research\.google\.com/github/[^"]+)"', page.read_text())
        assert len(set(links)) == 1, f"{page.name}: expected one Colab link, found {links}"
        path = re.sub(r"^https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/", "", links[0])
        assert (colab_dir / path).exists(), f"{page.name} links to {path}, which was not generated"


def _pins(root: Path, names: tuple[str, ...]) -> list[str]:
    lines = (root / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line.split("==")[0].lower() in names]


@pytest.mark.build
def test_week_1_notebook_runs_in_a_fresh_environment(tmp_path, root):
    """Only torch, torchvision, matplotlib, and helpers installed by the notebook's own first cell."""
    venv = root / "_build" / "colab-venv"
    python = venv / "bin" / "python"
    if not (venv / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pins = _pins(root, ("torch", "torchvision", "matplotlib"))
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], check=True, timeout=900)
        (venv / ".ready").touch()
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "dnn-course-helpers"], check=False)
    [notebook] = colab.generate(tmp_path / "nb", root, commit="test", helpers_spec=str(root))[:1]
    script = tmp_path / "week1.py"
    jupytext.write(nbformat.read(notebook, as_version=4), script, fmt="py:percent")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(BOOK_PROFILE="quick", BOOK_BOOTSTRAP="1", MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1")
    proc = subprocess.run([str(python), str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import helpers; print(helpers.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    assert str(venv) in where.stdout, "helpers was not installed into the fresh environment"


# ------------------------------------------------------------ the commit the notebooks pin


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def clone(tmp_path, root) -> Path:
    """A clone of the repository's HEAD, free to be made dirty."""
    dest = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(dest)], check=True, capture_output=True)
    return dest


def warning_after_title(path: Path) -> str:
    """The text of the markdown cell right after the one that ends with the title."""
    cells = nbformat.read(path, as_version=4).cells
    title = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and "\n# " in "\n" + c.source)
    assert cells[title].source.splitlines()[-1].startswith("# "), f"{path.name}: nothing follows the title"
    assert cells[title + 1].cell_type == "markdown"
    return cells[title + 1].source


def has_warning(path: Path) -> bool:
    return any("not for publication" in c.source for c in nbformat.read(path, as_version=4).cells)


def test_notebooks_pin_head_and_warn_when_helpers_have_uncommitted_changes(clone, tmp_path):
    head = git(clone, "rev-parse", "HEAD")
    # Changes outside src/helpers (a lecture being edited, a stray file) do not matter.
    lecture = sorted((clone / "lectures").glob("*.md"))[0]
    lecture.write_text(lecture.read_text() + "\nOne more sentence.\n")
    (clone / "notes.txt").write_text("scratch\n")
    state = colab.helpers_state(clone)
    assert state.commit == head and state.changes == () and state.warning is None
    out = tmp_path / "colab"
    clean = colab.generate(out, clone, commit=state.commit, warning=state.warning)
    assert clean and not (out / colab.UNPUBLISHABLE).exists()
    assert not any(has_warning(p) for p in clean)
    assert f"@{head}" in nbformat.read(clean[0], as_version=4).cells[0].source

    # A tracked helpers module edited, and an untracked one added: both are changes the commit lacks.
    module = sorted((clone / "src" / "helpers").glob("*.py"))[-1]
    module.write_text(module.read_text() + "\n# a local change\n")
    (clone / "src" / "helpers" / "brand_new.py").write_text('"""Not committed yet."""\n')
    state = colab.helpers_state(clone)
    assert state.commit == head
    assert {line[3:] for line in state.changes} == {f"src/helpers/{module.name}", "src/helpers/brand_new.py"}
    dirty = colab.generate(out, clone, commit=state.commit, warning=state.warning)
    marker = out / colab.UNPUBLISHABLE
    assert marker.exists() and "uncommitted" in marker.read_text()
    for path in dirty:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert f"@{head}" in nb.cells[0].source, "the install cell still pins HEAD"
        warning = warning_after_title(path)
        assert "not for publication" in warning, f"{path.name}: no warning cell after the title"
        assert head[:12] in warning and "uncommitted" in warning and "brand_new.py" in warning
        assert not colab.MYST_LEFTOVER_RE.search(warning)

    # Committed again: the warning and the marker go.
    git(clone, "add", "src/helpers")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "helpers")
    state = colab.helpers_state(clone)
    assert state.changes == () and state.commit != head
    colab.generate(out, clone, commit=state.commit, warning=state.warning)
    assert not marker.exists(), "a stale UNPUBLISHABLE survived a clean regeneration"


def test_helpers_state_outside_git_says_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="no git checkout"):
        colab.helpers_state(tmp_path)
