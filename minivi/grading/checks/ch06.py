"""Public checks for chapter 06 (latent variable models).

Each check receives the learner's plain-NumPy function and compares it, on seeded float64
inputs, with answers computed here by a *different* route: SciPy's dense multivariate normal
for the log-likelihood, and conditioning of the joint Gaussian of (z, y) on the d x d
covariance C for the posterior, the missing entries and the E-step of factor analysis.
10 points in all.
"""

from __future__ import annotations

import numpy as np

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: The minivi code that computes what an exercise asks for; the grader makes it raise while that exercise is scored.
FORBIDDEN = {
    "06.ppca_loglik": ["minivi.models.lvm.ppca.PPCA.log_marginal",
                       "minivi.models.lvm.factor_analysis.FactorAnalysis.log_marginal"],
    "06.ppca_posterior_mean": ["minivi.models.lvm.ppca.PPCA.posterior"],
    "06.ppca_predict_missing": ["minivi.models.lvm.ppca.PPCA.conditional"],
    "06.fa_em_step": ["minivi.models.lvm.factor_analysis.FactorAnalysis.em_step",
                      "minivi.models.lvm.factor_analysis.FactorAnalysis.fit_em"],
    "06.choose_k": ["minivi.models.lvm.ppca.choose_k"],
}

# ----------------------------------------------------------------------------------------------
# Independent references: dense d x d Gaussians


def _ppca_params(r: np.random.Generator, d: int, k: int, sigma2: float):
    W = r.standard_normal((d, k))
    mu = r.standard_normal(d)
    return W, mu, float(sigma2)


def _sample(r: np.random.Generator, n: int, W: np.ndarray, mu: np.ndarray, noise_var) -> np.ndarray:
    """n draws of y = W z + mu + eps, eps ~ N(0, diag(noise_var)) (a scalar or one variance per entry)."""
    d, k = W.shape
    return r.standard_normal((n, k)) @ W.T + mu + np.sqrt(noise_var) * r.standard_normal((n, d))


def _scipy_logpdf(Y: np.ndarray, mu: np.ndarray, C: np.ndarray) -> np.ndarray:
    """log N(y_n; mu, C) per row, in NumPy from the Cholesky factor of C (stable at any d)."""
    L = np.linalg.cholesky(C)                     # log N(y; mu, C) = -½[d log 2π + log|C| + ‖L⁻¹(y - mu)‖²]
    R = np.linalg.solve(L, (np.atleast_2d(Y) - mu).T)
    d = C.shape[0]
    return -0.5 * (d * np.log(2 * np.pi) + 2 * np.sum(np.log(np.diag(L))) + np.sum(R * R, axis=0))


def _joint_posterior(Y, W, mu, C):
    """E[z | y] = W^T C^-1 (y - mu) per row and Cov[z | y] = I - W^T C^-1 W, from the joint of (z, y)."""
    B = np.linalg.solve(C, W).T                      # W^T C^-1  (k, d)
    return (Y - mu) @ B.T, np.eye(W.shape[1]) - B @ W


# ----------------------------------------------------------------------------------------------
# 06.ppca_loglik


