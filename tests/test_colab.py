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
