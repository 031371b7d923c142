"""Public checks for chapter 09 (deep latent Gaussian models).

Every check uses a *linear-Gaussian* DLGM, y = W z + b + σ ε with z ~ N(0, I), whose log-likelihood is
PPCA's closed form log N(y; b, W Wᵀ + σ² I) and whose posterior is Gaussian. Against that:

* 09.free_energy: with the exact posterior as q, F(y, q) averages to log p(y); its Monte Carlo part is
  compared with the closed form E_q[log N(y; W z + b, σ² I)] and its KL with the Gaussian formula.
* 09.is_log_likelihood: with the exact posterior as proposal every weight equals p(y), so the estimate is
  exact for any K; with another proposal it is compared with the same estimate written here in NumPy,
  and checked to stay finite where the weights underflow.
* 09.impute_step: the chain's observed entries stay put, and its deterministic version (ε = 0) converges
  to PPCA's conditional mean E[y_m | y_o] (the Gaussian conditioning of the joint, computed here).

4 + 3 + 3 = 10 points.
"""
from __future__ import annotations

import numpy as np

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng

#: minivi functions that compute the graded quantities: the grader makes them raise while grading.
FORBIDDEN = {
    "09.free_energy": ["minivi.vi.free_energy", "minivi.vi.kl_term", "minivi.distributions.kl_divergence",
                       "minivi.models.dlgm.DLGM.elbo"],
    "09.is_log_likelihood": ["minivi.vi.log_marginal_is", "minivi.vi.log_mean_exp", "minivi.vi.iwae_bound",
                             "minivi.models.dlgm.DLGM.log_likelihood", "minivi.models.dlgm.DLGM.iwae"],
    "09.impute_step": ["minivi.models.dlgm.markov_impute", "minivi.models.dlgm.impute.markov_impute",
                       "minivi.models.dlgm.DLGM.impute"],
}

LOG_2PI = np.log(2 * np.pi)


# ----------------------------------------------------------------------------------------------
# The linear-Gaussian DLGM and its exact answers (dense d x d Gaussians, independent of the exercises)


def _model(r: np.random.Generator, d: int, k: int, sigma2: float, orthogonal: bool = False):
    W = r.standard_normal((d, k))
    if orthogonal:                                  # orthogonal columns: a diagonal posterior covariance
        W = np.linalg.qr(W)[0] * np.linspace(2.0, 0.7, k)
    return W, r.standard_normal(d), float(sigma2)


def _log_lik_fn(Y, W, b, sigma2):
    """log p(y_n | z) = log N(y_n; W z + b, σ² I) summed over d, for z of shape (S, n, k): (S, n)."""
    def log_lik(z):
        z = np.asarray(z, dtype=np.float64)
        R = Y - (z @ W.T + b)
        return -0.5 * (R * R).sum(-1) / sigma2 - 0.5 * Y.shape[1] * (LOG_2PI + np.log(sigma2))
    return log_lik


def _exact_log_marginal(Y, W, b, sigma2):
    C = W @ W.T + sigma2 * np.eye(len(W))
    L = np.linalg.cholesky(C)
    A = np.linalg.solve(L, (Y - b).T)
    return -0.5 * (len(W) * LOG_2PI + 2 * np.log(np.diag(L)).sum() + (A * A).sum(0))


def _exact_posterior(Y, W, b, sigma2):
    """Mean (n, k) and covariance (k, k) of p(z | y) from the joint Gaussian of (z, y)."""
    C = W @ W.T + sigma2 * np.eye(len(W))
    B = np.linalg.solve(C, W).T                    # Wᵀ C⁻¹
    return (Y - b) @ B.T, np.eye(W.shape[1]) - B @ W


def _sample(r, n, W, b, sigma2):
    return r.standard_normal((n, W.shape[1])) @ W.T + b + np.sqrt(sigma2) * r.standard_normal((n, len(W)))


# ----------------------------------------------------------------------------------------------
# 09.free_energy


