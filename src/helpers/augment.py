"""Random flips, crops and shifts of whole batches on the device; derived in "Data augmentation and regularization"."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

PADDING_MODES = ("constant", "reflect", "replicate")


def device_generator(device: torch.device | str, seed: int) -> torch.Generator:
    """A random number generator on `device`, seeded (augmentation draws on the device it runs on)."""
    return torch.Generator(device=torch.device(device)).manual_seed(seed)


def _check_batch(X: torch.Tensor, generator: torch.Generator) -> None:
    if X.ndim != 4:
        raise ValueError(f"expected a batch of images (B, C, H, W), got shape {tuple(X.shape)}")
    if generator.device.type != X.device.type:
        raise ValueError(f"the generator is on {generator.device} but the images are on {X.device}: "
                         "make it with device_generator(X.device, seed)")


def flip(X: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """Mirror left-right the images of X (B, C, H, W) where the boolean `which` (B,) is True."""
    return torch.where(which.view(-1, 1, 1, 1), X.flip(-1), X)


def random_flip(X: torch.Tensor, *, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror each image of X (B, C, H, W) left-right with probability p."""
    _check_batch(X, generator)
    return flip(X, torch.rand(len(X), generator=generator, device=X.device) < p)


def crop(X: torch.Tensor, padding: int, offsets: torch.Tensor, padding_mode: str = "constant") -> torch.Tensor:
    """Pad X (B, C, H, W) by `padding` on every side, then cut image b's H x W window at row
    offsets[b, 0] and column offsets[b, 1] (each in 0..2 * padding); one gather, no loop over images."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    B, C, H, W = X.shape
    padded = F.pad(X, (padding,) * 4, mode=padding_mode)  # (B, C, H + 2p, W + 2p)
    rows = offsets[:, 0, None] + torch.arange(H, device=X.device)  # (B, H)
    cols = offsets[:, 1, None] + torch.arange(W, device=X.device)  # (B, W)
    batch = torch.arange(B, device=X.device)[:, None, None]  # (B, 1, 1)
    windows = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C): advanced indices first
    return windows.permute(0, 3, 1, 2)  # (B, C, H, W)


def random_crop(X: torch.Tensor, padding: int, *, generator: torch.Generator,
                padding_mode: str = "constant") -> torch.Tensor:
    """Random H x W crops of X padded by `padding`: with zero padding, a random shift of each image
    by up to `padding` pixels in each direction, the uncovered border filled with zeros."""
    _check_batch(X, generator)
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
    offsets = torch.randint(0, 2 * padding + 1, (len(X), 2), generator=generator, device=X.device)
    return crop(X, padding, offsets, padding_mode)


def random_shift(X: torch.Tensor, max_shift: int, *, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by a random whole number of pixels in [-max_shift, max_shift] in each direction."""
    return random_crop(X, max_shift, generator=generator, padding_mode="constant")


@dataclass(frozen=True)
class Augment:
    """A batch augmentation: a random flip with probability `flip_p`, then a random crop with `padding`."""

    flip_p: float = 0.5
    padding: int = 4
    padding_mode: str = "constant"

    def __call__(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.flip_p > 0:
            X = random_flip(X, generator=generator, p=self.flip_p)
        if self.padding > 0:
            X = random_crop(X, self.padding, generator=generator, padding_mode=self.padding_mode)
        return X


class AugmentedLoader:
    """Wrap a loader of (X, y) batches so that every batch's X passes through `augment` on X's device.

    Re-iterable like the loader it wraps: each pass draws new augmentations from `generator`.
    """

    def __init__(self, loader: Iterable[tuple[torch.Tensor, ...]], augment: Augment,
                 generator: torch.Generator) -> None:
        self.loader, self.augment, self.generator = loader, augment, generator

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        for X, *rest in self.loader:
            yield (self.augment(X, self.generator), *rest)
