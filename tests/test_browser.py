"""The built site in a real browser (Debian's headless Chromium): search and typeset math."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = [pytest.mark.build, pytest.mark.browser]

# A word that only the Week 1 page uses (the Robbins–Monro step-size conditions).
WEEK1_ONLY_WORD = "Robbins"
WEEK1_PAGE = "lectures/optimization-sgd.html"


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    assert path, "chromium is not installed: `make test` installs it (tools/install_debian.sh)"
    return path


@pytest.fixture(scope="module")
def server(built_site):
    """Serve the built site on a free loopback port."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output readable
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def rendered_dom(chromium: str, url: str, tmp_path: Path) -> BeautifulSoup:
    """The DOM after the page's scripts ran (search, MathJax), as headless Chromium sees it."""
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=30000",
           "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return BeautifulSoup(proc.stdout, "html.parser")


def test_search_finds_week_1_for_a_word_only_it_uses(chromium, server, built_site, tmp_path):
    pages_with_word = [p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")
                       if WEEK1_ONLY_WORD in p.read_text(encoding="utf-8") and "search" not in p.name
                       and "genindex" not in p.name and "_sources" not in p.parts]
    assert pages_with_word == [WEEK1_PAGE], f"'{WEEK1_ONLY_WORD}' should appear only in Week 1: {pages_with_word}"
    dom = rendered_dom(chromium, f"{server}/search.html?q={WEEK1_ONLY_WORD}", tmp_path)
    results = dom.select("#search-results ul.search li a")
    assert results, "the search page listed no results: " + dom.get_text(" ", strip=True)[:500]
    assert any(WEEK1_PAGE in a.get("href", "") for a in results)


def test_search_for_a_missing_word_lists_nothing(chromium, server, tmp_path):
    dom = rendered_dom(chromium, f"{server}/search.html?q=zyxwvutsrq", tmp_path)
    assert dom.select("#search-results") and not dom.select("#search-results ul.search li a")


def test_math_on_week_1_is_typeset(chromium, server, tmp_path):
    dom = rendered_dom(chromium, f"{server}/{WEEK1_PAGE}", tmp_path)
    math = dom.select("span.math, div.math")
    assert len(math) >= 3
    untypeset = [m.get_text()[:60] for m in math if not m.select("mjx-container svg")]
    assert not untypeset, f"math left untypeset: {untypeset[:5]}"
    assert not dom.select("mjx-merror"), "MathJax reported errors"
