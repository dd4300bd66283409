"""The PDFs that tools/pdf.py prints from the built site: one per lecture and the whole book.

The build tests open them with poppler's pdftotext and pdfinfo (Debian's poppler-utils,
installed with chromium by tools/install_debian.sh).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from tools import pdf

ROOT = Path(__file__).resolve().parent.parent
# A TeX formula whose text survives extraction as is: letters, digits, + - = ( ).
PLAIN_FORMULA = re.compile(r"^(?=.*[=+\-])[A-Za-z0-9 +\-=()]{5,40}$")


# ------------------------------------------------------------ fast: the step's own logic


def test_lectures_follow_the_toc_and_skip_pages_not_built(tmp_path):
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "course/index",
        "parts": [{"caption": "Week 2 · B", "chapters": [{"file": "lectures/b"}]},
                  {"caption": "Week 1 · A", "chapters": [{"file": "lectures/a"}, {"file": "lectures/c"}]}]}))
    (tmp_path / "html" / "lectures").mkdir(parents=True)
    for name in ("a", "b"):
        (tmp_path / "html" / "lectures" / f"{name}.html").write_text("<title>x</title>")
    assert pdf.lectures(tmp_path, tmp_path / "html") == ["lectures/b", "lectures/a"]
    assert pdf.week_captions(tmp_path)["lectures/c"] == "Week 1"


def test_page_title_drops_the_book_name(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<title>Logistic regression &amp; shallow networks — Mathematical Foundations</title>")
    assert pdf.page_title(page) == "Logistic regression & shallow networks"


def test_title_page_lists_the_lectures_with_their_first_pages():
    page = pdf.title_page({"title": "A <Book>", "author": "Staff"},
                          [("Week 1", "Optimization", 2), ("Week 2", "Logistic", 30)], "0123456789abcdef", "quick")
    assert "A &lt;Book&gt;" in page and "0123456789ab" in page and "quick" in page
    assert re.search(r"Logistic</td><td class='page'>30<", page)


def test_missing_tools_name_their_debian_packages(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda cmd: None)
    assert "chromium (Debian's chromium)" in pdf.missing_tools()
    with pytest.raises(pdf.PdfError, match="install_debian.sh"):
        pdf.build(ROOT, ROOT / "_build" / "nowhere", "quick")


def test_the_print_stylesheet_wraps_code_and_opens_solutions():
    css = (ROOT / "_static" / "book.css").read_text(encoding="utf-8")
    rules = css[css.index("@media print"):]
    assert "pre-wrap" in rules and "size: A4" in rules and ".toggle-hidden" in rules
    assert "mjx-assistive-mml" in rules  # the formulas' text layer


# ------------------------------------------------------------ the PDFs of the built book


def text_of(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *args, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def normalized(text: str) -> str:
    """NFKC (math italic letters become plain ones), one kind of minus, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).replace("\u2212", "-"))


def pages_of(path: Path) -> int:
    return pdf.page_count(path)


def source_title(source: Path) -> str:
    return next(line[2:].strip() for line in source.read_text(encoding="utf-8").splitlines()
                if line.startswith("# "))


def printed_code_lines(source: Path) -> list[str]:
    """The lines of the code cells that print shows (not those whose input is hidden or removed)."""
    text = source.read_text(encoding="utf-8")
    lines = []
    for header, body in re.findall(r"^```\{code-cell\}[^\n]*\n(---\n.*?\n---\n)?(.*?)^```", text, re.S | re.M):
        if re.search(r"(hide|remove)-(input|cell)", header or "") or body.startswith(":tags:"):
            continue
        lines += [line for line in body.splitlines() if not line.startswith(":")]
    return lines


@pytest.fixture(scope="module")
def pdfs(built_site):
    folder = built_site / pdf.PDF_DIR
    assert folder.is_dir(), f"the build wrote no {folder}"
    return folder


@pytest.fixture(scope="module")
def book_root(built_site):
    """The checkout the site was built from (_build/<profile>/html is three levels down)."""
    root = built_site.resolve().parents[2]
    return root if (root / "_toc.yml").exists() and (root / "lectures").is_dir() else ROOT


