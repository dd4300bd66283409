"""helpers.flows: right flows pass the exact checks, wrong ones fail them, PyTorch as the oracle."""

import math

import pytest
import torch

from helpers.flows import (
    bits_per_dim,
    check_density_integrates,
    check_flow,
    check_inverse,
    check_log_det,
    dequantize_logit,
    flow_log_prob,
    grid,
    grid_mass,
    jacobian_log_det,
    standard_normal_log_prob,
)


class Affine:
    """z = A^{-1} (x - mu): a flow with a known density N(mu, A A^T)."""

    def __init__(self, A, mu, log_det_sign=-1.0, inverse_shift=0.0):
        self.A, self.mu = A, mu
        self.log_det_sign, self.inverse_shift = log_det_sign, inverse_shift

    def __call__(self, x):
        z = torch.linalg.solve(self.A, (x - self.mu).T).T
        log_det = self.log_det_sign * torch.linalg.slogdet(self.A)[1]
        return z, log_det.expand(len(x))

    def inverse(self, z):
        return z @ self.A.T + self.mu + self.inverse_shift


@pytest.fixture
def affine():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(2, 2, generator=g, dtype=torch.float64) + 2 * torch.eye(2, dtype=torch.float64)
    mu = torch.randn(2, generator=g, dtype=torch.float64)
    x = torch.randn(5, 2, generator=g, dtype=torch.float64)
    return A, mu, x


def test_standard_normal_log_prob_matches_torch():
    z = torch.randn(4, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum((1, 2))
    torch.testing.assert_close(standard_normal_log_prob(z), expected)


def test_flow_log_prob_is_the_gaussian_density(affine):
    A, mu, x = affine
    expected = torch.distributions.MultivariateNormal(mu, A @ A.T).log_prob(x)
    torch.testing.assert_close(flow_log_prob(Affine(A, mu), x), expected)


def test_jacobian_log_det_of_a_linear_map(affine):
    A, _, x = affine
    expected = torch.linalg.slogdet(A)[1].expand(len(x))
    torch.testing.assert_close(jacobian_log_det(lambda v: v @ A.T, x), expected)


def test_a_reshaping_map_is_allowed():
    x = torch.randn(2, 1, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(jacobian_log_det(lambda v: 3 * v.reshape(len(v), 4, 1, 1), x),
                               torch.full((2,), 4 * math.log(3), dtype=torch.float64))


def test_jacobian_log_det_of_images_flattens_each_sample():
    x = torch.rand(3, 1, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    expected = (2 * x).log().flatten(1).sum(1)  # d/dx x^2 = 2x, elementwise
    torch.testing.assert_close(jacobian_log_det(lambda v: v**2, x), expected)


def test_a_correct_flow_passes(affine):
    A, mu, x = affine
    report = check_flow(Affine(A, mu), x)
    assert report.inverse_error < 1e-12 and report.log_det_error < 1e-12
    assert "vs autograd" in str(report)


def test_wrong_log_det_sign_fails(affine):
    A, mu, x = affine
    with pytest.raises(AssertionError, match="log_det differs"):
        check_log_det(Affine(A, mu, log_det_sign=1.0), x)


def test_wrong_inverse_fails(affine):
    A, mu, x = affine
    with pytest.raises(AssertionError, match="inverse is off"):
        check_inverse(Affine(A, mu, inverse_shift=1e-8), x)


def test_float32_is_refused(affine):
    A, mu, x = affine
    with pytest.raises(TypeError, match="float64"):
        check_flow(Affine(A, mu), x.float())


def test_a_shape_changing_map_is_refused():
    x = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="number of coordinates"):
        jacobian_log_det(lambda v: v[:, :2], x)


def test_grid_cells_cover_the_box():
    axis, points, area = grid(2.0, 4)
    torch.testing.assert_close(axis, torch.tensor([-1.5, -0.5, 0.5, 1.5], dtype=torch.float64))
    assert points.shape == (16, 2) and area == 1.0
    assert points[1].tolist() == [-0.5, -1.5]  # x varies fastest


def test_gaussian_integrates_to_one_and_a_scaled_one_does_not(affine):
    A, mu, _ = affine
    gaussian = torch.distributions.MultivariateNormal(mu, A @ A.T)
    lim = 6 * float(torch.linalg.matrix_norm(A, 2)) + float(mu.abs().max())
    mass = check_density_integrates(gaussian.log_prob, lim=lim, num=400, atol=1e-4)
    assert abs(mass - 1) < 1e-4
    assert grid_mass(lambda p: gaussian.log_prob(p) + math.log(2), lim=lim, num=400) > 1.9
    with pytest.raises(AssertionError, match="integrates to"):
        check_density_integrates(lambda p: gaussian.log_prob(p) - 0.01, lim=lim, num=400)


def test_uniform_levels_give_eight_bits_per_dim():
    g = torch.Generator().manual_seed(3)
    X = torch.randint(0, 256, (64, 1, 3, 3), generator=g).double() / 255
    noise = torch.rand(X.shape, generator=g, dtype=torch.float64)
    z, log_det = dequantize_logit(X, noise, alpha=0.05)
    # the density of logit(U(alpha, 1 - alpha)) is sigmoid'(z) / (1 - 2 alpha)
    log_pz = (torch.nn.functional.logsigmoid(z) + torch.nn.functional.logsigmoid(-z)
              - math.log(0.9)).flatten(1).sum(1)
    nll = -(log_pz + log_det).mean()
    assert bits_per_dim(nll, 9) == pytest.approx(8.0, abs=1e-10)


def test_dequantize_logit_log_det_matches_autograd():
    g = torch.Generator().manual_seed(4)
    X = torch.randint(0, 256, (3, 4), generator=g).double() / 255
    noise = torch.rand(X.shape, generator=g, dtype=torch.float64)
    k = torch.round(X * 255)
    _, log_det = dequantize_logit(X, noise)
    # as a function of v = k + noise (X = 0 puts all of v into the noise argument)
    reference = jacobian_log_det(lambda v: dequantize_logit(torch.zeros_like(v), v)[0], k + noise)
    torch.testing.assert_close(log_det, reference)


def test_bits_per_dim_is_nats_over_d_log_2():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="alpha"):
        dequantize_logit(torch.zeros(1, 1), torch.zeros(1, 1), alpha=0.5)
