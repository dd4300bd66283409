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


# ---------------------------------------------------------------------------------------------
# Figures of training runs and classifiers, added in "Logistic regression and shallow neural networks"
# and "Multi-layer perceptrons and softmax regression".
# ---------------------------------------------------------------------------------------------

SPLIT_STYLES = {"train": "-", "val": "--", "test": "--"}


def _axes(ax, figsize=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_history(histories, metrics=("loss", "accuracy"), *, split_labels=None, title=None):
    """Curves of `fit` histories, one panel per metric; `histories` maps a run's name to its history.

    Runs differ by colour and marker, splits by line style (train solid, validation dashed).
    A single history (a dict with keys like "train_loss") is accepted as well. `split_labels`
    renames splits in the legend, e.g. {"val": "test"} when the test split was the validation.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    split_labels = {} if split_labels is None else split_labels

    if any(isinstance(v, list) for v in histories.values()):
        histories = {"": histories}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.8), layout="constrained",
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for k, (run, history) in enumerate(histories.items()):
            for split, style in SPLIT_STYLES.items():
                values = history.get(f"{split}_{metric}")
                if values is None:
                    continue
                epochs = range(1, len(values) + 1)
                shown = split_labels.get(split, split)
                label = f"{run} ({shown})" if run else shown
                ax.plot(epochs, values, linestyle=style, marker=MARKERS[k % len(MARKERS)], markersize=4,
                        color=OKABE_ITO[k % len(OKABE_ITO)], label=label)
        ax.set(xlabel="epoch", ylabel=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def to_display(images):
    """Images (N, C, H, W) with C = 1 or 3, or (N, H, W), in [0, 1] -> NumPy (N, H, W) or (N, H, W, 3)."""
    if images.ndim == 3:
        images = images.unsqueeze(1)  # (N, 1, H, W)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images (N, 1, H, W), (N, 3, H, W) or (N, H, W), got shape {tuple(images.shape)}")
    images = images.detach().float().clamp(0, 1).cpu()
    if images.shape[1] == 1:
        return images[:, 0].numpy()  # (N, H, W): the single channel
    return images.permute(0, 2, 3, 1).numpy()  # (N, H, W, 3)


def plot_image_grid(images, labels=None, *, predictions=None, ncols=8, class_names=None, title=None,
                    row_titles=None):
    """A grid of images in [0, 1], grey (N, 1, H, W) or colour (N, 3, H, W), titled by label.

    With `predictions`, wrong ones are titled "✗ predicted (true)" in bold, so that they stand out
    without colour. `row_titles` labels the rows on the left (e.g. "original", "flipped").
    """
    import matplotlib.pyplot as plt

    pictures = to_display(images)
    n = len(pictures)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols + (0.8 if row_titles else 0), 1.35 * nrows),
                             layout="constrained", squeeze=False)
    name = (lambda c: str(class_names[int(c)])) if class_names is not None else (lambda c: str(int(c)))
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i >= n:
            ax.axis("off")
            continue
        grey = pictures[i].ndim == 2
        ax.imshow(pictures[i], cmap="gray_r" if grey else None, vmin=0, vmax=1, interpolation="nearest")
        if labels is None:
            continue
        if predictions is None or int(predictions[i]) == int(labels[i]):
            ax.set_title(name(labels[i]), fontsize=9)
        else:
            ax.set_title(f"✗ {name(predictions[i])} ({name(labels[i])})", fontsize=9, fontweight="bold",
                         color=OKABE_ITO[3])
    for r, text in enumerate(row_titles or []):
        axes[r, 0].set_ylabel(text, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_decision_boundary(predict_proba, X, y, *, ax=None, resolution=200, padding=0.5, title=None):
    """Shade P(class 1 | x) over the plane, draw the 0.5 level set, and scatter the two classes.

    `predict_proba` maps float32 CPU points (M, 2) to probabilities (M,); `X` is (N, 2), `y` holds 0/1.
    """
    import numpy as np
    import torch

    ax = _axes(ax, figsize=(4.6, 4.2))
    X, y = X.detach().cpu().float(), y.detach().cpu()
    lo, hi = X.min(dim=0).values - padding, X.max(dim=0).values + padding
    g0, g1 = torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution)
    xx, yy = torch.meshgrid(g0, g1, indexing="xy")  # (R, R) each
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R * R, 2)
    with torch.no_grad():
        p = predict_proba(grid).detach().cpu().reshape(resolution, resolution)  # (R, R)
    xx, yy, p = xx.numpy(), yy.numpy(), p.numpy()
    shading = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 21), cmap="cividis", alpha=0.5)
    ax.contour(xx, yy, p, levels=[0.5], colors="black", linewidths=2)
    for c, marker in ((0, "o"), (1, "^")):
        mask = y.flatten() == c
        ax.scatter(X[mask, 0].numpy(), X[mask, 1].numpy(), s=20, marker=marker, color=OKABE_ITO[c],
                   edgecolors="black", linewidths=0.5, label=f"class {c}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.legend(loc="upper right")
    ax.grid(False)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(shading, ax=ax, label="P(class 1 | x)", shrink=0.8, ticks=[0, 0.5, 1])
    return ax


def plot_confusion_matrix(cm, *, class_names=None, ax=None, normalize=False, title=None):
    """A confusion matrix C[true, predicted] with its counts (or row fractions) written in the cells."""
    import numpy as np

    cm = np.asarray(cm.detach().cpu() if hasattr(cm, "detach") else cm, dtype=float)
    values = cm / cm.sum(axis=1, keepdims=True).clip(min=1) if normalize else cm
    ax = _axes(ax, figsize=(5.6, 5.0))
    image = ax.imshow(values, cmap="viridis")
    k = len(cm)
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    ax.set(xticks=range(k), yticks=range(k), xticklabels=names, yticklabels=names,
           xlabel="predicted class", ylabel="true class")
    ax.grid(False)
    threshold = (values.max() + values.min()) / 2
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            # dark text on the bright (yellow) end of viridis, white text on the dark end
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="black" if values[i, j] > threshold else "white")
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="fraction of the row" if normalize else "count")
    if title:
        ax.set_title(title)
    return ax
