"""What is published is safe and whole: only table-of-contents sources, no broken internal
link or missing image, alt text on every image."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

pytestmark = pytest.mark.build

# Folders of the built site that hold the theme's and the book's assets, not pages.
ASSET_DIRS = {"_static", "_images", "_downloads", "mathjax", "_sphinx_design_static", "reports"}


def toc_docnames(root: Path) -> set[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = {toc["root"]}
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        names |= {c["file"] for c in part["chapters"]}
    return names


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not ASSET_DIRS & set(p.relative_to(site).parts))


def test_only_table_of_contents_sources_are_published(built_site, root):
    allowed = toc_docnames(root)
    for path in (built_site / "_sources").rglob("*"):
        if path.is_file():
            docname = path.relative_to(built_site / "_sources").as_posix()
            docname = docname.removesuffix(".txt").rsplit(".", 1)[0]
            assert docname in allowed, f"_sources/{path.name} is not a page of the table of contents"
    pages = {p.relative_to(built_site).with_suffix("").as_posix() for p in html_pages(built_site)}
    # Sphinx's own pages, and sphinx-proof's index of theorems and proofs.
    stray = pages - allowed - {"index", "search", "genindex", "prf-prf"}
    assert not stray, f"pages outside the table of contents were published: {sorted(stray)}"
    stray_md = [p for p in built_site.rglob("*.md") if "_sources" not in p.relative_to(built_site).parts]
    assert not stray_md, f"raw Markdown was published outside _sources: {stray_md[:5]}"
    assert not [p for p in built_site.rglob("*") if "homework" in p.parts and p.suffix in (".md", ".py")]


def test_no_broken_internal_link_or_missing_image(built_site):
    broken = []
    for page in html_pages(built_site):
        for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
            for node in soup(page).find_all(tag):
                url = node.get(attr)
                if not url or url.startswith(("http:", "https:", "mailto:", "javascript:", "data:", "#")):
                    if url and url.startswith("#") and len(url) > 1 and tag == "a":
                        anchor = unquote(url[1:])
                        if not soup(page).find(id=anchor):
                            broken.append(f"{page.relative_to(built_site)}: anchor {url}")
                    continue
                target_path = unquote(urlsplit(url).path)
                target = (page.parent / target_path).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.exists():
                    broken.append(f"{page.relative_to(built_site)}: {tag} {url}")
                    continue
                fragment = urlsplit(url).fragment
                if tag == "a" and fragment and target.suffix == ".html" and not soup(target).find(id=unquote(fragment)):
                    broken.append(f"{page.relative_to(built_site)}: anchor {url}")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


def test_every_image_has_real_alt_text(built_site):
    missing = []
    for page in html_pages(built_site):
        for img in soup(page).find_all("img"):
            alt = (img.get("alt") or "").strip()
            name = Path(urlsplit(img.get("src", "")).path).name
            if not alt or alt == name or alt.endswith((".png", ".svg", ".jpg")):
                missing.append(f"{page.relative_to(built_site)}: {img.get('src')} (alt={alt!r})")
    assert not missing, "images without alt text:\n" + "\n".join(missing[:30])