@pytest.fixture(scope="module")
def lecture_names(built_site, book_root):
    return [d.removeprefix("lectures/") for d in pdf.lectures(book_root, built_site)]




@pytest.mark.build
def test_one_pdf_per_lecture_and_one_for_the_book(pdfs, lecture_names):
    assert lecture_names, "the site has no lectures"
    assert sorted(p.name for p in pdfs.glob("*.pdf")) == sorted([*(f"{n}.pdf" for n in lecture_names), pdf.BOOK_PDF])


@pytest.mark.build
def test_each_lecture_pdf_has_its_title_a_formula_and_no_raw_tex(pdfs, lecture_names, built_site, book_root):
    for name in lecture_names:
        text = text_of(pdfs / f"{name}.pdf")
        source = book_root / "lectures" / f"{name}.md"
        assert normalized(source_title(source)) in normalized(text), f"{name}: title missing"
        assert "How this page was executed" in text, f"{name}: the provenance note is missing"
        assert not re.search(r"\\(frac|mathbb|mathcal|begin\{)", text), f"{name}: TeX left untypeset"
        assert "??" not in text, f"{name}: an unresolved cross-reference"
        soup = BeautifulSoup((built_site / "lectures" / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        formulas = [m.get_text()[2:-2].strip() for m in soup.select("span.math")
                    if PLAIN_FORMULA.match(m.get_text()[2:-2].strip())]
        assert formulas, f"{name}: no plain formula to look for"
        found = [f for f in formulas if normalized(f) in normalized(text)]
        assert len(found) >= min(3, len(formulas)), f"{name}: formulas missing from the PDF text: {formulas[:5]}"


@pytest.mark.build
def test_no_page_is_blank(pdfs):
    for path in sorted(pdfs.glob("*.pdf")):
        pages = text_of(path).split("\f")[:pages_of(path)]
        blank = [i + 1 for i, page in enumerate(pages) if not page.strip()]
        for number in blank:  # no text: a page of drawing only is fine, a white one is not
            image = subprocess.run(["pdftoppm", "-r", "12", "-gray", "-f", str(number), "-l", str(number),
                                    str(path)], capture_output=True, check=True).stdout
            pixels = image.split(b"\n", 3)[3]
            assert min(pixels) < 200, f"{path.name}: page {number} is blank"


@pytest.mark.build
def test_page_counts_are_plausible(pdfs, lecture_names, book_root):
    counts = {name: pages_of(pdfs / f"{name}.pdf") for name in lecture_names}
    for name, count in counts.items():
        assert 3 <= count <= 80, f"{name}: {count} pages"
    title_pages = pages_of(pdfs / pdf.BOOK_PDF) - sum(counts.values())
    assert 1 <= title_pages <= 2, f"the book has {title_pages} pages besides its lectures"
    book = text_of(pdfs / pdf.BOOK_PDF, "-l", "2")
    assert "Contents" in book and all(normalized(source_title(book_root / "lectures" / f"{n}.md")) in normalized(book)
                                      for n in lecture_names)


@pytest.mark.build
def test_the_widest_code_line_of_each_lecture_is_printed_whole(pdfs, lecture_names, book_root):
    for name in lecture_names:
        lines = printed_code_lines(book_root / "lectures" / f"{name}.md")
        widest = max(lines, key=len)
        text_lines = [" ".join(line.split()) for line in text_of(pdfs / f"{name}.pdf").splitlines()]
        assert " ".join(widest.split()) in text_lines, f"{name}: the widest code line is cut or wrapped: {widest!r}"


@pytest.mark.build
def test_lecture_pages_link_their_pdf_and_the_home_page_the_book(built_site, lecture_names):
    for name in lecture_names:
        soup = BeautifulSoup((built_site / "lectures" / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        assert soup.select_one(f'a.btn-lecture-pdf[href="../pdf/{name}.pdf"]'), f"{name}: no PDF button"
    home = (built_site / "course" / "index.html").read_text(encoding="utf-8")
    assert f'href="../pdf/{pdf.BOOK_PDF}"' in home
