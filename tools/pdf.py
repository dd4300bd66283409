"""Print every lecture of the built site, and the whole book, to PDF.

Headless Chromium prints each lecture's HTML page with the book's print stylesheet
(`@media print` in _static/book.css: the text column only, A4, code wrapped to the page,
solutions open, MathJax's formulas with a searchable text layer), and poppler's `pdfunite`
joins a title page and the lectures into the book. Both are Debian packages
(`bash tools/install_debian.sh`, which `make book` runs); nothing here needs TeX.

tools/build.py calls `build()` after a successful HTML build. It writes
`_build/<profile>/pdf/<lecture>.pdf` and `_build/<profile>/pdf/book.pdf` and copies them into
the site, `html/pdf/`, where each lecture's PDF button (tools/book_ext.py) and the home page
link them. By hand, on a site that is already built:
`python -m tools.pdf [--profile quick|full]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PDF_DIR = "pdf"
BOOK_PDF = "book.pdf"
TOOLS = {"chromium": "chromium", "pdfunite": "poppler-utils", "pdfinfo": "poppler-utils"}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--mute-audio", "--no-pdf-header-footer",
                  # Virtual time runs the page's scripts (MathJax) to completion before printing.
                  "--virtual-time-budget=60000"]


class PdfError(RuntimeError):
    """The PDFs could not be made; the message says why and what to do."""


def missing_tools() -> list[str]:
    """The commands the PDF step needs that are not installed, with their Debian packages."""
    return [f"{cmd} (Debian's {pkg})" for cmd, pkg in TOOLS.items() if shutil.which(cmd) is None]


def lectures(root: Path, html_dir: Path) -> list[str]:
    """The lectures' docnames in the book's order (_toc.yml) that the site has pages for."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                found.append(node["file"].removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [d for d in found if d.startswith("lectures/") and (html_dir / f"{d}.html").exists()]


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    if not match:
        raise PdfError(f"pdfinfo reports no page count for {pdf}")
    return int(match.group(1))


def print_page(url: str, pdf: Path, scratch: Path, timeout: float = 300) -> None:
    """Print `url` to `pdf` with headless Chromium (its own profile folder under `scratch`)."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=scratch))
    cmd = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", url]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise PdfError(f"Chromium did not print {url} within {timeout:.0f} s") from err
    if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise PdfError(f"Chromium could not print {url} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def page_title(page: Path) -> str:
    """A built page's title (its <title>, without the book's name)."""
    match = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S)
    title = html.unescape(match.group(1)).strip() if match else page.stem
    return re.sub(r"\s+[—-]+\s+[^—]*$", "", title)


def title_page(config: dict, entries: list[tuple[str, str, int]], commit: str, profile: str) -> str:
    """The book's title page and contents: entries are (week caption, title, first page)."""
    rows = "\n".join(f"<tr><td class='week'>{html.escape(week)}</td><td>{html.escape(title)}</td>"
                     f"<td class='page'>{first}</td></tr>" for week, title, first in entries)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(config['title'])}</title>
