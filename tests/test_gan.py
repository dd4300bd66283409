"""helpers.gan: the ring mixture, mode coverage, Fréchet distances, the feature classifier."""

import math

import numpy
import pytest
import scipy.linalg
import torch

from helpers.gan import (
    class_fractions,
    classifier_features,
    feature_frechet_distance,
    frechet_distance,
    gaussian_statistics,
    mnist_classifier,
    mode_coverage,
    ring_centers,
    sample_ring,
)

D64 = torch.float64


def random_spd(k, generator):
    A = torch.randn(k, k, generator=generator, dtype=D64)
    return A @ A.T + 0.1 * torch.eye(k, dtype=D64)


def test_ring_centers_on_circle_and_evenly_spaced():
    centers = ring_centers(8, 2.0, dtype=D64)
    torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0, dtype=D64))
    gaps = torch.cdist(centers, centers.roll(1, dims=0)).diagonal()
    torch.testing.assert_close(gaps, torch.full((8,), 4 * math.sin(math.pi / 8), dtype=D64))


def test_sample_ring_is_the_mixture():
    g = torch.Generator().manual_seed(0)
    X = sample_ring(40_000, std=0.05, generator=g)
    result = mode_coverage(X, ring_centers(), 0.05)
    assert result["modes"] == 8
    # within 3 std in 2-D: P(chi^2_2 <= 9) = 1 - exp(-4.5)
    assert abs(result["high_quality"] - (1 - math.exp(-4.5))) < 0.005
    assert (result["counts"] - 5000 * (1 - math.exp(-4.5))).abs().max() < 300


def test_mode_coverage_counts_dropped_modes_and_bad_samples():
    centers = ring_centers()
    g = torch.Generator().manual_seed(1)
    X = centers[:3].repeat(100, 1) + 0.01 * torch.randn(300, 2, generator=g)
    far = torch.zeros(100, 2)  # the origin is far from every mode
    result = mode_coverage(torch.cat([X, far]), centers, 0.02)
    assert result["modes"] == 3
    assert result["high_quality"] == pytest.approx(0.75)
    assert result["counts"].tolist() == [100, 100, 100, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="samples must be"):
        mode_coverage(torch.zeros(5, 3), centers, 0.02)


def test_frechet_distance_matches_scipy_sqrtm():
    g = torch.Generator().manual_seed(2)
    cov1, cov2 = random_spd(6, g), random_spd(6, g)
    mu1, mu2 = torch.randn(6, generator=g, dtype=D64), torch.randn(6, generator=g, dtype=D64)
    root = scipy.linalg.sqrtm((cov1 @ cov2).numpy())
    expected = ((mu1 - mu2).square().sum() + cov1.trace() + cov2.trace()
                - 2 * float(root.real.trace()))
    torch.testing.assert_close(frechet_distance(mu1, cov1, mu2, cov2), expected)


def test_frechet_distance_zero_translation_and_commuting_case():
    g = torch.Generator().manual_seed(3)
    cov = random_spd(4, g)
    mu = torch.randn(4, generator=g, dtype=D64)
    shift = torch.randn(4, generator=g, dtype=D64)
    torch.testing.assert_close(frechet_distance(mu, cov, mu, cov), torch.tensor(0.0, dtype=D64),
                               atol=1e-10, rtol=0)
    torch.testing.assert_close(frechet_distance(mu, cov, mu + shift, cov), shift.square().sum())
    a, b = torch.rand(4, generator=g, dtype=D64), torch.rand(4, generator=g, dtype=D64)
    torch.testing.assert_close(frechet_distance(mu, torch.diag(a), mu, torch.diag(b)),
                               (a.sqrt() - b.sqrt()).square().sum())


def test_feature_frechet_distance_of_samples():
    g = torch.Generator().manual_seed(4)
    X = torch.randn(20_000, 3, generator=g)
    assert feature_frechet_distance(X, X) == pytest.approx(0.0, abs=1e-8)
    Y = torch.randn(20_000, 3, generator=g) * 2 + 1  # N(1, 4 I): distance 3 + 3
    assert feature_frechet_distance(X, Y) == pytest.approx(6.0, abs=0.1)
    mu, cov = gaussian_statistics(X.double())
    torch.testing.assert_close(cov, torch.from_numpy(numpy.cov(X.double().numpy().T)))
    with pytest.raises(ValueError, match="N >= 2"):
        gaussian_statistics(torch.zeros(1, 3))


def test_mnist_classifier_features_and_predictions():
    torch.manual_seed(0)
    model = mnist_classifier(width=4, feature_dim=16)
    model.train()
    X = torch.rand(10, 1, 28, 28)
    features, predictions = classifier_features(model, X, batch_size=3)
    assert features.shape == (10, 16) and (features >= 0).all()
    torch.testing.assert_close(model[-1](features), model(X))
    assert torch.equal(predictions, model(X).argmax(dim=1))
    assert model.training  # restored


def test_class_fractions():
    fractions = class_fractions(torch.tensor([0, 0, 3, 9]))
    assert fractions.tolist() == [0.5, 0, 0, 0.25, 0, 0, 0, 0, 0, 0.25]
    with pytest.raises(ValueError):
        class_fractions(torch.tensor([], dtype=torch.long))
