"""The diagrams in figures/: every one used by a lecture, with a caption and alt text, every one a
lecture names present, each rendering with Debian's graphviz in the style that reads in dark mode."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "figures"
# A {graphviz} directive with a file argument, and its options (":name: value" lines).
DIRECTIVE = re.compile(r"^(`{3,}|~{3,})\{graphviz\}[ \t]+(\S+)[ \t]*\n((?::[\w-]+:.*\n)*)", re.M)
ANY_REFERENCE = re.compile(r"(?:\.\./|/)?figures/[\w./-]+")


def lectures() -> list[Path]:
    return sorted((ROOT / "lectures").glob("*.md"))


def uses(path: Path) -> list[dict]:
    """Each {graphviz} file directive of `path`: the file it names (resolved), its options, its line."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in DIRECTIVE.finditer(text):
        options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", match.group(3), re.M))
        target = (path.parent / match.group(2)).resolve() if not match.group(2).startswith("/") \
            else (ROOT / match.group(2).lstrip("/")).resolve()
        found.append({"file": target, "options": options, "line": text[:match.start()].count("\n") + 1})
    return found


def all_uses() -> list[tuple[Path, dict]]:
    return [(lecture, use) for lecture in lectures() for use in uses(lecture)]


def test_the_directive_pattern_reads_a_use():
    sample = ("text\n```{graphviz} ../figures/x.dot\n:name: fig-x\n:caption: A caption.\n"
              ":alt: Alt text.\n```\n")
    page = ROOT / "lectures" / "sample.md"
    (use,) = [{"file": (page.parent / m.group(2)).resolve(),
               "options": dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", m.group(3), re.M))}
              for m in DIRECTIVE.finditer(sample)]
    assert use["file"] == FIGURES / "x.dot"
    assert use["options"] == {"name": "fig-x", "caption": "A caption.", "alt": "Alt text."}


def test_every_diagram_is_used_by_a_lecture():
    used = {use["file"] for _, use in all_uses()}
    unused = [p.name for p in sorted(FIGURES.glob("*.dot")) if p.resolve() not in used]
    assert not unused, f"diagrams in figures/ that no lecture shows (delete them or use them): {unused}"


def test_every_use_names_an_existing_diagram_with_caption_alt_and_name():
    problems = []
    for lecture, use in all_uses():
        where = f"{lecture.relative_to(ROOT)}:{use['line']}"
        if not use["file"].is_file():
            problems.append(f"{where}: {use['file'].relative_to(ROOT)} does not exist")
        if FIGURES.resolve() not in use["file"].parents:
            problems.append(f"{where}: diagrams live in figures/, not {use['file']}")
        for option in ("caption", "alt", "name"):
            if len(use["options"].get(option, "").strip()) < (20 if option != "name" else 3):
                problems.append(f"{where}: missing or too short :{option}:")
        if not use["options"].get("name", "fig-").startswith("fig-"):
            problems.append(f"{where}: the :name: of a figure starts with 'fig-'")
    assert not problems, "\n".join(problems)


def test_every_figures_path_a_lecture_mentions_exists():
    missing = [f"{lecture.relative_to(ROOT)}: {ref}" for lecture in lectures()
               for ref in ANY_REFERENCE.findall(lecture.read_text(encoding="utf-8"))
               if not (FIGURES / ref.split("figures/", 1)[1].rstrip(".")).exists()]
    assert not missing, f"lectures refer to figures that do not exist: {missing}"


def test_names_are_unique():
    names = [use["options"].get("name") for _, use in all_uses()]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("diagram", sorted(FIGURES.glob("*.dot")), ids=lambda p: p.name)
def test_diagram_keeps_the_style_that_reads_in_dark_mode(diagram):
    text = diagram.read_text(encoding="utf-8")
    graph_attributes = re.sub(r"<td[^>]*>", "", text)  # a table cell's bgcolor is a fill
    backgrounds = re.findall(r"bgcolor\s*=\s*\"?([#\w]+)", graph_attributes)
    assert all(b.lower() in ("white", "#ffffff", "transparent") for b in backgrounds), backgrounds
    light_text = [c for c in re.findall(r"fontcolor\s*=\s*\"?([#\w]+)", text)
                  if c.lower() in ("white", "#ffffff", "#fff")]
    assert not light_text, f"{diagram.name}: light text would vanish on the white background"
    assert text.lstrip().startswith("//"), f"{diagram.name}: start with a comment naming the lecture"


@pytest.mark.parametrize("diagram", sorted(FIGURES.glob("*.dot")), ids=lambda p: p.name)
def test_diagram_renders(diagram):
    if shutil.which("dot") is None:
        pytest.skip("graphviz is not installed (bash tools/install_debian.sh graphviz)")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    args = config["sphinx"]["config"]["graphviz_dot_args"]
    proc = subprocess.run(["dot", *args, "-Tsvg", str(diagram)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "<svg" in proc.stdout, proc.stderr
    assert not proc.stderr.strip(), f"dot warned: {proc.stderr}"
    # Sphinx parses the SVG again (to fix its links): it must be well-formed XML. Graphviz 2.43
    # writes a duplicate attribute for a subscript nested in a superscript, for one.
    ElementTree.fromstring(proc.stdout)


def test_config_renders_graphviz_as_svg():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "sphinx.ext.graphviz" in config["sphinx"]["extra_extensions"]
    assert config["sphinx"]["config"]["graphviz_output_format"] == "svg"
    assert "-Gbgcolor=white" in config["sphinx"]["config"]["graphviz_dot_args"]


@pytest.mark.build
def test_built_pages_show_the_diagrams_with_alt_text(built_site):
    from bs4 import BeautifulSoup

    checkout = built_site.resolve().parents[2]  # the site's own sources (BOOK_SITE_DIR may be elsewhere)
    sources = sorted((checkout / "lectures").glob("*.md")) or lectures()
    for lecture in sources:
        expected = uses(lecture)
        page = built_site / "lectures" / f"{lecture.stem}.html"
        if not expected or not page.exists():
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        shown = soup.select("div.graphviz object, div.graphviz img")
        assert len(shown) == len(expected), (lecture.name, len(shown), len(expected))
        for node in shown:
            image = built_site / "lectures" / (node.get("data") or node.get("src"))
            assert image.exists() and image.stat().st_size > 500, image
            assert node.get_text(strip=True) or node.get("alt"), f"{lecture.name}: a diagram without alt text"
