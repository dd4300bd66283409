"""helpers.plotting: the book's figure style."""

import matplotlib as mpl
import matplotlib.colors as mcolors

from helpers.plotting import OKABE_ITO, book_style, use_book_style


def test_style_is_applied_only_when_asked():
    mpl.rcdefaults()
    import helpers.plotting  # noqa: F401  (importing must change nothing)

    default_cycle = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    use_book_style()
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(OKABE_ITO) != default_cycle
    assert mcolors.to_hex(mpl.rcParams["savefig.facecolor"]) == "#ffffff"
    mpl.rcdefaults()


def test_palette_colours_are_distinct_and_valid():
    assert len(set(OKABE_ITO)) == len(OKABE_ITO) == 8
    assert all(mcolors.is_color_like(c) for c in OKABE_ITO)
    assert book_style()["image.cmap"] in ("viridis", "cividis")
