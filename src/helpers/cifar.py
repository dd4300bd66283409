"""CIFAR-10 on the device, or a labelled synthetic stand-in; introduced in "Data augmentation and regularization"."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch

from helpers.config import BookConfig
from helpers.data import Split, ensure_present, not_found_message, torchvision_download

T = TypeVar("T")

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FOLDER = "cifar-10-batches-py"  # torchvision's layout: <root>/cifar-10-batches-py/<batch files>
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
FULL_SIZE = (50_000, 10_000)
SYNTHETIC_NOTE = "synthetic stand-in for CIFAR-10"
CHUNK = 10_000  # images rendered at a time (part of what a seed determines)


class CIFARNotFoundError(FileNotFoundError):
    """Raised when the real CIFAR-10 is absent and could not be downloaded."""


@dataclass(frozen=True)
class CIFARData:
    """CIFAR-10's two splits (images (N, 3, 32, 32) in [0, 1], labels (N,)) and what they are."""

    train: Split
    test: Split
    classes: tuple[str, ...]
    is_synthetic: bool
    description: str
    root: Path | None

    @property
    def name(self) -> str:
        """"CIFAR-10" or "synthetic stand-in for CIFAR-10", for titles and messages."""
        return SYNTHETIC_NOTE if self.is_synthetic else "CIFAR-10"

    def by_source(self, real: T, synthetic: T) -> T:
        """Pick a value (say an accuracy gate) for the real CIFAR-10 or for the synthetic stand-in."""
        return synthetic if self.is_synthetic else real


# ---------------------------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------------------------

def has_cifar10(root: str | Path) -> bool:
    """Whether the six batch files are under `root/cifar-10-batches-py`."""
    folder = Path(root) / FOLDER
    return all((folder / name).is_file() for name in TRAIN_FILES + TEST_FILES)


