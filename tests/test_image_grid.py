"""helpers.image_grid: colour grids show the images themselves, titled by class, wrong predictions marked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.image_grid import plot_rgb_grid, to_display  # noqa: E402


def test_to_display_is_channels_last_and_clipped():
    X = torch.rand(2, 3, 4, 5) * 1.4 - 0.2
    out = to_display(X)
    torch.testing.assert_close(torch.from_numpy(out), X.clamp(0, 1).permute(0, 2, 3, 1))  # (N, H, W, 3)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        to_display(torch.rand(2, 1, 4, 4))


def test_grid_titles_and_pixels():
    X = torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    fig = plot_rgb_grid(X, torch.tensor([0, 1, 2, 1, 0]), class_names=("cat", "dog", "ship"),
                        predictions=torch.tensor([0, 2, 2, 1, 0]), ncols=3, title="a grid",
                        row_titles=["first", "second"])
    axes = fig.axes
    assert len(axes) == 6 and fig._suptitle.get_text() == "a grid"
    assert [ax.get_title() for ax in axes[:5]] == ["cat", "✗ ship (dog)", "ship", "dog", "cat"]
    assert axes[1].title.get_fontweight() == "bold"
    torch.testing.assert_close(torch.from_numpy(axes[4].images[0].get_array().data), X[4].permute(1, 2, 0))
    assert axes[3].get_ylabel() == "second" and not axes[5].images
    plt.close(fig)