@register(
    "09.free_energy",
    points=4,
    hint=("F(y, q) = E_q[log p(y | z)] − KL[q(z) ‖ N(0, I)]: a Monte Carlo average over the S draws, minus a "
          "KL in closed form.",
          "Reparameterise: z = mu + exp(log_sigma) * eps with eps of shape (S, n, k) (broadcasting does the "
          "rest); average log_lik(z), shape (S, n), over the sample axis 0.",
          "For q = N(mu, diag(sigma²)) and p = N(0, I): KL = Σ_j [−log sigma_j + (sigma_j² + mu_j²)/2 − 1/2], summed "
          "over the latent axis only: one number per data point, shape (n,)."),
)
def _check_free_energy(free_energy, hidden: bool = False):
    r = rng(909 if hidden else 901)
    name, args = "free_energy", ("log_lik", "mu", "log_sigma", "eps")
    cases = [(6, 8, 3, 0.4), (1, 5, 2, 1.5), (4, 12, 1, 0.1)] if not hidden else \
        [(5, 9, 4, 0.3), (2, 6, 1, 2.0), (7, 20, 5, 0.05)]
    for n, d, k, sigma2 in cases:
        W, b, sigma2 = _model(r, d, k, sigma2, orthogonal=True)
        Y = _sample(r, n, W, b, sigma2)
        log_lik = _log_lik_fn(Y, W, b, sigma2)
        mean, cov = _exact_posterior(Y, W, b, sigma2)
        context = f"for n={n} data points, k={k} latent dimensions"

        # 1. the KL alone: a log-likelihood of zero leaves F = −KL[q ‖ N(0, I)]
        mu, log_sigma = r.standard_normal((n, k)), 0.5 * r.standard_normal((n, k))
        eps = r.standard_normal((3, n, k))
        got = as_array(call(free_energy, lambda z: np.zeros(np.shape(z)[:-1]), mu, log_sigma, eps, name=name,
                            arg_names=args), "free_energy(...)")
        s2 = np.exp(2 * log_sigma)
        kl = (-log_sigma + 0.5 * (s2 + mu * mu) - 0.5).sum(-1)
        assert_shape(got, (n,), "free_energy(log_lik, mu, log_sigma, eps)", f"{context}: one value per data point")
        if np.allclose(got, -kl.sum(), rtol=1e-8) and n > 1:
            raise CheckFailed(f"free_energy {context} with log_lik = 0 returns the KL summed over the batch for every "
                              "data point: sum over the latent axis (-1) only")
        assert_close(got, -kl, "free_energy(log_lik = 0, mu, log_sigma, eps), i.e. −KL[q ‖ N(0, I)]", context,
                     rtol=1e-8, atol=1e-10)

        # 2. the Monte Carlo part: many draws approach the closed form E_q[log p(y | z)] − KL
        sd = np.sqrt(np.diag(cov))
        eps = r.standard_normal((4000, n, k))
        got = as_array(call(free_energy, log_lik, mean, np.log(sd) * np.ones((n, 1)), eps, name=name,
                            arg_names=args), "free_energy(...)")
        R = Y - (mean @ W.T + b)
        expected_ll = (-0.5 * ((R * R).sum(-1) + (W * W * sd * sd).sum()) / sigma2
                       - 0.5 * d * (LOG_2PI + np.log(sigma2)))
        kl = (-np.log(sd) + 0.5 * (sd * sd + mean * mean) - 0.5).sum(-1)
        exact = _exact_log_marginal(Y, W, b, sigma2)
        # with q the exact posterior F = log p(y), up to the Monte Carlo error of 4000 draws
        np.testing.assert_allclose(expected_ll - kl, exact, rtol=1e-9, atol=1e-7)   # the check's own algebra
        draws = log_lik(mean + sd * eps)                                   # (4000, n), for the MC error
        tol = 5 * draws.std(0) / np.sqrt(len(eps)) + 1e-6
        if got.shape != (n,) or np.any(np.abs(got - exact) > tol):
            i = int(np.argmax(np.abs(got - exact)))
            raise CheckFailed(
                f"free_energy {context}, with q the exact posterior of a linear-Gaussian model (so F = log p(y)) "
                f"and 4000 draws: for data point {i} expected about {exact[i]:.4f}, got {got[i]:.4f}. Use "
                "z = mu + exp(log_sigma) * eps and average log_lik(z) over the draws (axis 0)")

        # 3. the same draws give the same answer: the reparameterisation uses eps as given
        eps = r.standard_normal((2, n, k))
        mu, log_sigma = mean + 0.3, np.log(sd) - 0.2
        got = as_array(call(free_energy, log_lik, mu, log_sigma, eps, name=name, arg_names=args), "free_energy(...)")
        z = mu + np.exp(log_sigma) * eps
        s2 = np.exp(2 * log_sigma)
        expected = log_lik(z).mean(0) - (-log_sigma + 0.5 * (s2 + mu * mu) - 0.5).sum(-1)
        assert_close(got, expected, "free_energy(log_lik, mu, log_sigma, eps)",
                     f"{context} with 2 given draws eps (z = mu + sigma * eps)", rtol=1e-8, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 09.is_log_likelihood


@register(
    "09.is_log_likelihood",
    points=3,
    hint=("log p(y) ≈ log (1/K) Σ_k w_k with w_k = p(y | z_k) p(z_k) / q(z_k): work with log w_k throughout.",
          "log w = log_lik(z) + log N(z; 0, I) − log N(z; mu, sigma²), each log-density summed over the latent "
          "axis; z = mu + sigma * eps.",
          "Never exponentiate log w directly (it is about −700 for a digit): subtract the maximum over the K draws "
          "first, m + log mean exp(log w − m)."),
)
def _check_is_log_likelihood(is_log_likelihood, hidden: bool = False):
    r = rng(929 if hidden else 921)
    name, args = "is_log_likelihood", ("log_lik", "mu", "log_sigma", "eps")
    cases = [(5, 7, 2, 0.3, 3), (2, 10, 3, 1.0, 1), (3, 4, 1, 0.2, 50)] if not hidden else \
        [(4, 9, 3, 0.5, 2), (6, 5, 2, 0.1, 7), (1, 15, 4, 2.0, 20)]
    for n, d, k, sigma2, K in cases:
        context = f"for n={n}, k={k}, K={K} draws"
        # 1. the exact posterior as proposal (diagonal, so W gets orthogonal columns)
        W, b, sigma2 = _model(r, d, k, sigma2, orthogonal=True)
        Y = _sample(r, n, W, b, sigma2)
        log_lik = _log_lik_fn(Y, W, b, sigma2)
        exact = _exact_log_marginal(Y, W, b, sigma2)
        mean, cov = _exact_posterior(Y, W, b, sigma2)
        log_sd = 0.5 * np.log(np.diag(cov)) * np.ones((n, 1))
        eps = r.standard_normal((K, n, k))
        got = as_array(call(is_log_likelihood, log_lik, mean, log_sd, eps, name=name, arg_names=args),
                       "is_log_likelihood(...)")
        assert_shape(got, (n,), "is_log_likelihood(log_lik, mu, log_sigma, eps)", f"{context}: one value per data point")
        assert_close(got, exact, "is_log_likelihood(...) with the exact posterior as proposal (every weight is "
                     "p(y), so the estimate is exact for any K)", context, rtol=1e-8, atol=1e-7)

        # 2. another proposal: the same estimate, written here
        mu, log_sigma = mean + 0.4 * r.standard_normal((n, k)), log_sd + 0.3
        got = as_array(call(is_log_likelihood, log_lik, mu, log_sigma, eps, name=name, arg_names=args),
                       "is_log_likelihood(...)")
        z = mu + np.exp(log_sigma) * eps
        log_w = (log_lik(z) - 0.5 * (z * z).sum(-1)
                 + 0.5 * (eps * eps).sum(-1) + log_sigma.sum(-1))
        m = log_w.max(0)
        expected = m + np.log(np.exp(log_w - m).mean(0))
        assert_close(got, expected, "is_log_likelihood(...)", f"{context} with a proposal that is not the posterior",
                     rtol=1e-8, atol=1e-8)

    # 3. digit-sized log-weights (about −3000): exp underflows to 0, the estimate must stay finite
    n, d, k, K = 2, 600, 3, 10 if not hidden else 25
    W, b, sigma2 = _model(r, d, k, 0.01)
    Y = _sample(r, n, W, b, sigma2) + 0.8 * r.standard_normal((n, d))      # data the model explains badly
    log_lik = _log_lik_fn(Y, W, b, sigma2)
    mu, log_sigma, eps = np.zeros((n, k)), np.zeros((n, k)), r.standard_normal((K, n, k))
    with np.errstate(all="ignore"):
        got = as_array(call(is_log_likelihood, log_lik, mu, log_sigma, eps, name=name, arg_names=args),
                       "is_log_likelihood(...)")
    z = mu + eps
    log_w = log_lik(z)                                  # prior = proposal: the weights are the likelihoods
    m = log_w.max(0)
    expected = m + np.log(np.exp(log_w - m).mean(0))
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"is_log_likelihood gives {got} for log-weights around {log_w.mean():.0f}: exp(log w) "
                          "underflows to 0. Subtract the largest log-weight before exponentiating")
    assert_close(got, expected, "is_log_likelihood(...)", f"for d={d}, where the log-weights are about "
                 f"{log_w.mean():.0f}", rtol=1e-8, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# 09.impute_step


def _linear_encoder_decoder(W, b, sigma2):
    """The exact posterior as 'encoder' (mean and log-sd) and the mean of p(y | z) as 'decoder'."""
    M = W.T @ W + sigma2 * np.eye(W.shape[1])
    A = np.linalg.solve(M, W.T).T                  # (d, k): rows y ↦ (y − b) W M⁻¹
    log_sd = 0.5 * np.log(sigma2 * np.diag(np.linalg.inv(M)))

    def encode(Y):
        Y = np.asarray(Y, dtype=np.float64)
        return (Y - b) @ A, np.broadcast_to(log_sd, (len(Y), W.shape[1])).copy()

    def decode(z):
        return np.asarray(z, dtype=np.float64) @ W.T + b

    return encode, decode


@register(
    "09.impute_step",
    points=3,
    hint=("One step of the chain: encode the current y, draw z from q(z | y), decode, and keep the observed "
          "entries clamped.",
          "mu, log_sigma = encode(y); z = mu + exp(log_sigma) * eps; then np.where(observed, y, decode(z)).",
          "Return a new array (do not write into y): the observed entries must come back bit-for-bit."),
)
def _check_impute_step(impute_step, hidden: bool = False):
    r = rng(949 if hidden else 941)
    name, args = "impute_step", ("y", "observed", "encode", "decode", "eps")
    cases = [(4, 8, 2, 0.2, 3), (3, 12, 3, 0.5, 7), (1, 6, 1, 0.1, 2)] if not hidden else \
        [(5, 10, 2, 0.3, 4), (2, 10, 3, 0.3, 4), (3, 16, 4, 1.0, 9)]
    for n, d, k, sigma2, n_missing in cases:
        W, b, sigma2 = _model(r, d, k, sigma2)
        encode, decode = _linear_encoder_decoder(W, b, sigma2)
        Y = _sample(r, n, W, b, sigma2)
        observed = np.ones((n, d), dtype=bool)
        observed[:, r.choice(d, n_missing, replace=False)] = False
        context = f"for n={n}, d={d}, k={k}, {n_missing} missing entries per row"

        # 1. one step with given noise: observed entries kept, missing ones decode(mu + sigma eps)
        start = np.where(observed, Y, 0.5)
        eps = r.standard_normal((n, k))
        got = as_array(call(impute_step, start, observed, encode, decode, eps, name=name, arg_names=args),
                       "impute_step(...)")
        assert_shape(got, (n, d), "impute_step(y, observed, encode, decode, eps)", context)
        if not np.array_equal(got[observed], Y[observed]):
            raise CheckFailed(f"impute_step {context} changed observed entries: they must be returned unchanged "
                              "(clamped), only the missing ones are replaced")
        mu, log_sd = encode(start)
        expected = np.where(observed, start, decode(mu + np.exp(log_sd) * eps))
        assert_close(got, expected, "impute_step(...)", f"{context}: the missing entries should be decode(z) "
                     "with z = mu + exp(log_sigma) * eps", rtol=1e-9, atol=1e-10)

        # 2. exact case: with eps = 0 the chain's fixed point is PPCA's conditional mean E[y_m | y_o]
        state = start.copy()
        zero = np.zeros((n, k))
        for _ in range(400):
            state = as_array(call(impute_step, state, observed, encode, decode, zero, name=name, arg_names=args),
                             "impute_step(...)")
        C = W @ W.T + sigma2 * np.eye(d)
        exact = Y.copy()
        for i in range(n):
            o, m = observed[i], ~observed[i]
            exact[i, m] = b[m] + (Y[i, o] - b[o]) @ np.linalg.solve(C[np.ix_(o, o)], C[np.ix_(o, m)])
        assert_close(state, exact, "400 steps of impute_step with eps = 0",
                     f"{context}: the deterministic chain should converge to the conditional mean E[y_m | y_o] of the "
                     "linear-Gaussian model", rtol=1e-5, atol=1e-6)