def _read_batches(folder: Path, names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for name in names:
        with open(folder / name, "rb") as f:
            entry = pickle.load(f, encoding="latin1")  # the format CIFAR-10 is distributed in
        images.append(torch.as_tensor(entry["data"], dtype=torch.uint8))  # (n, 3072), channel-major
        labels.append(torch.as_tensor(entry["labels"], dtype=torch.long))
    return torch.cat(images).reshape(-1, 3, 32, 32), torch.cat(labels)  # (N, 3, 32, 32), (N,)


def read_cifar10(root: str | Path) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The uint8 images (N, 3, 32, 32) and labels of the training and test batches under `root`."""
    folder = Path(root) / FOLDER
    return _read_batches(folder, TRAIN_FILES), _read_batches(folder, TEST_FILES)


def _download_cifar10(root: Path) -> None:
    torchvision_download("CIFAR10", root)


def _not_found(root: Path, reason: str) -> CIFARNotFoundError:
    return CIFARNotFoundError(not_found_message(
        "CIFAR-10", root, f"{FOLDER}/", reason,
        "run with BOOK_PROFILE=quick or BOOK_DATA=offline to use the synthetic stand-in "
        "(its numbers are not CIFAR-10 results)."))


# ---------------------------------------------------------------------------------------------
# The synthetic stand-in
# ---------------------------------------------------------------------------------------------

def _shape_distance(c: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A signed distance-like function of class c's shape: negative inside, in units of its size."""
    r = torch.sqrt(u**2 + v**2)
    if c == 0:  # a plus sign
        return torch.minimum(torch.maximum(u.abs() - 0.9, v.abs() - 0.25), torch.maximum(u.abs() - 0.25, v.abs() - 0.9))
    if c == 1:  # a square
        return torch.maximum(u.abs(), v.abs()) - 0.7
    if c == 2:  # a triangle: three half-planes
        normals = [(math.cos(a), math.sin(a)) for a in (math.pi / 2, 7 * math.pi / 6, 11 * math.pi / 6)]
        return torch.stack([nu * u + nv * v for nu, nv in normals]).amax(0) - 0.45
    if c == 3:  # a ring
        return (r - 0.7).abs() - 0.22
    if c == 4:  # an elongated ellipse
        return torch.sqrt((u / 0.95) ** 2 + (v / 0.4) ** 2) - 1
    if c == 5:  # a half disc
        return torch.maximum(r - 0.85, -v)
    if c == 6:  # two parallel bars
        return torch.maximum(u.abs() - 0.85, (v.abs() - 0.45).abs() - 0.17)
    if c == 7:  # a crescent
        return torch.maximum(r - 0.85, 0.7 - torch.sqrt((u - 0.4) ** 2 + v**2))
    if c == 8:  # two dots
        return torch.minimum(torch.sqrt((u - 0.5) ** 2 + v**2), torch.sqrt((u + 0.5) ** 2 + v**2)) - 0.33
    return r - 0.85  # a disc (class 9), told apart by its stripes


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(n,) hue, saturation, value in [0, 1] -> (n, 3) RGB."""
    n = torch.tensor([5.0, 3.0, 1.0], device=h.device)
    k = (n + 6 * h[:, None]) % 6  # (n, 3)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _render(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Images (n, 3, 32, 32) in [0, 1] for labels y, drawn with generator g on y's device."""
    n, dev = len(y), y.device

    def rand(*shape):
        return torch.rand(*shape, generator=g, device=dev)

    grid = torch.arange(32, device=dev, dtype=torch.float32) - 15.5
    mirror = torch.where(rand(n) < 0.5, -1.0, 1.0).view(n, 1, 1)  # every class appears mirrored half the time
    yy, xx = grid.view(1, 32, 1), grid.view(1, 1, 32) * mirror  # rows (1, 32, 1), columns (n, 1, 32)
    cx, cy = ((rand(2, n) * 2 - 1) * 6).view(2, n, 1, 1)  # random shifts of up to 6 pixels
    size = (7.5 + 4 * rand(n)).view(n, 1, 1)
    angle = (y.float() * 0.6 + (rand(n) - 0.5) * 0.8).view(n, 1, 1)  # class-dependent orientation
    dx, dy = (xx - cx) / size, (yy - cy) / size
    u, v = torch.cos(angle) * dx + torch.sin(angle) * dy, -torch.sin(angle) * dx + torch.cos(angle) * dy
    dist = torch.empty(n, 32, 32, device=dev)
    for c in range(10):  # one vectorized pass per class, not per image
        idx = (y == c).nonzero().squeeze(1)
        dist[idx] = _shape_distance(c, u[idx], v[idx])
    mask = torch.sigmoid(-dist * size * 1.5).unsqueeze(1)  # (n, 1, 32, 32), soft edges about 1 pixel wide
    stripes = 0.5 + 0.5 * torch.sin(u * (2.5 + 2.5 * (y % 3).view(n, 1, 1)) * math.pi)  # class-dependent frequency
    hue = (y.float() / 10 + 0.04 * torch.randn(n, generator=g, device=dev)) % 1  # neighbours' hues overlap
    fg = _hsv_to_rgb(hue, 0.6 + 0.4 * rand(n), 0.6 + 0.4 * rand(n)).view(n, 3, 1, 1)
    fg = fg * (1 - (0.2 + 0.3 * (y == 9).float().view(n, 1, 1, 1)) * stripes.unsqueeze(1))  # (n, 3, 32, 32)
    c1, c2 = rand(2, n, 3, 1, 1) * 0.8 + 0.1
    phi = rand(n).view(n, 1, 1) * 2 * math.pi
    t = torch.sigmoid((torch.cos(phi) * xx + torch.sin(phi) * yy) / 6).unsqueeze(1)  # (n, 1, 32, 32)
    background = c1 + (c2 - c1) * t  # a two-colour gradient
    image = fg.sub_(background).mul_(mask).add_(background)
    clutter = rand(n, 4)  # a small distractor disc of random colour in about half of the images
    blob = ((xx - (clutter[:, 0, None, None] * 28 - 14)) ** 2 + (yy - (clutter[:, 1, None, None] * 28 - 14)) ** 2
            < (1.5 + 2.5 * clutter[:, 2, None, None]) ** 2) & (clutter[:, 3, None, None] < 0.5)
    image = torch.where(blob.unsqueeze(1), rand(n, 3, 1, 1), image)
    return image.add_(torch.randn(image.shape, generator=g, device=dev), alpha=0.06).clamp_(0, 1)


def synthetic_cifar10(n: int, *, seed: int = 0,
                      device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """A synthetic CIFAR-10-shaped set: uint8 images (n, 3, 32, 32) and balanced labels (n,) in 0..9.

    Each class is a coloured shape (plus sign, square, triangle, ...) with its own orientation and
    stripes, at a random position, size and colour on a random two-colour background, with a distractor
    blob, pixel noise and random mirroring. Deterministic for a given `seed` and device type.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    device = torch.device(device)
    g = torch.Generator(device=device).manual_seed(seed)
    y = torch.randperm(n, generator=g, device=device) % 10  # (n,) each class n/10 times
    X = torch.empty(n, 3, 32, 32, dtype=torch.uint8, device=device)
    for start in range(0, n, CHUNK):  # chunks bound the memory of the float intermediates
        X[start:start + CHUNK] = _render(y[start:start + CHUNK], g).mul_(255).round_().to(torch.uint8)
    return X, y


# ---------------------------------------------------------------------------------------------
# Loading either
# ---------------------------------------------------------------------------------------------

def _split(X: torch.Tensor, y: torch.Tensor, n: int | None, device: torch.device | str) -> Split:
    X, y = (X, y) if n is None else (X[:n], y[:n])
    return Split(X.to(device=device, dtype=torch.float32).div_(255), y.to(device))


def uses_synthetic(config: BookConfig) -> bool:
    """Whether `load_cifar10(config)` gives the stand-in: in `quick`, and in an offline `full`
    run without the real files under `config.data_root`."""
    return config.profile == "quick" or (config.offline and not has_cifar10(config.data_root))


def load_cifar10(config: BookConfig, *, device: torch.device | str = "cpu", synthetic: bool | None = None,
                 num_train: int | None = None, num_test: int | None = None, seed: int = 0) -> CIFARData:
    """CIFAR-10's splits as float tensors in [0, 1] on `device`; the first `num_train`/`num_test` if given.

    `synthetic=None` means `uses_synthetic(config)`. The real data is read from `config.data_root`
    and downloaded there if missing (online); when that fails it raises CIFARNotFoundError saying
    what to do: online, it never falls back to synthetic data.
    """
    if synthetic is None:
        synthetic = uses_synthetic(config)
    if synthetic:
        n_train, n_test = num_train or FULL_SIZE[0], num_test or FULL_SIZE[1]
        train = synthetic_cifar10(n_train, seed=seed, device=device)
        test = synthetic_cifar10(n_test, seed=seed + 1, device=device)
        description = (f"SYNTHETIC stand-in for CIFAR-10 ({n_train:,} train / {n_test:,} test images of "
                       f"coloured shapes, seed {seed}; its numbers are not CIFAR-10 results)")
        return CIFARData(_split(*train, None, device), _split(*test, None, device), CLASSES, True, description, None)
    path = config.data_root
    ensure_present(path, has_cifar10, not config.offline, _download_cifar10, _not_found)
    (X_train, y_train), (X_test, y_test) = read_cifar10(path)
    train, test = _split(X_train, y_train, num_train, device), _split(X_test, y_test, num_test, device)
    description = f"CIFAR-10 ({len(train):,} train / {len(test):,} test images)"
    return CIFARData(train, test, CLASSES, False, description, path)
