"""MNIST as device tensors, batched by indexing; introduced in "Logistic regression and shallow neural networks"."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from helpers.config import DATA_MODE_VAR, DATA_ROOT_VAR, MINI_ROOT_VAR, BookConfig

DATA_ENV_VAR = DATA_ROOT_VAR

# torchvision's layout: <root>/MNIST/raw/<name>, uncompressed idx files.
MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# (number of training digits, number of test digits) -> which copy of MNIST was loaded
VARIANTS = {(60_000, 10_000): "mnist", (8_000, 2_000): "mini"}
DESCRIPTIONS = {
    "mnist": "MNIST (60,000 train / 10,000 test images)",
    "mini": "MNIST mini set (8,000 train / 2,000 test images re-split from the MNIST test set; not MNIST results)",
}

T = TypeVar("T")


class MNISTNotFoundError(FileNotFoundError):
    """Raised when the MNIST files are absent and could not be downloaded."""


# ---------------------------------------------------------------------------------------------
# Where the data lives
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataRoot:
    """A resolved data root, whether to download into it when files are missing, and why it was chosen."""

    path: Path
    download: bool
    source: str


def resolve_root(config: BookConfig) -> DataRoot:
    """Choose the MNIST root for `config`.

    `quick` uses the offline mini set (`config.mini_root`) and, where there is none (Colab),
    downloads like `full`. `full` uses `config.data_root` and downloads what is missing;
    with `data_mode="offline"` it uses the real files there if present and otherwise the
    mini set, a labelled stand-in.
    """
    mini = config.mini_root if config.mini_root is not None and has_mnist(config.mini_root) else None
    if config.profile == "quick" and mini is not None:
        return DataRoot(mini, download=False, source="the offline mini set (quick profile)")
    if config.offline:
        if has_mnist(config.data_root):
            return DataRoot(config.data_root, download=False, source=f"${DATA_ENV_VAR} (offline)")
        if mini is not None:
            return DataRoot(mini, download=False, source="the offline mini set, standing in for MNIST")
        return DataRoot(config.data_root, download=False, source=f"${DATA_ENV_VAR} (offline, no mini set)")
    return DataRoot(config.data_root, download=True, source=f"${DATA_ENV_VAR} or ./data")


# ---------------------------------------------------------------------------------------------
# Reading the idx files
# ---------------------------------------------------------------------------------------------

def _raw_dir(root: Path) -> Path:
    return Path(root) / "MNIST" / "raw"


def _find(path: Path) -> Path | None:
    if path.is_file():
        return path
    gz = path.with_name(path.name + ".gz")
    return gz if gz.is_file() else None


def has_mnist(root: str | Path) -> bool:
    """Whether all four MNIST idx files are under `root/MNIST/raw` (plain or .gz)."""
    raw = _raw_dir(Path(root))
    return all(_find(raw / name) is not None for names in MNIST_FILES.values() for name in names)


def read_idx(path: str | Path) -> torch.Tensor:
    """Read one idx file of unsigned bytes (MNIST's format) into a uint8 tensor."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes; re-download MNIST into its root")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {body.size} bytes but its header says {shape}: the file is damaged")
    return torch.from_numpy(body.copy()).reshape(shape)


def ensure_present(path: Path, present: Callable[[Path], bool], download: bool,
                   fetch: Callable[[Path], None], not_found: Callable[[Path, str], Exception]) -> None:
    """Make sure a data set is under `path`: fetch it if allowed, else raise `not_found(path, why)`."""
    if present(path):
        return
    if not download:
        raise not_found(path, "downloading is off for this root")
    try:
        fetch(path)
    except Exception as err:  # torchvision raises RuntimeError/URLError/OSError when offline
        raise not_found(path, f"the download failed: {type(err).__name__}: {err}") from err
    if not present(path):
        raise not_found(path, "the download left no data files there")


def torchvision_download(dataset: str, root: Path) -> None:
    """Download a torchvision data set (e.g. "MNIST", "CIFAR10") into `root` (needs the internet)."""
    import torchvision

    getattr(torchvision.datasets, dataset)(str(root), train=True, download=True)


def not_found_message(name: str, root: Path, layout: str, reason: str, offline_fix: str) -> str:
    """What to say when a data set is missing: where it was looked for, why, and the three ways out."""
    return (f"{name} was not found under {root.resolve()}/{layout} ({reason}). To fix it, either\n"
            f"  - connect to the internet and load again (it is downloaded into {root.resolve()}),\n"
            f"  - set {DATA_ENV_VAR} to a folder that holds {layout}, or\n"
            f"  - {offline_fix}")


def _download_mnist(root: Path) -> None:
    torchvision_download("MNIST", root)


def _not_found(root: Path, reason: str) -> MNISTNotFoundError:
    return MNISTNotFoundError(not_found_message(
        "MNIST", root, "MNIST/raw/", reason,
        f"run with BOOK_PROFILE=quick, or with {DATA_MODE_VAR}=offline, to use the offline mini set "
        f"(the build passes its root in {MINI_ROOT_VAR}; set it yourself outside the build)."))


# ---------------------------------------------------------------------------------------------
# The dataset, held as tensors
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """One split of a dataset as two tensors: images `X` (N, 1, 28, 28) in [0, 1] and labels `y` (N,)."""

    X: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class MNISTData:
    """MNIST's training and test splits, where they came from, and a description for every output."""

    train: Split
    test: Split
    root: Path
    variant: str  # "mnist" (the real 60k/10k), "mini" (the 8k/2k re-split) or "other"
    description: str

    @property
    def is_mini(self) -> bool:
        return self.variant == "mini"

    def by_variant(self, mnist: T, mini: T) -> T:
        """Pick a value (say an accuracy gate) for the real MNIST or the mini set; refuse anything else."""
        if self.variant == "mnist":
            return mnist
        if self.variant == "mini":
            return mini
        raise ValueError(
            f"{self.description} is neither the real MNIST (60,000/10,000) nor the mini set "
            f"(8,000/2,000), so no value is defined for it; point {DATA_ENV_VAR} at one of those"
        )


def _variant(n_train: int, n_test: int, root: Path) -> tuple[str, str]:
    variant = VARIANTS.get((n_train, n_test), "other")
    if variant == "other":
        return variant, f"MNIST files at {root} ({n_train:,} train / {n_test:,} test images)"
    return variant, DESCRIPTIONS[variant]


def load_mnist(config: BookConfig, *, device: torch.device | str = "cpu") -> MNISTData:
    """Load MNIST's two splits as float tensors in [0, 1] on `device` (see `resolve_root` for where).

    With the files absent and no download possible, it raises MNISTNotFoundError naming the
    root and the ways to fix it.
    """
    resolved = resolve_root(config)
    return read_mnist(resolved.path, device=device, download=resolved.download)


def read_mnist(root: str | Path, *, device: torch.device | str = "cpu", download: bool = False) -> MNISTData:
    """MNIST from the folder `root` (torchvision's layout), downloading it there if allowed."""
    path = Path(root)
    ensure_present(path, has_mnist, download, lambda p: _download_mnist(p), _not_found)
    raw = _raw_dir(path)
    splits = {}
    for train, (images, labels) in MNIST_FILES.items():
        X = read_idx(_find(raw / images)).unsqueeze(1)  # (N, 1, 28, 28) uint8
        y = read_idx(_find(raw / labels)).long()  # (N,)
        splits[train] = Split(X.to(device=device, dtype=torch.float32).div_(255), y.to(device))
    variant, description = _variant(len(splits[True]), len(splits[False]), path)
    return MNISTData(splits[True], splits[False], path, variant, description)


# ---------------------------------------------------------------------------------------------
# Batching by indexing
# ---------------------------------------------------------------------------------------------

class TensorLoader:
    """Mini-batches of equally long tensors, cut by indexing (no per-sample Python work).

    `for X, y in TensorLoader(X, y, batch_size=128, shuffle=True, generator=g)`: a fresh order
    every pass, drawn from the CPU `generator`; `drop_last` drops a final short batch.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, generator: torch.Generator | None = None) -> None:
        if not tensors:
            raise ValueError("TensorLoader needs at least one tensor, e.g. TensorLoader(X, y, batch_size=64)")
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"all tensors must have the same first dimension, got {[len(t) for t in tensors]}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        tensors = self.tensors
        if self.shuffle:
            # One gather of the whole dataset per pass, then contiguous slices: much cheaper than a
            # gather per batch (on a busy CPU, by one or two orders of magnitude).
            order = torch.randperm(self.num_samples, generator=self.generator).to(tensors[0].device)
            tensors = tuple(t[order] for t in tensors)
        b = self.batch_size
        for i in range(len(self)):
            yield tuple(t[i * b: (i + 1) * b] for t in tensors)  # views: do not modify them in place
