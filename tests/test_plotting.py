"""helpers.plotting: the book's figure style."""

import matplotlib as mpl
import matplotlib.colors as mcolors

from helpers.plotting import OKABE_ITO, book_style, use_book_style


def test_style_is_applied_only_when_asked():
    # that importing changes nothing is checked in a fresh interpreter by tests/test_package.py
    mpl.rcdefaults()
    default_cycle = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    use_book_style()
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(OKABE_ITO) != default_cycle
    assert mcolors.to_hex(mpl.rcParams["savefig.facecolor"]) == "#ffffff"
    mpl.rcdefaults()


def test_palette_colours_are_distinct_and_valid():
    assert len(set(OKABE_ITO)) == len(OKABE_ITO) == 8
    assert all(mcolors.is_color_like(c) for c in OKABE_ITO)
    assert book_style()["image.cmap"] in ("viridis", "cividis")


# --- figures of training runs and classifiers ("Logistic regression", "Multi-layer perceptrons ...") ---

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_image_grid,
    to_display,
)


@pytest.fixture(autouse=False)
def close_figures():
    yield
    plt.close("all")


def test_history_curves_differ_by_style_as_well_as_colour(close_figures):
    run = {"train_loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.6, 0.4], "train_accuracy": [0.5, 0.8, 0.9],
           "val_accuracy": [0.4, 0.7, 0.85]}
    fig = plot_history({"linear": run, "mlp": run})
    loss_ax = fig.axes[0]
    lines = loss_ax.get_lines()
    assert len(lines) == 4 and loss_ax.get_ylabel() == "loss"
    styles = {(line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(styles) == 4  # every curve distinguishable without colour
    assert list(lines[1].get_ydata()) == run["val_loss"]
    assert len(plot_history(run).axes[0].get_lines()) == 2  # a bare history works too
    fig = plot_history(run, split_labels={"val": "test"})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["train", "test"]


def test_image_grid_titles_show_labels_and_mistakes(close_figures):
    images = torch.rand(5, 1, 28, 28)
    fig = plot_image_grid(images, torch.tensor([1, 2, 3, 4, 5]), ncols=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:5] == ["1", "2", "3", "4", "5"] and len(fig.axes) == 6
    fig = plot_image_grid(images, torch.tensor([1, 2, 3, 4, 5]), predictions=torch.tensor([1, 7, 3, 4, 5]))
    assert fig.axes[1].get_title() == "✗ 7 (2)" and fig.axes[0].get_title() == "1"


def test_decision_boundary_shades_the_given_probabilities(close_figures):
    X = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1])
    seen = []

    def predict_proba(points):
        seen.append(points)
        return torch.sigmoid(4 * points[:, 0])

    ax = plot_decision_boundary(predict_proba, X, y, resolution=30)
    assert seen[0].shape == (900, 2)
    assert len(ax.collections) >= 3  # shading, the 0.5 level set and the scatter of each class
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]


def test_confusion_matrix_cells_show_counts(close_figures):
    cm = torch.tensor([[5, 1], [0, 4]])
    ax = plot_confusion_matrix(cm, class_names=["a", "b"])
    assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "4"]
    ax = plot_confusion_matrix(cm, normalize=True)
    assert [t.get_text() for t in ax.texts] == ["0.83", "0.17", "0.00", "1.00"]


def test_to_display_is_channels_last_and_clipped():
    X = torch.rand(2, 3, 4, 5) * 1.4 - 0.2
    torch.testing.assert_close(torch.from_numpy(to_display(X)), X.clamp(0, 1).permute(0, 2, 3, 1))  # (N, H, W, 3)
    torch.testing.assert_close(torch.from_numpy(to_display(X[:, :1])), X[:, 0].clamp(0, 1))  # (N, H, W)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        to_display(torch.rand(2, 2, 4, 4))


def test_colour_grid_titles_pixels_and_row_titles(close_figures):
    X = torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    fig = plot_image_grid(X, torch.tensor([0, 1, 2, 1, 0]), class_names=("cat", "dog", "ship"),
                          predictions=torch.tensor([0, 2, 2, 1, 0]), ncols=3, title="a grid",
                          row_titles=["first", "second"])
    axes = fig.axes
    assert len(axes) == 6 and fig._suptitle.get_text() == "a grid"
    assert [ax.get_title() for ax in axes[:5]] == ["cat", "✗ ship (dog)", "ship", "dog", "cat"]
    assert axes[1].title.get_fontweight() == "bold"
    torch.testing.assert_close(torch.from_numpy(axes[4].images[0].get_array().data), X[4].permute(1, 2, 0))
    assert axes[3].get_ylabel() == "second" and not axes[5].images
