"""Closed forms and estimators for variational autoencoders; derived in "Variational autoencoders".

Conventions: a batch is the first axis; a diagonal Gaussian is given by its mean `mu`
and log-variance `logvar` (same shape, the last axis the latent dimension); every
log-density and KL is in nats and summed over the event dimensions, so a batch of
inputs gives one number per example.

The linear-Gaussian model is p(z) = N(0, I), p(x | z) = N(W z + b, sigma^2 I), with
W of shape (d, d_z) (outputs x inputs, like `nn.Linear`), b of shape (d,) and a float
sigma > 0. Its functions take one x of shape (d,) or a batch (B, d).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def _check_sigma(sigma: float) -> None:
    if not sigma > 0:
        raise ValueError(f"the noise scale sigma must be positive, got {sigma!r}")


# ---------------------------------------------------------------------------------------------
# The linear-Gaussian model: everything in closed form
# ---------------------------------------------------------------------------------------------

def linear_gaussian_log_marginal(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                                 sigma: float) -> torch.Tensor:
    """log p(x) for x ~ N(b, W W^T + sigma^2 I), the marginal of the linear-Gaussian model."""
    _check_sigma(sigma)
    d = W.shape[0]
    cov = W @ W.T + sigma**2 * torch.eye(d, dtype=W.dtype, device=W.device)
    chol = torch.linalg.cholesky(cov)
    r = (x - b).unsqueeze(-1)  # (..., d, 1)
    # solve L u = r: then r^T cov^{-1} r = ||u||^2
    u = torch.linalg.solve_triangular(chol, r, upper=False).squeeze(-1)
    log_det = 2 * torch.log(torch.diagonal(chol)).sum()
    return -0.5 * (d * LOG_2PI + log_det + (u**2).sum(-1))


def linear_gaussian_posterior(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                              sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (..., d_z) and covariance (d_z, d_z) of p(z | x) in the linear-Gaussian model.

    The covariance is (I + W^T W / sigma^2)^{-1} and the mean cov W^T (x - b) / sigma^2;
    the covariance does not depend on x.
    """
    _check_sigma(sigma)
    d_z = W.shape[1]
    precision = torch.eye(d_z, dtype=W.dtype, device=W.device) + W.T @ W / sigma**2
    cov = torch.linalg.inv(precision)
    cov = 0.5 * (cov + cov.T)  # symmetric to the last bit, for Cholesky factorizations
    mean = (x - b) @ W @ cov / sigma**2  # cov is symmetric, so row vectors work
    return mean, cov


def linear_gaussian_elbo(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, sigma: float,
                         mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """The ELBO of q(z) = N(mean, cov) (any covariance) in the linear-Gaussian model, exactly.

    E_q[log p(x|z)] - KL(q || N(0, I)), with
    E_q ||x - W z - b||^2 = ||x - W mean - b||^2 + tr(W cov W^T).
    """
    _check_sigma(sigma)
    d = W.shape[0]
    residual = x - mean @ W.T - b  # (..., d)
    expected_sq = (residual**2).sum(-1) + torch.trace(W @ cov @ W.T)
    log_lik = -0.5 * d * (LOG_2PI + 2 * math.log(sigma)) - 0.5 * expected_sq / sigma**2
    zero = torch.zeros(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    return log_lik - gaussian_kl(mean, cov, zero, eye)


def gaussian_kl(mean_q: torch.Tensor, cov_q: torch.Tensor, mean_p: torch.Tensor,
                cov_p: torch.Tensor) -> torch.Tensor:
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) for full covariances (shape (k, k)), in nats.

    1/2 [tr(cov_p^{-1} cov_q) + (m_p - m_q)^T cov_p^{-1} (m_p - m_q) - k
         + log det cov_p - log det cov_q]; the means may carry batch axes.
    """
    k = cov_q.shape[-1]
    chol_p = torch.linalg.cholesky(cov_p)
    chol_q = torch.linalg.cholesky(cov_q)
    # tr(cov_p^{-1} cov_q) = ||L_p^{-1} L_q||_F^2
    A = torch.linalg.solve_triangular(chol_p, chol_q, upper=False)
    diff = (mean_p - mean_q).unsqueeze(-1)  # (..., k, 1)
    u = torch.linalg.solve_triangular(chol_p, diff, upper=False).squeeze(-1)
    log_det_p = 2 * torch.log(torch.diagonal(chol_p)).sum()
    log_det_q = 2 * torch.log(torch.diagonal(chol_q)).sum()
    return 0.5 * ((A**2).sum() + (u**2).sum(-1) - k + log_det_p - log_det_q)


# ---------------------------------------------------------------------------------------------
# Diagonal Gaussians and the Bernoulli decoder
# ---------------------------------------------------------------------------------------------

def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2).

    Summed over the last axis: (B, d_z) -> (B,).
    """
    return 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(-1)


def diag_gaussian_log_density(z: torch.Tensor, mu: torch.Tensor,
                              logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)), summed over the last axis (broadcasting like z - mu)."""
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, *,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I): a sample of q that is differentiable in mu, logvar.

    eps is drawn from `generator` on that generator's device (a CPU generator is reproducible
    everywhere; a device generator avoids a copy per step) and moved to mu's device.
    """
    where = generator.device if generator is not None else mu.device
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=where).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x | logits) = sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)], p = sigmoid(logits).

    Summed over every axis but the first, so (B, 1, 28, 28) images give (B,) values.
    A log-likelihood only for binary x: for x in {0, 1}. Grey levels are refused.
    """
    if not torch.all((x == 0) | (x == 1)):
        raise ValueError("bernoulli_log_likelihood needs binary x (0 or 1); binarize the images "
                         "first, e.g. torch.bernoulli(X): grey levels have no Bernoulli likelihood")
    per_pixel = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(1)


def elbo_bernoulli(x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                   decode: Callable[[torch.Tensor], torch.Tensor], *,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """One-sample reparameterized ELBO per example, in nats: log p(x | z) - KL(q(z|x) || N(0, I)).

    `mu`, `logvar` (B, d_z) are the encoder's outputs for x (B, ...); `decode` maps z (B, d_z)
    to logits shaped like x. The KL is exact, the reconstruction term a one-sample estimate,
    so the value is an unbiased estimate of the ELBO. Returns (B,); the loss is -its mean.
    """
    z = reparameterize(mu, logvar, generator=generator)
    return bernoulli_log_likelihood(x, decode(z)) - kl_standard_normal(mu, logvar)
