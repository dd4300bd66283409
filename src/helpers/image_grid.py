"""Grids of colour images titled by class; introduced in "Data augmentation and regularization"."""

from __future__ import annotations

from helpers.plotting import OKABE_ITO


def to_display(images):
    """Images (N, 3, H, W) in [0, 1] (any device, any float dtype) -> a NumPy array (N, H, W, 3) clipped to [0, 1]."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected colour images (N, 3, H, W), got shape {tuple(images.shape)}")
    return images.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()  # (N, H, W, 3)


def plot_rgb_grid(images, labels=None, *, class_names=None, predictions=None, ncols=8, title=None,
                  row_titles=None):
    """A grid of colour images (N, 3, H, W) in [0, 1], each titled by its class name.

    With `predictions`, wrong ones are titled "✗ predicted (true)" in bold, so that they stand out
    without colour. `row_titles` labels the rows (e.g. "original", "flipped") on the left.
    """
    import matplotlib.pyplot as plt

    pictures = to_display(images)
    n = len(pictures)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols + (0.8 if row_titles else 0), 1.35 * nrows),
                             layout="constrained", squeeze=False)

    def name(c):
        return str(class_names[int(c)]) if class_names is not None else str(int(c))

    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(pictures[i], interpolation="nearest")
        if labels is None:
            continue
        if predictions is None or int(predictions[i]) == int(labels[i]):
            ax.set_title(name(labels[i] if predictions is None else predictions[i]), fontsize=8)
        else:
            ax.set_title(f"✗ {name(predictions[i])} ({name(labels[i])})", fontsize=8, fontweight="bold",
                         color=OKABE_ITO[3])
    for r, text in enumerate(row_titles or []):
        axes[r, 0].set_ylabel(text, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
