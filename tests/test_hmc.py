"""HMC (minivi.models.bnn.hamiltonian): leapfrog's geometry, and samples of a posterior known in closed form."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi.models import bnn


def _gaussian(seed=0, d=3):
    """log π(θ) = −½ (θ − m)ᵀ P (θ − m) with a correlated precision P."""
    r = np.random.default_rng(seed)
    A = r.standard_normal((d, d))
    P = A @ A.T + 0.5 * np.eye(d)
    m = r.standard_normal(d)
    Pt, mt = mv.tensor(P, dtype="float64"), mv.tensor(m, dtype="float64")

    def log_prob(t):
        z = t - mt
        return -0.5 * (z * (z @ Pt)).sum()

    return log_prob, m, P


def test_value_and_grad_matches_the_closed_form_gradient():
    log_prob, m, P = _gaussian()
    theta = np.array([0.3, -1.0, 2.0])
    value, grad = bnn.value_and_grad(log_prob)(theta)
    np.testing.assert_allclose(value, -0.5 * (theta - m) @ P @ (theta - m), rtol=1e-12)
    np.testing.assert_allclose(grad, -P @ (theta - m), rtol=1e-12)


def test_leapfrog_is_reversible():
    log_prob, m, P = _gaussian(1)
    vg = bnn.value_and_grad(log_prob)
    grad = lambda th: vg(th)[1]  # noqa: E731
    theta0, p0 = np.array([1.0, 0.5, -0.3]), np.array([0.2, -1.0, 0.7])
    theta1, p1 = bnn.leapfrog(theta0, p0, grad, 0.05, 25)
    theta2, p2 = bnn.leapfrog(theta1, -p1, grad, 0.05, 25)        # flip the momentum and run again
    np.testing.assert_allclose(theta2, theta0, atol=1e-10)
    np.testing.assert_allclose(-p2, p0, atol=1e-10)


def test_leapfrog_preserves_volume():
    """The Jacobian of (θ, p) -> leapfrog(θ, p) has determinant 1 (by central differences)."""
    log_prob, m, P = _gaussian(2)
    grad = lambda th: bnn.value_and_grad(log_prob)(th)[1]  # noqa: E731
    z0 = np.array([0.4, -0.2, 1.0, 0.3, 0.9, -0.5])

    def step(z):
        a, b = bnn.leapfrog(z[:3], z[3:], grad, 0.1, 7)
        return np.concatenate([a, b])

    h = 1e-6
    J = np.stack([(step(z0 + h * e) - step(z0 - h * e)) / (2 * h) for e in np.eye(6)], axis=1)
    assert abs(np.linalg.det(J) - 1.0) < 1e-6


def test_leapfrog_energy_error_is_second_order():
    """|H(end) − H(start)| over a fixed time T = εL shrinks by ~4 when ε halves."""
    log_prob, m, P = _gaussian(3)
    vg = bnn.value_and_grad(log_prob)
    theta0, p0 = m + np.array([0.5, -0.5, 0.2]), np.array([1.0, 0.3, -0.6])
    h0 = bnn.hamiltonian(vg(theta0)[0], p0)
    errors = []
    for eps in (0.02, 0.01, 0.005):
        theta, p = bnn.leapfrog(theta0, p0, lambda th: vg(th)[1], eps, int(round(0.4 / eps)))
        errors.append(abs(bnn.hamiltonian(vg(theta)[0], p) - h0))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.0) & (ratios < 5.5)), (errors, ratios)


def test_hmc_samples_the_bayesian_linear_regression_posterior():
    """Mean and covariance of the draws match the exact posterior within 4 Monte Carlo standard errors,
    each error from the effective sample size of the quantity averaged; acceptance after warm-up in [0.6, 0.98]."""
    r = np.random.default_rng(0)
    n, d, noise, s = 50, 3, 0.5, 1.0
    X = r.standard_normal((n, d))
    X[:, 1] = 0.8 * X[:, 0] + 0.6 * X[:, 1]
    y = X @ np.array([1.0, -0.5, 0.3]) + noise * r.standard_normal(n)
    m, C = bnn.blr_posterior(X, y, noise**2, s**2)
    Xt, yt = mv.tensor(X, dtype="float64"), mv.tensor(y, dtype="float64")

    def log_prob(w):
        res = yt - Xt @ w
        return -0.5 * (res * res).sum() / noise**2 - 0.5 * (w * w).sum() / s**2

    res = bnn.hmc(log_prob, np.zeros(d), 2000, np.random.default_rng(1), n_warmup=300, step_size=0.05, n_leapfrog=20)
    assert 0.6 <= res.accept_rate <= 0.98, res.accept_rate
    S = res.samples
    mean_se = S.std(0) / np.sqrt(bnn.effective_sample_size(S))
    assert np.all(np.abs(S.mean(0) - m) < 4 * mean_se), (S.mean(0), m, mean_se)
    i, j = np.triu_indices(d)
    prods = (S - m)[:, i] * (S - m)[:, j]                          # unbiased for C_ij given the exact mean
    cov_se = prods.std(0) / np.sqrt(bnn.effective_sample_size(prods))
    assert np.all(np.abs(prods.mean(0) - C[i, j]) < 4 * cov_se), (prods.mean(0), C[i, j], cov_se)


def test_dual_averaging_tunes_the_step_size_towards_the_target():
    log_prob, m, P = _gaussian(4)
    lo = bnn.hmc(log_prob, m, 400, np.random.default_rng(5), n_warmup=300, step_size=1.0, n_leapfrog=10,
                 target_accept=0.6)
    hi = bnn.hmc(log_prob, m, 400, np.random.default_rng(5), n_warmup=300, step_size=1.0, n_leapfrog=10,
                 target_accept=0.95)
    assert hi.step_size < lo.step_size
    assert 0.45 < lo.accept_rate < 0.85 and hi.accept_rate > 0.88, (lo.accept_rate, hi.accept_rate)


def test_effective_sample_size_of_an_ar1_chain():
    """x_t = ρ x_{t−1} + ε_t has ESS = n (1 − ρ) / (1 + ρ)."""
    r = np.random.default_rng(6)
    rho, n = 0.8, 200_000
    x = np.empty(n)
    x[0] = r.standard_normal()
    e = r.standard_normal(n) * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + e[t]
    np.testing.assert_allclose(bnn.effective_sample_size(x)[0], n * (1 - rho) / (1 + rho), rtol=0.1)


def test_hmc_rejects_bad_arguments():
    log_prob, m, P = _gaussian()
    with pytest.raises(ValueError, match="n_leapfrog"):
        bnn.hmc(log_prob, m, 10, np.random.default_rng(0), n_leapfrog=0)
    with pytest.raises(ValueError, match="scalar"):
        bnn.hmc(lambda t: t * 2.0, m, 10, np.random.default_rng(0))
