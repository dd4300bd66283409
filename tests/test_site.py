"""The built site: course pages, executed lectures with provenance, offline math."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.build


def read(site, page):
    path = site / page
    assert path.exists(), f"{page} is missing from the built site"
    return path.read_text(encoding="utf-8")


def test_course_pages_are_built(built_site):
    home = read(built_site, "course/index.html")
    assert "M1407.001200" in home and "43-1-201" in home and "recording studio" in home
    assert "17:00" not in read(built_site, "course/staff.html")
    assert "Chanwoo" not in read(built_site, "course/staff.html")
    assert "30%" in read(built_site, "course/grading.html")
    schedule = read(built_site, "course/schedule.html")
    assert "<s>Thu 29 Sep</s>" in schedule
    assert "announced on eTL" in schedule
    ics = list(built_site.glob("_downloads/*/course.ics"))
    assert len(ics) == 1 and "BEGIN:VEVENT" in ics[0].read_text()


def test_week_1_is_executed_with_its_provenance_note(built_site):
    page = read(built_site, "lectures/optimization-sgd.html")
    assert "How this page was executed" in page
    assert "<code>quick</code>" in page  # the test suite builds the quick profile
    assert re.search(r"<code>\d+\.\d+\.\d+", page)  # the PyTorch version
    assert "cell_output" in page


def test_math_is_served_from_the_book_not_a_cdn(built_site):
    for page in ("course/index.html", "lectures/optimization-sgd.html"):
        html = read(built_site, page)
        assert "mathjax/tex-svg-full.js" in html and html.count("tex-svg-full.js") == 1
        assert not re.search(r"<script[^>]+src=\"https?://[^\"]*mathjax", html, flags=re.I)
    assert (built_site / "mathjax" / "tex-svg-full.js").stat().st_size > 1_000_000


def test_search_index_is_built(built_site):
    assert "optimization-sgd" in read(built_site, "searchindex.js")


def test_lecture_figures_are_in_the_pages(built_site, root):
    """Executed figures reach the site (a non-inline matplotlib backend would drop them silently)."""
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    for source in sorted((root / "lectures").glob("*.md")):
        if f"lectures/{source.stem}\n" not in toc or "mystnb:" not in source.read_text(encoding="utf-8"):
            continue  # a lecture without figure cells
        page = read(built_site, f"lectures/{source.stem}.html")
        assert re.search(r'class="cell_output[^"]*".*?<img', page, flags=re.S), f"{source.name}: no figure rendered"


def test_every_lecture_states_how_it_was_executed(built_site, root):
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    lectures = re.findall(r"file: (lectures/[\w-]+)", toc)
    assert len(lectures) >= 6
    for lecture in lectures:
        page = read(built_site, f"{lecture}.html")
        assert "How this page was executed" in page and "<code>quick</code>" in page, lecture
