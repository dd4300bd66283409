"""helpers.vae: closed forms against torch.distributions, the ELBO identity, the estimators."""

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from helpers.vae import (
    bernoulli_log_likelihood,
    diag_gaussian_log_density,
    elbo_bernoulli,
    gaussian_kl,
    kl_standard_normal,
    linear_gaussian_elbo,
    linear_gaussian_log_marginal,
    linear_gaussian_posterior,
    reparameterize,
)

D64 = torch.float64


@pytest.fixture
def model():
    g = torch.Generator().manual_seed(0)
    d, d_z = 5, 3
    W = torch.randn(d, d_z, generator=g, dtype=D64)
    b = torch.randn(d, generator=g, dtype=D64)
    sigma = 0.7
    z = torch.randn(d_z, generator=g, dtype=D64)
    x = W @ z + b + sigma * torch.randn(d, generator=g, dtype=D64)
    return g, W, b, sigma, x


def random_cov(g, k):
    A = torch.randn(k, k, generator=g, dtype=D64)
    return A @ A.T + 0.1 * torch.eye(k, dtype=D64)


def test_log_marginal_matches_multivariate_normal(model):
    g, W, b, sigma, x = model
    cov = W @ W.T + sigma**2 * torch.eye(len(b), dtype=D64)
    X = torch.stack([x, x + 1])  # a batch of two
    expected = MultivariateNormal(b, cov).log_prob(X)
    torch.testing.assert_close(linear_gaussian_log_marginal(X, W, b, sigma), expected)


def test_posterior_is_bayes_rule(model):
    g, W, b, sigma, x = model
    mean, cov = linear_gaussian_posterior(x, W, b, sigma)
    z = torch.randn(4, W.shape[1], generator=g, dtype=D64)
    log_joint = (Normal(z @ W.T + b, sigma).log_prob(x).sum(-1)
                 + Normal(0.0, 1.0).log_prob(z).sum(-1))
    bayes = log_joint - linear_gaussian_log_marginal(x, W, b, sigma)
    torch.testing.assert_close(MultivariateNormal(mean, cov).log_prob(z), bayes)


def test_elbo_identity_and_tightness(model):
    g, W, b, sigma, x = model
    mean_q = torch.randn(W.shape[1], generator=g, dtype=D64)
    cov_q = random_cov(g, W.shape[1])
    post_mean, post_cov = linear_gaussian_posterior(x, W, b, sigma)
    log_px = linear_gaussian_log_marginal(x, W, b, sigma)
    elbo = linear_gaussian_elbo(x, W, b, sigma, mean_q, cov_q)
    gap = gaussian_kl(mean_q, cov_q, post_mean, post_cov)
    torch.testing.assert_close(elbo + gap, log_px, rtol=0, atol=1e-12)
    assert gap > 1e-3
    tight = linear_gaussian_elbo(x, W, b, sigma, post_mean, post_cov)
    torch.testing.assert_close(tight, log_px, rtol=0, atol=1e-12)


def test_elbo_matches_monte_carlo(model):
    g, W, b, sigma, x = model
    mean_q = torch.randn(W.shape[1], generator=g, dtype=D64)
    cov_q = random_cov(g, W.shape[1])
    q = MultivariateNormal(mean_q, cov_q)
    torch.manual_seed(0)  # q.sample draws from the global generator
    z = q.sample((200_000,))
    log_w = (Normal(z @ W.T + b, sigma).log_prob(x).sum(-1)
             + Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z))
    se = log_w.std() / len(log_w) ** 0.5
    exact = linear_gaussian_elbo(x, W, b, sigma, mean_q, cov_q)
    assert abs(log_w.mean() - exact) < 5 * se


def test_gaussian_kl_matches_torch():
    g = torch.Generator().manual_seed(1)
    k = 4
    m_q, m_p = torch.randn(2, k, generator=g, dtype=D64)
    c_q, c_p = random_cov(g, k), random_cov(g, k)
    expected = kl_divergence(MultivariateNormal(m_q, c_q), MultivariateNormal(m_p, c_p))
    torch.testing.assert_close(gaussian_kl(m_q, c_q, m_p, c_p), expected)


def test_kl_standard_normal_matches_torch():
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(6, 3, generator=g, dtype=D64)
    logvar = torch.randn(6, 3, generator=g, dtype=D64)
    q = Normal(mu, (0.5 * logvar).exp())
    expected = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_standard_normal(mu, logvar), expected)
    assert kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)).abs().max() == 0


def test_diag_log_density_and_reparameterize():
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(2, 3, generator=g, dtype=D64)
    logvar = torch.randn(2, 3, generator=g, dtype=D64)
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(4))
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(4), dtype=D64)
    torch.testing.assert_close(z, mu + (0.5 * logvar).exp() * eps)
    expected = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(diag_gaussian_log_density(z, mu, logvar), expected)


def test_bernoulli_log_likelihood_and_refusal():
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(3, 1, 4, 4, generator=g, dtype=D64)
    x = torch.bernoulli(torch.full(logits.shape, 0.5, dtype=D64), generator=g)
    expected = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(bernoulli_log_likelihood(x, logits), expected)
    with pytest.raises(ValueError, match="binary"):
        bernoulli_log_likelihood(x * 0.5, logits)


def test_elbo_bernoulli_is_reconstruction_minus_kl():
    g = torch.Generator().manual_seed(6)
    mu = torch.randn(4, 2, generator=g, dtype=D64)
    logvar = torch.randn(4, 2, generator=g, dtype=D64)
    x = torch.bernoulli(torch.full((4, 6), 0.3, dtype=D64), generator=g)
    weight = torch.randn(6, 2, generator=g, dtype=D64)

    def decode(z):
        return z @ weight.T

    elbo = elbo_bernoulli(x, mu, logvar, decode, generator=torch.Generator().manual_seed(7))
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(7))
    recon = torch.distributions.Bernoulli(logits=decode(z)).log_prob(x).sum(1)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(elbo, recon - kl)


def test_bad_sigma_is_refused(model):
    _, W, b, _, x = model
    with pytest.raises(ValueError, match="positive"):
        linear_gaussian_log_marginal(x, W, b, 0.0)