<style>
@page {{ size: A4; margin: 25mm 22mm; }}
body {{ font-family: "DejaVu Sans", sans-serif; color: #111; font-size: 10.5pt; }}
h1 {{ font-size: 24pt; font-weight: 600; margin: 30mm 0 6mm; line-height: 1.25; }}
.by {{ font-size: 12pt; margin-bottom: 4mm; }}
.note {{ color: #444; font-size: 9.5pt; margin-bottom: 14mm; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ padding: 1.6mm 2mm; vertical-align: top; border-bottom: 0.3pt solid #ccc; }}
td.week {{ white-space: nowrap; color: #444; }} td.page {{ text-align: right; }}
h2 {{ font-size: 13pt; font-weight: 600; }}
</style></head><body>
<h1>{html.escape(config['title'])}</h1>
<div class="by">{html.escape(config.get('author', ''))}</div>
<div class="note">Printed from the course book's website on {date}: profile <b>{html.escape(profile)}</b>,
commit <code>{html.escape(commit[:12])}</code>. Each lecture's first page states how its numbers were
produced. Page numbers at the foot of a page count within its lecture; the contents give the
lecture's first page in this file.</div>
<h2>Contents</h2>
<table>{rows}</table>
</body></html>"""


def week_captions(root: Path) -> dict[str, str]:
    """{docname: its part's caption in _toc.yml} ('Week 4 · ...' becomes 'Week 4')."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    captions = {}
    for part in toc.get("parts", []):
        caption = str(part.get("caption", "")).split(" · ")[0]
        for chapter in part.get("chapters", []):
            if isinstance(chapter.get("file"), str):
                captions[chapter["file"].removesuffix(".md")] = caption
    return captions


def build(root: Path, out: Path, profile: str, jobs: int | None = None, commit: str | None = None) -> list[Path]:
    """Print the lectures of `out`/html and join them into the book; return the PDFs written.

    Raises PdfError, saying what to install or what failed.
    """
    missing = missing_tools()
    if missing:
        raise PdfError(f"the PDF step needs {', '.join(missing)}: run `bash tools/install_debian.sh` "
                       "(`make book` does), or build with --no-pdf")
    html_dir, pdf_dir = out / "html", out / PDF_DIR
    docnames = lectures(root, html_dir)
    if not docnames:
        raise PdfError(f"{html_dir} has no lecture pages to print")
    shutil.rmtree(pdf_dir, ignore_errors=True)
    pdf_dir.mkdir(parents=True)
    jobs = jobs or max(1, min(3, os.cpu_count() or 1))
    commit = commit or os.environ.get("BOOK_COMMIT", "unknown")
    with tempfile.TemporaryDirectory(prefix="book-pdf-") as tmp:
        scratch = Path(tmp)
        targets = {d: pdf_dir / f"{d.removeprefix('lectures/')}.pdf" for d in docnames}
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(print_page, (html_dir / f"{d}.html").resolve().as_uri(), pdf, scratch)
                       for d, pdf in targets.items()]
            for future in futures:
                future.result()
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        captions = week_captions(root)
        counts = {d: page_count(pdf) for d, pdf in targets.items()}
        title_html = scratch / "title.html"
        title_pdf = scratch / "title.pdf"
        first_page = {}
        for _ in range(2):  # the contents may run to a second page, which shifts every entry
            offset = page_count(title_pdf) if title_pdf.exists() else 1
            for d in docnames:
                first_page[d] = offset + 1
                offset += counts[d]
            entries = [(captions.get(d, ""), page_title(html_dir / f"{d}.html"), first_page[d]) for d in docnames]
            title_html.write_text(title_page(config, entries, commit, profile), encoding="utf-8")
            print_page(title_html.as_uri(), title_pdf, scratch)
            if page_count(title_pdf) + 1 == first_page[docnames[0]]:
                break
        book = pdf_dir / BOOK_PDF
        proc = subprocess.run(["pdfunite", str(title_pdf), *map(str, targets.values()), str(book)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise PdfError(f"pdfunite could not join the lectures: {proc.stderr[-2000:]}")
    site_copy = html_dir / PDF_DIR
    shutil.rmtree(site_copy, ignore_errors=True)
    shutil.copytree(pdf_dir, site_copy)
    return [*targets.values(), book]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the built lectures and the book to PDF.")
    parser.add_argument("--profile", default=os.environ.get("BOOK_PROFILE", "quick"),
                        help="which build folder, _build/<profile>/ (default: BOOK_PROFILE, else quick)")
    parser.add_argument("--jobs", type=int, default=None, help="Chromium processes at once (default: up to 3)")
    args = parser.parse_args(argv)
    out = ROOT / "_build" / args.profile
    start = time.perf_counter()
    try:
        pdfs = build(ROOT, out, args.profile, args.jobs)
    except PdfError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(pdfs)} PDF(s) in {(out / PDF_DIR).relative_to(ROOT)}/ in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
