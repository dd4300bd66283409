"""The leak scan: nothing published holds a line of a solution region or hidden test, and the scan can tell."""

from __future__ import annotations

import html
import json
import subprocess
import sys

import pytest

from tools.homework import scan
from tools.homework.derive import notebook_text, solution_notebook, student_notebook
from tools.homework.source import read_assignment


@pytest.fixture(scope="module")
def sources(root):
    found = scan.homework_sources(root)
    assert len(found) >= 3  # one per assignment of course.yml (tests/test_homework_course.py)
    return found


@pytest.fixture(scope="module")
def secrets(sources):
    return scan.collect(sources)


def test_there_are_secrets_to_look_for(sources, secrets):
    for source in sources:  # every assignment contributes solution lines and hidden-test lines
        origins = [s.origin for s in secrets.lines if s.origin.startswith(f"homework/{source.name}:")]
        assert any("(solution)" in o for o in origins) and any("(hidden test)" in o for o in origins), source
    assert len(secrets.lines) > 150


def test_student_notebooks_and_helpers_hold_no_secret(tmp_path, root, sources):
    for source in sources:
        (tmp_path / f"{source.stem}.ipynb").write_text(notebook_text(student_notebook(read_assignment(source))))
    report = scan.run_scan([tmp_path, root / "src" / "helpers"], sources)
    assert report.files >= 4 and report.secrets > 150
    assert not report.leaks, "\n".join(map(str, report.leaks))


def test_published_course_notebooks_hold_no_secret(root, sources):
    published = root / "course" / "homework"
    if not published.is_dir():
        pytest.skip("course/homework/ is written by the build (python -m tools.homework publish)")
    assert not scan.run_scan([published], sources).leaks


def plant(site, name: str, text: str) -> None:
    (site / name).parent.mkdir(parents=True, exist_ok=True)
    (site / name).write_text(text, encoding="utf-8")


def test_the_scan_finds_every_kind_of_planted_leak(tmp_path, root, sources):
    """Positive controls: each way a solution could reach the site is caught."""
    hw1 = read_assignment(sources[0])
    site = tmp_path / "site"
    plant(site, "index.html", "<p>Nothing to see.</p>")
    assert not scan.run_scan([site], sources).leaks
    solution_line = "    return 0.5 * (A + A.T) @ w - b"
    hidden_line = "expected_step = 2.0 / torch.linalg.eigvalsh(A).max().item()"
    written_line = r"exactly when $|1 - \alpha \lambda_i| < 1$ for all $i$, that is $0 < \alpha < 2/\lambda_{\max}(A)$."
    highlighted = "".join(f'<span class="n">{html.escape(part)}</span> ' for part in hidden_line.split())
    planted = {
        "lectures/page.html": f"<pre>{highlighted}</pre>",  # a hidden test, syntax-highlighted
        "course/answers.html": f"<p>{html.escape(written_line)}</p>",  # a written answer
        "_downloads/abc/hw1.ipynb": notebook_text(solution_notebook(hw1)),  # the TA notebook, JSON-escaped
        "_sources/homework/hw1-gradients-sgd.md": sources[0].read_text(),  # a copied raw source
        "searchindex.js": "Search.setIndex(" + json.dumps({"docnames": ["homework/hw1-gradients-sgd"],
                                                           "terms": {}, "titles": [solution_line]}) + ")",
        "helpers/solutions.py": f"def grad_quadratic(A, b, w):\n{solution_line}\n",
    }
    for name, text in planted.items():
        plant(site, name, text)
    leaks = scan.run_scan([site], sources).leaks
    by_file = {leak.target.relative_to(site).as_posix() for leak in leaks}
    assert by_file == set(planted), sorted(by_file)
    assert any("searchindex" in str(leak) and "search index entry" in str(leak) for leak in leaks)


def test_the_scan_finds_a_solution_image_by_its_bytes(tmp_path):
    source = tmp_path / "hw-image.md"
    (tmp_path / "answer.png").write_bytes(b"\x89PNG the answer drawn as a plot")
    source.write_text("""---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# Plot

<!-- BEGIN SOLUTION -->
![](answer.png)
<!-- END SOLUTION -->

```{code-cell} ipython3
:tags: [hidden-test]

# TEST q1 (1 point)
assert True
```
""", encoding="utf-8")
    site = tmp_path / "site"
    (site / "_images").mkdir(parents=True)
    (site / "_images" / "renamed.png").write_bytes((tmp_path / "answer.png").read_bytes())
    leaks = scan.run_scan([site], [source]).leaks
    assert [leak.target.name for leak in leaks] == ["renamed.png"]


def test_lines_a_lecture_shares_are_reported_not_sought(tmp_path, sources):
    lecture = tmp_path / "lecture.md"
    lecture.write_text("```python\nexpected_step = 2.0 / torch.linalg.eigvalsh(A).max().item()\n```\n")
    found = scan.collect(sources, [lecture])
    assert [s.words for s in found.shared] == ["expected step 2 0 torch linalg eigvalsh a max item"]
    assert all(s.words != found.shared[0].words for s in found.lines)


def test_scan_command_fails_on_a_leak(tmp_path, root, sources):
    plant(tmp_path, "page.html", "<pre>return 0.5 * (A + A.T) @ w - b</pre>")
    proc = subprocess.run([sys.executable, "-m", "tools.homework", "scan", str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "LEAK" in proc.stdout and "hw1-gradients-sgd.md:" in proc.stdout
    (tmp_path / "page.html").unlink()
    plant(tmp_path, "page.html", "<p>clean</p>")
    proc = subprocess.run([sys.executable, "-m", "tools.homework", "scan", str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "CLEAN" in proc.stdout


@pytest.mark.build
def test_the_built_site_holds_no_secret(built_site, root, sources):
    """The whole site: pages, copied sources, downloads, search index, static files."""
    report = scan.run_scan([built_site], sources)
    assert report.files > 20
    assert not report.leaks, "\n".join(map(str, report.leaks))
    assert not list(built_site.rglob("hw*-*.html")) and not (built_site / "_sources" / "homework").exists()


@pytest.mark.build
def test_the_homework_page_offers_the_student_notebooks(built_site, root):
    page = (built_site / "course" / "homework.html").read_text(encoding="utf-8")
    for ident in ("hw1", "hw2", "hw3"):
        downloads = list(built_site.glob(f"_downloads/*/{ident}.ipynb"))
        assert len(downloads) == 1, ident
        assert f'href="../{downloads[0].relative_to(built_site).as_posix()}"' in page
        assert downloads[0].read_bytes() == (root / "course" / "homework" / f"{ident}.ipynb").read_bytes()
    assert "Week 2" in page and "NotImplementedError" in page
