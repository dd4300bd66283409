"""Plot style and plotting helpers for the book's figures; the style is set up in "Optimization and SGD"."""

from __future__ import annotations

# Okabe & Ito's palette, distinguishable under the common colour-vision deficiencies.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

# Distinct line styles and markers, so that curves differ without relying on colour.
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def book_style() -> dict[str, object]:
    """The matplotlib rcParams of the book: Okabe-Ito colours, an opaque white background."""
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        # An opaque white figure stays readable when the site is in dark mode.
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 110,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "font.size": 11,
        "image.cmap": "viridis",  # perceptually uniform and colour-blind safe
    }


def use_book_style() -> None:
    """Apply `book_style()` to matplotlib (an explicit call: importing helpers changes nothing)."""
    import matplotlib as mpl

    mpl.rcParams.update(book_style())