@register(
    "06.ppca_loglik",
    points=3,
    hint=(
        "PPCA's marginal is y ~ N(mu, C) with C = W Wᵀ + sigma2 I; work in logs throughout.",
        "Never form det(C): in 784 dimensions it under- or overflows. Get log|C| from a factorisation "
        "(Cholesky: 2 sum(log diag L); or the determinant lemma with the k x k matrix M = W^T W + sigma2 I), and "
        "the quadratic form from a solve, not from inv(C). Return one value per row of Y: shape (n,).",
    ),
)
def _check_ppca_loglik(ppca_loglik, hidden=False):
    r = rng(601, hidden)
    name, args = "ppca_loglik", ("Y", "W", "mu", "sigma2")
    for n, d, k, sigma2 in [(7, 5, 2, 0.5), (4, 8, 1, 2.0), (1, 6, 3, 0.1), (10, 3, 2, 1.3)]:
        W, mu, sigma2 = _ppca_params(r, d, k, sigma2)
        Y = _sample(r, n, W, mu, sigma2)
        context = f"for Y of shape {Y.shape}, W of shape {W.shape}, sigma2={sigma2}"
        got = as_array(call(ppca_loglik, Y, W, mu, sigma2, name=name, arg_names=args), "ppca_loglik(Y, W, mu, sigma2)")
        if got.shape != (n,):
            raise CheckFailed(f"ppca_loglik(Y, W, mu, sigma2) has shape {got.shape} {context}; it should return "
                              f"one log-density per row of Y, shape ({n},) (not their sum)")
        expected = _scipy_logpdf(Y, mu, W @ W.T + sigma2 * np.eye(d))
        assert_close(got, expected, "ppca_loglik(Y, W, mu, sigma2)", context, rtol=1e-7, atol=1e-9)

    # Digit-sized cases where det(C) itself is not a float64 number: (1e-3)^500 underflows, 50^400 overflows.
    for n, d, k, sigma2, what in [(3, 500, 4, 1e-3, "underflows to 0.0"), (3, 400, 3, 50.0, "overflows to inf")]:
        W, mu, sigma2 = _ppca_params(r, d, k, sigma2)
        Y = _sample(r, n, W, mu, sigma2)
        C = W @ W.T + sigma2 * np.eye(d)
        context = f"for d={d}, k={k}, sigma2={sigma2}, where det(C) {what} in float64"
        got = as_array(call(ppca_loglik, Y, W, mu, sigma2, name=name, arg_names=args), "ppca_loglik(Y, W, mu, sigma2)")
        assert_shape(got, (n,), "ppca_loglik(Y, W, mu, sigma2)", context)
        if not np.all(np.isfinite(got)):
            raise CheckFailed(f"ppca_loglik(Y, W, mu, sigma2) {context}: your values are {got} (not finite numbers); "
                              f"log|C| = {np.linalg.slogdet(C)[1]:.1f} is fine, but det(C) is not representable: "
                              "compute the log-determinant without det(C)")
        assert_close(got, _scipy_logpdf(Y, mu, C), "ppca_loglik(Y, W, mu, sigma2)", context, rtol=1e-7, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# 06.ppca_posterior_mean


@register(
    "06.ppca_posterior_mean",
    points=2,
    hint=(
        'The posterior over z given y is Gaussian; its mean involves the k x k matrix M.',
        "E[z | y] = M^-1 W^T (y - mu) with the k x k matrix M = W^T W + sigma2 I (sigma2 belongs in M). Y holds "
        "one data point per row, so transpose the formula for row vectors, and prefer np.linalg.solve to inv. Shape (n, k).",
    ),
)
def _check_ppca_posterior_mean(ppca_posterior_mean, hidden=False):
    r = rng(602, hidden)
    name, args = "ppca_posterior_mean", ("Y", "W", "mu", "sigma2")
    for n, d, k, sigma2 in [(5, 6, 2, 0.5), (3, 10, 1, 2.0), (1, 4, 3, 0.2), (8, 50, 5, 1e-3), (6, 7, 3, 30.0)]:
        W, mu, sigma2 = _ppca_params(r, d, k, sigma2)
        Y = _sample(r, n, W, mu, sigma2)
        context = f"for Y of shape {Y.shape}, W of shape {W.shape}, sigma2={sigma2}"
        got = as_array(call(ppca_posterior_mean, Y, W, mu, sigma2, name=name, arg_names=args),
                       "ppca_posterior_mean(Y, W, mu, sigma2)")
        assert_shape(got, (n, k), "ppca_posterior_mean(Y, W, mu, sigma2)", context)
        C = W @ W.T + sigma2 * np.eye(d)
        expected, _ = _joint_posterior(Y, W, mu, C)
        if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            no_mu, _ = _joint_posterior(Y, W, np.zeros(d), C)
            if np.allclose(got, no_mu, rtol=1e-6, atol=1e-9):
                raise CheckFailed(f"ppca_posterior_mean {context} gives the posterior mean of y - 0, not of y - mu: "
                                  "centre the data on mu first")
        assert_close(got, expected, "ppca_posterior_mean(Y, W, mu, sigma2)", context, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 06.ppca_predict_missing


@register(
    "06.ppca_predict_missing",
    points=2,
    hint=(
        'Infer z from the observed entries only, then predict the missing ones from z.',
        "Use only the observed entries: the rows W_o of W and y_o - mu_o give E[z | y_o] through "
        "M_o = W_o^T W_o + sigma2 I; the missing entries are then W_m E[z | y_o] + mu_m. Copy Y and overwrite "
        "only the missing columns (Y[:, ~observed]); never read Y's missing entries (they may be NaN).",
    ),
)
def _check_ppca_predict_missing(ppca_predict_missing, hidden=False):
    r = rng(603, hidden)
    name, args = "ppca_predict_missing", ("Y", "W", "mu", "sigma2", "observed")
    for n, d, k, sigma2, n_missing in [(5, 6, 2, 0.3, 2), (4, 10, 3, 1.0, 5), (1, 5, 3, 0.1, 3), (6, 8, 1, 0.5, 1)]:
        W, mu, sigma2 = _ppca_params(r, d, k, sigma2)
        Y = _sample(r, n, W, mu, sigma2)
        observed = np.ones(d, dtype=bool)
        observed[r.choice(d, n_missing, replace=False)] = False
        o, m = observed, ~observed
        C = W @ W.T + sigma2 * np.eye(d)
        expected = Y.copy()                           # conditioning the joint N(mu, C) on y_o:
        expected[:, m] = mu[m] + (Y[:, o] - mu[o]) @ np.linalg.solve(C[np.ix_(o, o)], C[np.ix_(o, m)])
        Y_in = Y.copy()
        Y_in[:, m] = np.nan                           # the learner must not look at what is missing
        context = f"for d={d}, k={k}, sigma2={sigma2}, observed={observed.astype(int).tolist()}"
        got = as_array(call(ppca_predict_missing, Y_in, W, mu, sigma2, observed, name=name, arg_names=args),
                       "ppca_predict_missing(Y, W, mu, sigma2, observed)")
        assert_shape(got, (n, d), "ppca_predict_missing(Y, W, mu, sigma2, observed)",
                     f"{context}: return all of Y, with the missing entries filled in")
        if np.isnan(got[:, m]).any():
            raise CheckFailed(f"ppca_predict_missing {context}: your predictions of the missing entries contain NaN. "
                              "Here Y holds NaN at the missing entries: use only Y[:, observed]")
        assert_close(got[:, o], Y[:, o], "the observed entries of ppca_predict_missing(...)",
                     f"{context} (they should be returned unchanged)")
        assert_close(got[:, m], expected[:, m], "ppca_predict_missing(...) at the missing entries",
                     context, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 06.fa_em_step


def _fa_loglik(Y: np.ndarray, W: np.ndarray, psi: np.ndarray) -> float:
    """sum_n log N(y_n; mean(Y), W W^T + diag(psi)), by SciPy."""
    return float(_scipy_logpdf(Y, Y.mean(axis=0), W @ W.T + np.diag(psi)).sum())


def _fa_reference(Y: np.ndarray, W: np.ndarray, psi: np.ndarray, drop_cov: bool = False,
                  old_W_in_psi: bool = False):
    """EM for factor analysis from the joint Gaussian of (z, y): E-step moments, then the M-step."""
    n = len(Y)
    R = Y - Y.mean(axis=0)
    Ez, G = _joint_posterior(R, W, 0.0, W @ W.T + np.diag(psi))
    Ezz = (0.0 if drop_cov else n * G) + Ez.T @ Ez    # sum_n E[z_n z_n^T]
    RtEz = R.T @ Ez                                   # sum_n r_n E[z_n]^T
    W_new = np.linalg.solve(Ezz, RtEz.T).T
    W_psi = W if old_W_in_psi else W_new
    psi_new = (R * R).mean(axis=0) - np.sum(W_psi * RtEz, axis=1) / n
    return W_new, psi_new


@register(
    "06.fa_em_step",
    points=3,
    hint=(
        'E-step: posterior moments of z for each row; M-step: regress the data on them.',
        "Centre Y on its mean first. E-step with the current W and psi; in the M-step remember that "
        "E[z_n z_n^T] = G + E[z_n] E[z_n]^T (the posterior covariance G counts), and update psi with W_new, keeping "
        "only the diagonal (a vector of d variances).",
    ),
)
def _check_fa_em_step(fa_em_step, hidden=False):
    r = rng(604, hidden)
    name, args = "fa_em_step", ("Y", "W", "psi")
    for n, d, k in [(50, 6, 2), (30, 4, 1), (80, 10, 3)]:
        W_true, mu = r.standard_normal((d, k)), r.standard_normal(d)
        Y = _sample(r, n, W_true, mu, r.uniform(0.1, 1.0, d))
        W, psi = 0.5 * r.standard_normal((d, k)), r.uniform(0.5, 2.0, d)
        context = f"for Y of shape {Y.shape}, W of shape {W.shape}"
        out = call(fa_em_step, Y, W, psi, name=name, arg_names=args)
        W_new, psi_new = unpack(out, ("W_new", "psi_new"), "fa_em_step(Y, W, psi)")
        W_new, psi_new = as_array(W_new, "W_new"), as_array(psi_new, "psi_new")
        assert_shape(W_new, (d, k), "W_new", context)
        assert_shape(psi_new, (d,), "psi_new", f"{context} (psi holds the diagonal of Psi only)")
        W_ref, psi_ref = _fa_reference(Y, W, psi)
        if not np.allclose(W_new, W_ref, rtol=1e-6, atol=1e-9):
            if np.allclose(W_new, _fa_reference(Y, W, psi, drop_cov=True)[0], rtol=1e-6, atol=1e-9):
                raise CheckFailed(f"W_new is wrong {context}: it matches the update with E[z z^T] = E[z] E[z]^T, "
                                  "which leaves out the posterior covariance G")
            assert_close(W_new, W_ref, "W_new", context, rtol=1e-6, atol=1e-9)
        if not np.allclose(psi_new, psi_ref, rtol=1e-6, atol=1e-9):
            if np.allclose(psi_new, _fa_reference(Y, W, psi, old_W_in_psi=True)[1], rtol=1e-6, atol=1e-9):
                raise CheckFailed(f"psi_new is wrong {context}: it uses the old W; the M-step for psi uses W_new")
            assert_close(psi_new, psi_ref, "psi_new", context, rtol=1e-6, atol=1e-9)

    # EM never decreases the likelihood: 25 steps of your function from a poor starting point.
    d, k, n = 8, 2, 60
    W_true = r.standard_normal((d, k))
    Y = _sample(r, n, W_true, r.standard_normal(d), r.uniform(0.05, 0.5, d))
    W, psi = 0.1 * r.standard_normal((d, k)), np.ones(d)
    previous = _fa_loglik(Y, W, psi)
    for step in range(1, 26):
        W, psi = (as_array(a, what) for a, what in zip(
            unpack(call(fa_em_step, Y, W, psi, name=name, arg_names=args), ("W_new", "psi_new"),
                   "fa_em_step(Y, W, psi)"), ("W_new", "psi_new")))
        if not np.all(psi > 0):
            raise CheckFailed(f"after {step} EM steps on data of shape {Y.shape}, psi_new has a non-positive entry "
                              f"({psi.min():.3g}): noise variances must stay positive")
        current = _fa_loglik(Y, W, psi)
        if current < previous - 1e-9 * abs(previous):
            raise CheckFailed(f"EM step {step} on data of shape {Y.shape} decreased the log-likelihood from "
                              f"{previous:.8g} to {current:.8g}; an EM step never does")
        previous = current


# ----------------------------------------------------------------------------------------------
# 06.choose_k: the held-out likelihood chooses the number of latent dimensions


@register(
    "06.choose_k",
    points=2,
    hint=("The training likelihood always prefers more latent dimensions; held-out data does not.",
          "For each k: fit PPCA to Y_train (e.g. PPCA(d, k).fit_closed_form(Y_train)), score Y_valid with your "
          "ppca_loglik at the fitted W, mu, sigma2, and return the k with the highest mean."),
)
def _check_choose_k(choose_k, hidden=False):
    r = rng(605, hidden)
    cases = [(12, 3, 150), (8, 1, 100)] if not hidden else [(10, 2, 120), (14, 4, 200), (6, 5, 300)]
    for d, k_true, n in cases:
        W = r.standard_normal((d, k_true)) * 1.5
        mu = r.standard_normal(d)
        Y_train, Y_valid = _sample(r, n, W, mu, 0.2), _sample(r, n, W, mu, 0.2)
        ks = list(range(1, min(d, 7)))
        context = f"for data of dimension {d} from a PPCA with k = {k_true} ({n} training and {n} validation rows)"
        got = call(choose_k, Y_train, Y_valid, list(ks), name="choose_k", arg_names=("Y_train", "Y_valid", "ks"))
        try:
            got = int(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"choose_k should return one k from ks, got {type(got).__name__} {got!r}") from None
        if got not in ks:
            raise CheckFailed(f"choose_k returned {got}, which is not one of ks = {ks} {context}")
        if got != k_true:
            hint = " (the largest k: did you score the TRAINING data?)" if got == max(ks) else ""
            raise CheckFailed(f"choose_k returned k = {got} {context}; the held-out likelihood picks {k_true}{hint}")
