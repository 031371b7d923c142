"""Public checks for chapter 07 (variational inference).

Each check receives the learner's plain-NumPy function and compares it, on seeded float64 inputs, with
answers computed here by another route: SciPy's dense multivariate normal for PPCA's log p(y), the
posterior from conditioning the joint Gaussian of (z, y), the Gaussian KL in matrix form, central
differences for gradients, and the known optimum of mean-field VI for a Gaussian posterior.
``hidden=True`` (the grader's run) uses other seeds and shapes than the public run. 10 points in all.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from scipy.special import logsumexp

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, numerical_grad, rng, unpack

#: minivi functions that compute each graded quantity: the grader makes them raise while grading.
FORBIDDEN = {
    "07.log_marginal_is": ["minivi.vi.log_marginal_is", "minivi.vi.importance.log_marginal_is",
                           "minivi.vi.log_mean_exp", "minivi.vi.estimators.log_mean_exp",
                           "minivi.vi.iwae_bound", "minivi.vi.iwae.iwae_bound"],
    "07.free_energy_ppca": ["minivi.vi.free_energy", "minivi.vi.free_energy.free_energy", "minivi.vi.kl_term",
                            "minivi.vi.free_energy.kl_term", "minivi.distributions.kl_divergence",
                            "minivi.distributions.kl.kl_divergence"],
    "07.mc_kl": ["minivi.vi.kl_term", "minivi.vi.free_energy.kl_term", "minivi.vi.free_energy",
                 "minivi.vi.free_energy.free_energy", "minivi.vi.log_density", "minivi.vi._util.log_density"],
    "07.e_step": ["minivi.vi.variational_em", "minivi.vi.em.variational_em", "minivi.vi.free_energy",
                  "minivi.vi.free_energy.free_energy"],
}

# ----------------------------------------------------------------------------------------------
# Independent references: dense Gaussians


def _ppca(r: np.random.Generator, d: int, k: int, sigma2: float, n: int):
    W, mu = r.standard_normal((d, k)), r.standard_normal(d)
    Y = r.standard_normal((n, k)) @ W.T + mu + np.sqrt(sigma2) * r.standard_normal((n, d))
    return Y, W, mu, float(sigma2)


def _log_marginal(Y, W, mu, sigma2):
    C = W @ W.T + sigma2 * np.eye(len(W))
    return np.atleast_1d(scipy.stats.multivariate_normal(mu, C).logpdf(Y))


def _posterior(Y, W, mu, sigma2):
    """E[z | y] = W^T C^-1 (y - mu) per row, Cov = I - W^T C^-1 W, from the joint Gaussian of (z, y)."""
    B = np.linalg.solve(W @ W.T + sigma2 * np.eye(len(W)), W).T
    return (Y - mu) @ B.T, np.eye(W.shape[1]) - B @ W


def _kl_gauss(m0, S0, m1, S1):
    """KL[N(m0, S0) || N(m1, S1)] = ½[tr(S1⁻¹S0) + (m1-m0)ᵀS1⁻¹(m1-m0) - k + log|S1| - log|S0|]."""
    k = len(m0)
    iS1 = np.linalg.inv(S1)
    dm = m1 - m0
    return 0.5 * (np.trace(iS1 @ S0) + dm @ iS1 @ dm - k + np.linalg.slogdet(S1)[1] - np.linalg.slogdet(S0)[1])


def _free_energy_ref(Y, W, mu, sigma2, m, s):
    """log p(y) - KL[q || p(z|y)]: the free energy through the identity, never through its own formula."""
    pm, pc = _posterior(Y, W, mu, sigma2)
    gaps = np.array([_kl_gauss(m[i], np.diag(s[i] ** 2), pm[i], pc) for i in range(len(Y))])
    return _log_marginal(Y, W, mu, sigma2) - gaps


# ----------------------------------------------------------------------------------------------
# 07.log_marginal_is


@register(
    "07.log_marginal_is",
    points=2,
    hint=("log w_k = log p(y|z_k) + log p(z_k) - log q(z_k); the estimate is log of the MEAN of the w_k over the K draws.",
          "exp(log w) over- or underflows for real data (log w of ±1000): take out the largest log w before "
          "exponentiating, log Σ exp(a_k) = a* + log Σ exp(a_k - a*).",
          "Work along axis 0 (the K draws) separately for each datapoint; return shape (n,), and subtract log K."),
)
def _check_log_marginal_is(log_marginal_is, hidden: bool = False):
    r = rng(7101 if hidden else 701)
    name, args = "log_marginal_is", ("log_lik", "log_prior", "log_q")
    what = "log_marginal_is(log_lik, log_prior, log_q)"
    cases = [(200, 4, 6, 2), (1, 3, 5, 1), (50, 1, 8, 3)] if not hidden else [(120, 3, 7, 3), (1, 2, 4, 2), (33, 5, 6, 1)]
    for K, n, d, k in cases:
        # With the exact posterior as proposal every weight equals p(y): the estimate is exact for any K.
        Y, W, mu, sigma2 = _ppca(r, d, k, 0.5, n)
        pm, pc = _posterior(Y, W, mu, sigma2)
        Z = pm + r.standard_normal((K, n, k)) @ np.linalg.cholesky(pc).T
        noise = scipy.stats.multivariate_normal(np.zeros(d), sigma2 * np.eye(d))
        ll = np.stack([np.atleast_1d(noise.logpdf(Z[j] @ W.T + mu - Y)) for j in range(K)]).reshape(K, n)
        lp = scipy.stats.norm.logpdf(Z).sum(-1)
        lq = np.stack([np.atleast_1d(scipy.stats.multivariate_normal(pm[i], pc).logpdf(Z[:, i])) for i in range(n)],
                      1).reshape(K, n)
        context = f"for K={K} draws from the exact posterior of {n} PPCA datapoints (every weight is p(y))"
        got = as_array(call(log_marginal_is, ll, lp, lq, name=name, arg_names=args), what)
        assert_shape(got, (n,), what, f"{context}: one estimate per datapoint")
        expected = _log_marginal(Y, W, mu, sigma2)
        if K > 1 and np.allclose(got, expected + np.log(K), rtol=1e-9, atol=1e-8):
            raise CheckFailed(f"{what} {context}: you return log Σ w_k; the estimate of p(y) is the mean, (1/K) Σ w_k")
        assert_close(got, expected, what, context, rtol=1e-9, atol=1e-8)
    # Unequal weights, and sizes where exp(log w) is not a float64 number.
    for K, n, offset in ([(10, 3, 0.0), (500, 2, -2000.0), (64, 4, 1500.0)] if not hidden
                         else [(7, 2, 0.0), (300, 3, -3000.0), (40, 2, 2500.0)]):
        ll, lp, lq = offset + 3 * r.standard_normal((K, n)), r.standard_normal((K, n)), r.standard_normal((K, n))
        context = f"for K={K}, n={n} with log weights near {offset:g}"
        got = as_array(call(log_marginal_is, ll, lp, lq, name=name, arg_names=args), what)
        assert_shape(got, (n,), what, context)
        expected = logsumexp(ll + lp - lq, axis=0) - np.log(K)
        if offset and not np.all(np.isfinite(got)):
            raise CheckFailed(f"{what} {context}: got {got}; exp(log w) overflows or underflows there. "
                              "Subtract the largest log weight before exponentiating")
        if np.allclose(got, expected + np.log(K), rtol=1e-9, atol=1e-8):
            raise CheckFailed(f"{what} {context}: you return log Σ w_k; the estimate of p(y) is the mean, (1/K) Σ w_k")
        assert_close(got, expected, what, context, rtol=1e-9, atol=1e-8)


# ----------------------------------------------------------------------------------------------
# 07.free_energy_ppca


@register(
    "07.free_energy_ppca",
    points=3,
    hint=("F = E_q[log p(y|z)] - KL[q(z) || N(0, I)], both in closed form for a Gaussian q = N(m, diag(s²)).",
          "E_q||y - W z - mu||² = ||y - W m - mu||² + Σ_j s_j² ||W[:, j]||²: the spread of q costs reconstruction too.",
          "KL[N(m, s²) || N(0, 1)] per coordinate is ½(s² + m² - 1) - log s; the Gaussian log-likelihood has "
          "-(d/2) log(2π σ²). Return one value per row of Y."),
)
def _check_free_energy_ppca(free_energy_ppca, hidden: bool = False):
    r = rng(7102 if hidden else 702)
    name, args = "free_energy_ppca", ("Y", "W", "mu", "sigma2", "m", "s")
    what = "free_energy_ppca(Y, W, mu, sigma2, m, s)"
    cases = [(4, 6, 2, 0.5), (1, 5, 3, 2.0), (6, 10, 1, 0.1)] if not hidden else [(3, 7, 2, 0.3), (2, 4, 3, 1.5), (5, 9, 2, 0.05)]
    for n, d, k, sigma2 in cases:
        Y, W, mu, sigma2 = _ppca(r, d, k, sigma2, n)
        m, s = r.standard_normal((n, k)), np.exp(0.5 * r.standard_normal((n, k)))
        context = f"for Y of shape {Y.shape}, W of shape {W.shape}, sigma2={sigma2}"
        got = as_array(call(free_energy_ppca, Y, W, mu, sigma2, m, s, name=name, arg_names=args), what)
        assert_shape(got, (n,), what, f"{context}: one free energy per datapoint")
        expected = _free_energy_ref(Y, W, mu, sigma2, m, s)
        if (got > _log_marginal(Y, W, mu, sigma2) + 1e-8).any():
            raise CheckFailed(f"{what} {context} exceeds log p(y) for some datapoint: F is a lower bound. "
                              "Check the signs of the KL and of the spread term of the reconstruction")
        no_spread = expected - (-0.5 * (s**2 * (W**2).sum(0)).sum(1) / sigma2)
        if np.allclose(got, no_spread, rtol=1e-8, atol=1e-8):
            raise CheckFailed(f"{what} {context} leaves out how q's spread s affects the reconstruction: "
                              "E_q||y - Wz - mu||² has a term from the variance of z, not only the mean")
        assert_close(got, expected, what, f"{context} (checked by log p(y) = F + KL[q || p(z|y)])", rtol=1e-9, atol=1e-8)
    # With orthogonal columns the posterior factorises: the mean-field q can equal it, and F = log p(y) exactly.
    d, k, n = (8, 3, 4) if not hidden else (6, 2, 3)
    Q, _ = np.linalg.qr(r.standard_normal((d, k)))
    W = Q * np.array([3.0, 1.5, 0.7][:k])
    mu, sigma2 = r.standard_normal(d), 0.4
    Y = r.standard_normal((n, k)) @ W.T + mu + np.sqrt(sigma2) * r.standard_normal((n, d))
    pm, pc = _posterior(Y, W, mu, sigma2)
    got = as_array(call(free_energy_ppca, Y, W, mu, sigma2, pm, np.sqrt(np.tile(np.diag(pc), (n, 1))),
                        name=name, arg_names=args), what)
    assert_close(got, _log_marginal(Y, W, mu, sigma2), what,
                 "with q the exact (here factorised) posterior, where F must equal log p(y)", rtol=1e-9, atol=1e-8)


# ----------------------------------------------------------------------------------------------
# 07.mc_kl


@register(
    "07.mc_kl",
    points=2,
    hint=("KL[q || p] = E_q[log q(z) - log p(z)]: draw z from q, average the difference of log-densities.",
          "Reparameterise: z = m + s * eps with the given eps, so the estimate is a deterministic function of eps.",
          "Sum over the latent dimensions (last axis), average over the draws (axis 0): shape (n,)."),
)
def _check_mc_kl(mc_kl, hidden: bool = False):
    r = rng(7103 if hidden else 703)
    name, args = "mc_kl", ("m", "s", "eps")
    what = "mc_kl(m, s, eps)"
    for S, n, k in ([(5, 3, 2), (1, 1, 4), (20, 2, 1)] if not hidden else [(4, 2, 3), (1, 3, 1), (11, 1, 2)]):
        m, s, eps = r.standard_normal((n, k)), np.exp(0.5 * r.standard_normal((n, k))), r.standard_normal((S, n, k))
        z = m + s * eps
        expected = (scipy.stats.norm(m, s).logpdf(z) - scipy.stats.norm(0, 1).logpdf(z)).sum(-1).mean(0)
        context = f"for S={S} draws, m and s of shape {(n, k)}"
        got = as_array(call(mc_kl, m, s, eps, name=name, arg_names=args), what)
        assert_shape(got, (n,), what, f"{context}: one estimate per datapoint")
        assert_close(got, expected, what, f"{context} (z = m + s * eps)", rtol=1e-9, atol=1e-10)
        zero = as_array(call(mc_kl, np.zeros((n, k)), np.ones((n, k)), eps, name=name, arg_names=args), what)
        assert_close(zero, np.zeros(n), what, f"{context} with q equal to the prior N(0, I), where every draw gives 0",
                     atol=1e-12)
    # Unbiased: many draws approach the closed form.
    S, n, k = (20000, 3, 2) if not hidden else (20000, 2, 3)
    m, s = r.standard_normal((n, k)), np.exp(0.5 * r.standard_normal((n, k)))
    eps = r.standard_normal((S, n, k))
    exact = (0.5 * (s**2 + m**2 - 1) - np.log(s)).sum(-1)
    terms = (scipy.stats.norm(m, s).logpdf(m + s * eps) - scipy.stats.norm(0, 1).logpdf(m + s * eps)).sum(-1)
    got = as_array(call(mc_kl, m, s, eps, name=name, arg_names=args), what)
    se = terms.std(0) / np.sqrt(S)
    if not np.all(np.abs(got - exact) < 5 * se):
        raise CheckFailed(f"{what} with {S} draws is {got}, but the exact KL is {exact} (Monte Carlo s.e. {se}): "
                          "the estimate should be unbiased")


# ----------------------------------------------------------------------------------------------
# 07.e_step


def _F_single(y, W, mu, sigma2, m, log_s):
    """F for one datapoint and q = N(m, diag(exp(2 log_s))), through log p(y) - KL[q || p(z|y)]."""
    return float(_free_energy_ref(y[None], W, mu, sigma2, m[None], np.exp(log_s)[None])[0])


@register(
    "07.e_step",
    points=3,
    hint=("One gradient-ascent step on F(y, q) for this datapoint: m ← m + lr ∂F/∂m, log s ← log s + lr ∂F/∂log s.",
          "∂F/∂m = Wᵀ(y - W m - mu)/σ² - m (reconstruction pulls towards the data, the KL towards 0).",
          "With s = exp(log s): ∂F/∂log s_j = 1 - s_j² (1 + ||W[:, j]||²/σ²). Return (m_new, log_s_new)."),
)
def _check_e_step(e_step, hidden: bool = False):
    r = rng(7104 if hidden else 704)
    name, args = "e_step", ("y", "W", "mu", "sigma2", "m", "log_s", "lr")
    what = "e_step(y, W, mu, sigma2, m, log_s, lr)"
    for d, k, sigma2, lr in ([(6, 2, 0.5, 0.1), (4, 3, 2.0, 0.01), (10, 1, 0.3, 0.05)] if not hidden
                             else [(5, 3, 0.7, 0.05), (8, 2, 1.5, 0.02), (3, 1, 0.2, 0.1)]):
        Y, W, mu, sigma2 = _ppca(r, d, k, sigma2, 1)
        y, m, log_s = Y[0], r.standard_normal(k), 0.3 * r.standard_normal(k)
        context = f"for d={d}, k={k}, sigma2={sigma2}, lr={lr}"
        out = call(e_step, y, W, mu, sigma2, m, log_s, lr, name=name, arg_names=args)
        m_new, ls_new = (as_array(a, w) for a, w in zip(unpack(out, ("m_new", "log_s_new"), what), ("m_new", "log_s_new")))
        gm = numerical_grad(lambda v: _F_single(y, W, mu, sigma2, v, log_s), m)
        gs = numerical_grad(lambda v: _F_single(y, W, mu, sigma2, m, v), log_s)
        assert_close(m_new, m + lr * gm, "m_new", f"{context} (one step of gradient ascent on F)", rtol=1e-6, atol=1e-7)
        assert_close(ls_new, log_s + lr * gs, "log_s_new", f"{context} (one step of gradient ascent on F)",
                     rtol=1e-6, atol=1e-7)
    # Repeated E-steps reach the mean-field optimum: the posterior mean, and 1/s_j² = (posterior precision)_jj.
    d, k, sigma2 = (7, 3, 0.5) if not hidden else (6, 2, 0.8)
    Y, W, mu, sigma2 = _ppca(r, d, k, sigma2, 1)
    precision = np.eye(k) + W.T @ W / sigma2
    lr = 0.5 / np.linalg.eigvalsh(precision).max()
    m, log_s = np.zeros(k), np.zeros(k)
    for _ in range(3000):
        m, log_s = (as_array(a, w) for a, w in zip(unpack(call(e_step, Y[0], W, mu, sigma2, m, log_s, lr, name=name,
                                                               arg_names=args), ("m_new", "log_s_new"), what),
                                                  ("m_new", "log_s_new")))
    pm, _ = _posterior(Y, W, mu, sigma2)
    context = f"after 3000 of your E-steps (lr={lr:.3g}) for d={d}, k={k}"
    assert_close(m, pm[0], "m", f"{context}: q's mean should reach the posterior mean", rtol=1e-5, atol=1e-6)
    assert_close(np.exp(-2 * log_s), np.diag(precision), "1/s²",
                 f"{context}: mean-field VI matches the diagonal of the posterior precision", rtol=1e-5, atol=1e-6)
