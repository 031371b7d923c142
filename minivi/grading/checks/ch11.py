"""Public checks for chapter 11 (Bayesian neural networks). 8 points in all.

Each check runs the learner's own NumPy function on seeded float64 inputs and compares it with answers found
by another route: the closed-form expected log-likelihood of a linear-Gaussian model and the exact Bayesian
linear regression posterior (the mean-field optimum maximises the learner's free energy), the leapfrog map of
a quadratic energy written as a matrix, energy conservation of order ε², and, for MC dropout, the exact
moments of a small network found by enumerating every dropout mask. ``hidden=True`` (the grader's run) uses
other seeds, shapes and edge cases than the public run.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: minivi functions that compute what an exercise asks for; the grader makes them raise while grading.
FORBIDDEN = {
    "11.bbb_free_energy": ["minivi.models.bnn.free_energy", "minivi.models.bnn.bayes_by_backprop.free_energy",
                           "minivi.models.bnn.GaussianPrior.kl", "minivi.models.bnn.priors.GaussianPrior.kl",
                           "minivi.models.bnn.BayesLinear.kl", "minivi.models.bnn.bayes_by_backprop.BayesLinear.kl"],
    "11.leapfrog_step": ["minivi.models.bnn.leapfrog", "minivi.models.bnn.hamiltonian.leapfrog",
                         "minivi.models.bnn.hmc_step", "minivi.models.bnn.hamiltonian.hmc_step",
                         "minivi.models.bnn.hmc", "minivi.models.bnn.hamiltonian.hmc"],
    "11.mc_dropout": ["minivi.models.bnn.mc_dropout_predict", "minivi.models.bnn.mc_dropout.mc_dropout_predict"],
}


def _softplus(x):
    return np.logaddexp(0.0, x)


# ----------------------------------------------------------------------------------------------
# 11.bbb_free_energy


def _blr(r: np.random.Generator, n: int, d: int, noise: float):
    X = r.standard_normal((n, d))
    if d > 1:
        X[:, 1] = 0.7 * X[:, 0] + 0.7 * X[:, 1]                    # correlated weights in the posterior
    return X, X @ r.standard_normal(d) + noise * r.standard_normal(n)


def _free_energy_reference(X, y, mu, rho, eps, noise, prior):
    """(1/S) Σ_s Σ_n log N(y_n; x_n·w_s, noise²) − Σ_i KL[N(mu_i, σ_i²) ‖ N(0, prior²)], w_s = mu + σ ε_s."""
    sigma = _softplus(rho)
    W = mu + sigma * eps                                            # (S, d)
    resid = y[None, :] - W @ X.T                                    # (S, n)
    loglik = np.sum(-0.5 * (resid / noise) ** 2 - math.log(noise) - 0.5 * math.log(2 * math.pi), axis=1).mean()
    kl = np.sum(np.log(prior) - np.log(sigma) + (sigma**2 + mu**2) / (2 * prior**2) - 0.5)
    return loglik - kl


def _bbb(fn, X, y, mu, rho, eps, noise, prior, context):
    out = call(fn, X, y, mu, rho, eps, noise, prior, name="bbb_free_energy",
               arg_names=("X", "y", "mu", "rho", "eps", "noise_std", "prior_std"))
    if hasattr(out, "numpy") and callable(out.numpy):              # a minivi Tensor is fine too
        out = out.numpy()
    got = as_array(out, "bbb_free_energy(X, y, mu, rho, eps, noise_std, prior_std)")
    if got.size != 1:
        raise CheckFailed(f"bbb_free_energy(...) should return one number (the free energy of the whole data set, "
                          f"averaged over the S weight samples), got shape {got.shape} {context}")
    return float(got.reshape(()))


@register(
    "11.bbb_free_energy",
    points=3,
    hint=("F = E_q[log p(y | X, w)] − KL[q(w) ‖ p(w)]: the first term averaged over the S sampled weight vectors "
          "(rows of w = mu + sigma * eps), summed over the n data points; the second in closed form, summed over "
          "the d weights.",
          "sigma = softplus(rho) = log(1 + exp(rho)); compute it stably (np.logaddexp(0, rho), or log1p) so that "
          "rho = -40 gives sigma ≈ 4e-18, not 0. Each log N(y; m, s²) keeps its −log s − ½ log 2π.",
          "KL[N(μ, σ²) ‖ N(0, s²)] = log(s/σ) + (σ² + μ²)/(2 s²) − ½ per weight."),
)
def _check_bbb_free_energy(bbb_free_energy, hidden: bool = False):
    r = rng(1111 if not hidden else 91111)
    cases = ([(20, 3, 5, 0.5, 1.0), (7, 1, 1, 0.2, 2.0), (30, 4, 3, 1.3, 0.5)] if not hidden
             else [(15, 2, 4, 0.8, 1.5), (1, 3, 2, 0.3, 1.0), (40, 5, 7, 0.6, 0.3)])
    for n, d, S, noise, prior in cases:
        X, y = _blr(r, n, d, noise)
        mu, rho, eps = r.standard_normal(d), r.standard_normal(d) - 1.0, r.standard_normal((S, d))
        context = f"for X of shape {X.shape}, eps of shape {eps.shape}, noise_std={noise}, prior_std={prior}"
        got = _bbb(bbb_free_energy, X, y, mu, rho, eps, noise, prior, context)
        expected = _free_energy_reference(X, y, mu, rho, eps, noise, prior)
        if not np.isclose(got, expected, rtol=1e-7, atol=1e-8):
            sigma = _softplus(rho)
            kl = np.sum(np.log(prior) - np.log(sigma) + (sigma**2 + mu**2) / (2 * prior**2) - 0.5)
            if np.isclose(got, expected + 2 * kl, rtol=1e-7, atol=1e-8):
                raise CheckFailed(f"bbb_free_energy {context} adds the KL term: the free energy subtracts "
                                  "KL[q ‖ p] from the expected log-likelihood")
            if np.isclose(got, expected + kl, rtol=1e-7, atol=1e-8):
                raise CheckFailed(f"bbb_free_energy {context} leaves out the KL term")
            if S > 1 and np.isclose(got, expected + (S - 1) * (expected + kl), rtol=1e-7, atol=1e-8):
                raise CheckFailed(f"bbb_free_energy {context} sums the log-likelihood over the S samples: average it")
            raise CheckFailed(f"bbb_free_energy(...) is wrong {context}: expected {expected:.8g}, got {got:.8g}")

    # stability: a tiny posterior std (rho = -40) must not give log(0)
    X, y = _blr(r, 6, 2, 0.5)
    mu, rho, eps = r.standard_normal(2), np.array([-40.0, 0.3]) if not hidden else np.array([0.1, -35.0]), \
        r.standard_normal((3, 2))
    context = f"for rho = {rho.tolist()} (softplus(rho) is tiny but positive)"
    got = _bbb(bbb_free_energy, X, y, mu, rho, eps, 0.5, 1.0, context)
    expected = _free_energy_reference(X, y, mu, rho, eps, 0.5, 1.0)
    if not math.isfinite(got):
        raise CheckFailed(f"bbb_free_energy gives {got} {context}: compute softplus as np.logaddexp(0, rho) "
                          "(or log1p(exp(rho))) so that sigma never rounds to 0")
    if not np.isclose(got, expected, rtol=1e-6):
        raise CheckFailed(f"bbb_free_energy(...) is wrong {context}: expected {expected:.8g}, got {got:.8g}")

    # the exact Bayesian linear regression posterior: averaged over many eps, F is largest at the mean-field
    # optimum (mu = posterior mean, sigma² = 1 / diag of the posterior precision) and equals the closed form there
    n, d, noise, prior = (25, 3, 0.5, 1.0) if not hidden else (18, 2, 0.7, 2.0)
    X, y = _blr(r, n, d, noise)
    precision = X.T @ X / noise**2 + np.eye(d) / prior**2
    m = np.linalg.solve(precision, X.T @ y) / noise**2
    v = 1.0 / np.diag(precision)
    rho_opt = np.log(np.expm1(np.sqrt(v)))
    eps = r.standard_normal((4000, d))
    eps = eps - eps.mean(0)
    eps = eps @ np.linalg.inv(np.linalg.cholesky(eps.T @ eps / len(eps))).T   # whitened: mean 0, covariance I exactly,
    # so for this linear-Gaussian model the sample average over eps equals the expectation over q
    at_opt = _bbb(bbb_free_energy, X, y, m, rho_opt, eps, noise, prior, "at the mean-field optimum")
    closed = (np.sum(-0.5 * ((y - X @ m) ** 2 + (X**2) @ v) / noise**2) - n * (math.log(noise) + 0.5 * math.log(2 * math.pi))
              - np.sum(np.log(prior / np.sqrt(v)) + (v + m**2) / (2 * prior**2) - 0.5))
    if not np.isclose(at_opt, closed, rtol=1e-6, atol=1e-6):
        raise CheckFailed(f"averaged over 4000 whitened draws of eps, bbb_free_energy at the mean-field optimum of "
                          f"a Bayesian linear regression should be {closed:.8g} (its closed form), got {at_opt:.8g}")
    for i in range(d):
        for step in (0.3, -0.3):
            mu2, rho2 = m.copy(), rho_opt.copy()
            mu2[i] += step * math.sqrt(v[i])
            rho2[(i + 1) % d] += step
            moved = _bbb(bbb_free_energy, X, y, mu2, rho2, eps, noise, prior, "near the mean-field optimum")
            if moved > at_opt:
                raise CheckFailed("bbb_free_energy is larger away from the mean-field optimum of a Bayesian linear "
                                  f"regression (moving mu[{i}] and rho[{(i + 1) % d}] raised it from {at_opt:.6g} to "
                                  f"{moved:.6g}): the optimum must maximise the free energy")


# ----------------------------------------------------------------------------------------------
# 11.leapfrog_step


def _quadratic(r: np.random.Generator, d: int):
    A = r.standard_normal((d, d))
    P = A @ A.T / d + 0.5 * np.eye(d)
    m = r.standard_normal(d)
    return (lambda th: -0.5 * (th - m) @ P @ (th - m)), (lambda th: -P @ (th - m)), P, m


def _leapfrog_matrix(P, eps, L):
    """The leapfrog map of U = ½ zᵀPz as a 2d x 2d matrix acting on (z, p) (z = θ − m): a product of shears."""
    d = len(P)
    I, O = np.eye(d), np.zeros((d, d))
    kick = np.block([[I, O], [-0.5 * eps * P, I]])                 # p ← p − (ε/2) P z
    drift = np.block([[I, eps * I], [O, I]])                       # z ← z + ε p
    return np.linalg.matrix_power(kick @ drift @ kick, L)


def _call_leapfrog(fn, theta, p, log_prob, grad, eps, L, context):
    out = call(fn, theta, p, log_prob, grad, eps, L, name="leapfrog_step",
               arg_names=("theta", "p", "log_prob", "grad_log_prob", "step_size", "n_steps"))
    th, pp, a = unpack(out, ("theta_new", "p_new", "accept_prob"), "leapfrog_step(...)")
    th = as_array(th, "theta_new")
    pp = as_array(pp, "p_new")
    a = as_array(a, "accept_prob")
    assert_shape(th, theta.shape, "theta_new", context)
    assert_shape(pp, p.shape, "p_new", context)
    if a.size != 1:
        raise CheckFailed(f"accept_prob should be one number, got shape {a.shape} {context}")
    return th, pp, float(a.reshape(()))


@register(
    "11.leapfrog_step",
    points=3,
    hint=("Half a step in p with the gradient of log π, then L times: a full step in θ with p, and a step in p "
          "(a full one, except the last, which is a half step). Then compare energies H = −log π(θ) + ½ p·p.",
          "accept_prob = min(1, exp(H(start) − H(end))): a proposal that lowers the energy is always accepted. "
          "Avoid overflow: take the exponential only of a non-positive number.",
          "Use the gradient of log π (not of U = −log π): p ← p + (ε/2) ∇log π(θ)."),
)
def _check_leapfrog_step(leapfrog_step, hidden: bool = False):
    r = rng(1112 if not hidden else 91112)
    cases = [(2, 0.1, 1), (3, 0.05, 10), (1, 0.3, 4)] if not hidden else [(4, 0.07, 6), (2, 0.2, 1), (5, 0.02, 25)]
    for d, eps, L in cases:
        log_prob, grad, P, m = _quadratic(r, d)
        theta, p = m + r.standard_normal(d), r.standard_normal(d)
        context = f"for a {d}-dimensional Gaussian target, step_size={eps}, n_steps={L}"
        th, pp, a = _call_leapfrog(leapfrog_step, theta, p, log_prob, grad, eps, L, context)
        z = _leapfrog_matrix(P, eps, L) @ np.concatenate([theta - m, p])
        assert_close(th, z[:d] + m, "theta_new", context, rtol=1e-8, atol=1e-10)
        assert_close(pp, z[d:], "p_new", context, rtol=1e-8, atol=1e-10)
        dH = (-log_prob(th) + 0.5 * pp @ pp) - (-log_prob(theta) + 0.5 * p @ p)
        assert_close(a, min(1.0, math.exp(-dH)), "accept_prob", context + f" (the energy changed by {dH:+.3g})",
                     rtol=1e-8, atol=1e-12)

    # a non-Gaussian target (log π = −Σ θ⁴/4 − Σ θ²/2): reversibility and an O(ε²) energy error
    log_prob = lambda th: float(-np.sum(th**4) / 4 - np.sum(th**2) / 2)  # noqa: E731
    grad = lambda th: -th**3 - th  # noqa: E731
    theta, p = r.standard_normal(3), r.standard_normal(3)
    th, pp, _ = _call_leapfrog(leapfrog_step, theta, p, log_prob, grad, 0.1, 8, "for a quartic target")
    back, pb, _ = _call_leapfrog(leapfrog_step, th, -pp, log_prob, grad, 0.1, 8, "for a quartic target")
    if not (np.allclose(back, theta, atol=1e-9) and np.allclose(-pb, p, atol=1e-9)):
        raise CheckFailed("leapfrog_step is not reversible on a quartic target: flipping the momentum at the end and "
                          "integrating again should return to the start (θ and −p), but theta came back as "
                          f"{np.round(back, 6).tolist()} instead of {np.round(theta, 6).tolist()}")
    h0 = -log_prob(theta) + 0.5 * p @ p
    T = 1.0 if not hidden else 0.6
    errors = []
    for eps in (0.04, 0.02, 0.01):
        th, pp, a = _call_leapfrog(leapfrog_step, theta, p, log_prob, grad, eps, int(round(T / eps)),
                                   f"for a quartic target, step_size={eps}")
        errors.append(abs(-log_prob(th) + 0.5 * pp @ pp - h0))
    ratios = [errors[0] / max(errors[1], 1e-300), errors[1] / max(errors[2], 1e-300)]
    if not all(2.5 < q < 6.0 for q in ratios):
        raise CheckFailed(f"the energy error of leapfrog_step over a fixed time T = {T} should shrink about 4-fold "
                          f"each time the step size halves (order ε²); from ε = 0.04 to 0.02 to 0.01 it went "
                          f"{errors[0]:.3g}, {errors[1]:.3g}, {errors[2]:.3g}")


# ----------------------------------------------------------------------------------------------
# 11.mc_dropout


def _exact_dropout_moments(W1, b1, W2, b2, x, p):
    """E and Var of the output over every binary mask of the hidden units (inverted dropout), by enumeration."""
    H = W1.shape[1]
    h = np.maximum(x @ W1 + b1, 0.0)                               # (n, H)
    mean = np.zeros((len(x), W2.shape[1]))
    second = np.zeros_like(mean)
    for mask in itertools.product((0.0, 1.0), repeat=H):
        mask = np.array(mask)
        prob = np.prod(np.where(mask == 1, 1 - p, p))
        out = (h * mask / (1 - p)) @ W2 + b2
        mean += prob * out
        second += prob * out**2
    return mean, np.maximum(second - mean**2, 0.0)


@register(
    "11.mc_dropout",
    points=2,
    hint=("Run the network n_samples times with a fresh dropout mask on the hidden units each time (keep a unit "
          "with probability 1 − p and scale it by 1/(1 − p)), and return the mean and the variance of the outputs "
          "over the passes, elementwise: shapes (n, outputs).",
          "Draw the masks from the rng you are given (rng.random(shape) >= p), one mask per pass and per example."),
)
def _check_mc_dropout(mc_dropout, hidden: bool = False):
    r = rng(1113 if not hidden else 91113)
    cases = [(3, 2, 4, 2, 0.5), (5, 3, 6, 1, 0.2)] if not hidden else [(2, 4, 5, 3, 0.3), (4, 1, 3, 2, 0.6)]
    S = 20000
    for n, d, H, k, p in cases:
        W1, b1 = r.standard_normal((d, H)), r.standard_normal(H)
        W2, b2 = r.standard_normal((H, k)), r.standard_normal(k)
        x = r.standard_normal((n, d))
        context = f"for x of shape {x.shape}, {H} hidden units, p={p}, n_samples={S}"
        out = call(mc_dropout, x, W1, b1, W2, b2, p, S, rng(7 + n), name="mc_dropout",
                   arg_names=("x", "W1", "b1", "W2", "b2", "p", "n_samples", "rng"))
        mean, var = unpack(out, ("mean", "var"), "mc_dropout(...)")
        mean, var = as_array(mean, "mean"), as_array(var, "var")
        assert_shape(mean, (n, k), "mean", context)
        assert_shape(var, (n, k), "var", context)
        exact_mean, exact_var = _exact_dropout_moments(W1, b1, W2, b2, x, p)
        if np.allclose(var, 0.0):
            raise CheckFailed(f"the variance is 0 {context}: every pass used the same mask (or none); draw a fresh "
                              "mask for each pass")
        se = np.sqrt(exact_var / S) + 1e-9 * (1 + np.abs(exact_mean))
        z = np.abs(mean - exact_mean) / se
        if z.max() > 5:
            i = np.unravel_index(np.argmax(z), z.shape)
            no_scale = _exact_dropout_moments(W1, b1, W2 * (1 - p), b2, x, p)[0]
            if np.allclose(mean, no_scale, atol=6 * se.max()):
                raise CheckFailed(f"the mean {context} is what dropout without the 1/(1 − p) rescaling gives: "
                                  "scale the kept units up")
            raise CheckFailed(f"the mean is wrong {context}: at index {tuple(int(j) for j in i)} expected "
                              f"{exact_mean[i]:.5g} ± {se[i]:.2g} (Monte Carlo error), got {mean[i]:.5g}")
        rel = np.abs(var - exact_var) / np.maximum(exact_var, 1e-9)
        if rel.max() > 0.08:
            i = np.unravel_index(np.argmax(rel), rel.shape)
            raise CheckFailed(f"the variance is wrong {context}: at index {tuple(int(j) for j in i)} expected "
                              f"{exact_var[i]:.5g} (exact, over every mask), got {var[i]:.5g}")
    # p = 0: dropout off, every pass is the same network
    n, d, H, k = 2, 3, 3, 2
    W1, b1, W2, b2 = r.standard_normal((d, H)), r.standard_normal(H), r.standard_normal((H, k)), r.standard_normal(k)
    x = r.standard_normal((n, d))
    mean, var = unpack(call(mc_dropout, x, W1, b1, W2, b2, 0.0, 5, rng(3), name="mc_dropout"), ("mean", "var"),
                       "mc_dropout(...)")
    assert_close(mean, np.maximum(x @ W1 + b1, 0) @ W2 + b2, "mean", "for p=0 (no dropout)", rtol=1e-9)
    assert_close(var, np.zeros((n, k)), "var", "for p=0 (no dropout)", atol=1e-12)
