"""Mixture data, mode coverage and Fréchet distances for GANs; derived in "Generative adversarial networks".

Conventions: a batch is the first axis. Samples in the plane have shape (N, 2);
feature matrices have shape (N, k), one row per example. Functions compute in the
dtype and on the device of their inputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# ---------------------------------------------------------------------------------------------
# The ring of Gaussians
# ---------------------------------------------------------------------------------------------

def ring_centers(num_modes: int = 8, radius: float = 2.0, *,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The centres (num_modes, 2) of modes evenly spaced on a circle of `radius`."""
    if num_modes < 1 or not radius > 0:
        raise ValueError(f"need num_modes >= 1 and radius > 0, got {num_modes}, {radius}")
    angles = 2 * math.pi * torch.arange(num_modes, dtype=dtype) / num_modes
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def sample_ring(n: int, *, num_modes: int = 8, radius: float = 2.0, std: float = 0.02,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """n samples (n, 2) of the equal-weight mixture of N(c_j, std^2 I) over `ring_centers`.

    Drawn on the CPU from `generator` (move them to a device afterwards).
    """
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    centers = ring_centers(num_modes, radius)
    modes = torch.randint(num_modes, (n,), generator=generator)
    return centers[modes] + std * torch.randn(n, 2, generator=generator)


def mode_coverage(samples: torch.Tensor, centers: torch.Tensor, std: float, *,
                  num_std: float = 3.0, min_fraction: float = 0.01) -> dict:
    """How well samples (N, 2) cover the modes (M, 2) of a mixture with component `std`.

    A sample is *high quality* if it lies within `num_std` standard deviations of its
    nearest centre; a mode is *covered* if at least `min_fraction` of all samples are
    high-quality samples of it. Returns {"modes": number covered, "high_quality":
    fraction of high-quality samples, "counts": (M,) high-quality samples per mode}.
    """
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples must be (N, {centers.shape[1]}), got {tuple(samples.shape)}")
    centers = centers.to(samples)
    distances = torch.cdist(samples, centers)  # (N, M)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= num_std * std
    counts = torch.bincount(nearest[good], minlength=len(centers))
    covered = counts >= min_fraction * len(samples)
    return {"modes": int(covered.sum()), "high_quality": good.float().mean().item(),
            "counts": counts}


# ---------------------------------------------------------------------------------------------
# The Fréchet distance between Gaussians
# ---------------------------------------------------------------------------------------------

def gaussian_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean (k,) and the unbiased covariance (k, k) of features (N, k), N >= 2."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must be (N, k) with N >= 2, got {tuple(features.shape)}")
    return features.mean(dim=0), torch.cov(features.T)


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor,
                     cov2: torch.Tensor) -> torch.Tensor:
    """||mu1 - mu2||^2 + tr(cov1 + cov2 - 2 (cov1^{1/2} cov2 cov1^{1/2})^{1/2}).

    The squared 2-Wasserstein distance between N(mu1, cov1) and N(mu2, cov2). The trace
    of the matrix square root is the sum of square roots of the eigenvalues of the
    symmetric matrix cov1^{1/2} cov2 cov1^{1/2}, clamped at zero against round-off.
    """
    values, vectors = torch.linalg.eigh(cov1)
    root1 = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    middle = root1 @ cov2 @ root1
    middle = (middle + middle.T) / 2  # symmetric up to round-off
    trace_root = torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()
    return (mu1 - mu2).square().sum() + cov1.trace() + cov2.trace() - 2 * trace_root


def feature_frechet_distance(features1: torch.Tensor, features2: torch.Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature matrices (N, k).

    Computed in float64 on the CPU (covariances of many features lose digits in float32).
    """
    stats1 = gaussian_statistics(features1.detach().double().cpu())
    stats2 = gaussian_statistics(features2.detach().double().cpu())
    return frechet_distance(*stats1, *stats2).item()


# ---------------------------------------------------------------------------------------------
# An MNIST classifier whose penultimate layer gives the features
# ---------------------------------------------------------------------------------------------

def mnist_classifier(*, width: int = 32, feature_dim: int = 64, num_classes: int = 10) -> nn.Sequential:
    """A small CNN for (B, 1, 28, 28) inputs whose last module maps features to logits.

    `model[:-1]` maps images to features (B, feature_dim) (after a ReLU);
    `model[-1]` is the final nn.Linear(feature_dim, num_classes).
    """
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, w, 14, 14)
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 2w, 7, 7)
        nn.Flatten(),  # (B, 2w * 49)
        nn.Linear(2 * width * 49, feature_dim), nn.ReLU(),
        nn.Linear(feature_dim, num_classes),
    )


@torch.no_grad()
def classifier_features(model: nn.Sequential, X: torch.Tensor, *,
                        batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, feature_dim) and predicted classes (N,) of images X (N, 1, 28, 28).

    Runs `model` in evaluation mode batch by batch and restores its training flag.
    """
    was_training = model.training
    model.eval()
    features, predictions = [], []
    for start in range(0, len(X), batch_size):
        h = model[:-1](X[start:start + batch_size])
        features.append(h)
        predictions.append(model[-1](h).argmax(dim=1))
    model.train(was_training)
    return torch.cat(features), torch.cat(predictions)


def class_fractions(predictions: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """The fraction (num_classes,) of predictions (N,) in each class; sums to 1."""
    if len(predictions) == 0:
        raise ValueError("class_fractions needs at least one prediction")
    counts = torch.bincount(predictions.long().cpu(), minlength=num_classes)
    return counts.double() / len(predictions)
