"""Public checks for chapter 10 (semi-supervised deep generative models, Kingma et al. 2014's M2).

* 10.labelled_bound: −L(x, y) = E_q(z|x,y)[log p(x | y, z)] + log p(y) − KL[q(z|x,y) ‖ N(0, I)] with a
  uniform p(y). Checked on a linear-Gaussian decoder, p(x | y, z) = N(x; W z + b_y, σ² I), whose expectation
  under a Gaussian q has a closed form (written here), and on the given draws exactly.
* 10.unlabelled_bound: −U(x) = Σ_y q(y | x)(−L(x, y)) + H[q(y | x)], y enumerated. Checked against brute force
  over a table of −L values, including logits of ±800 (where exp overflows) and classes of probability ~0.
* 10.classification_loss: α · mean_n[−log q(y_n | x_n)], stable for logits of any size.

3 + 4 + 3 = 10 points.
"""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng

#: minivi functions that compute the graded quantities: the grader makes them raise while grading.
FORBIDDEN = {
    "10.labelled_bound": ["minivi.models.ssvae.M2.labelled_bound", "minivi.vi.free_energy", "minivi.vi.kl_term",
                          "minivi.distributions.kl_divergence"],
    "10.unlabelled_bound": ["minivi.models.ssvae.M2.unlabelled_bound", "minivi.models.ssvae.M2.loss"],
    "10.classification_loss": ["minivi.models.ssvae.M2.classification_loss", "minivi.models.ssvae.M2.loss"],
}

LOG_2PI = np.log(2 * np.pi)


# ----------------------------------------------------------------------------------------------
# 10.labelled_bound


@register(
    "10.labelled_bound",
    points=3,
    hint=("Chapter 09's free energy for the pair (x, y): a Monte Carlo term in z, a KL in closed form, and the "
          "label's prior log p(y) = −log K.",
          "z = mu + exp(log_sigma) * eps, shape (S, n, k); average log_px(z) (shape (S, n)) over axis 0.",
          "KL[N(mu, sigma²) ‖ N(0, I)] = Σ_j [−log sigma_j + (sigma_j² + mu_j²)/2 − 1/2] over the latent axis only; "
          "subtract it and log K."),
)
def _check_labelled_bound(labelled_bound, hidden: bool = False):
    r = rng(1009 if hidden else 1001)
    name, args = "labelled_bound", ("log_px", "mu", "log_sigma", "eps", "n_classes")
    cases = [(4, 6, 2, 10, 0.5), (1, 3, 1, 2, 1.0), (5, 8, 3, 3, 0.2)] if not hidden else \
        [(3, 7, 3, 4, 0.3), (6, 5, 2, 10, 2.0), (2, 9, 1, 5, 0.1)]
    for n, d, k, K, sigma2 in cases:
        context = f"for n={n} labelled digits, k={k} latent dimensions, K={K} classes"
        W, b_y = r.standard_normal((d, k)), r.standard_normal((n, d))     # b_y: the offset of each digit's label
        X = b_y + r.standard_normal((n, k)) @ W.T + np.sqrt(sigma2) * r.standard_normal((n, d))

        def log_px(z):
            z = np.asarray(z, dtype=np.float64)
            R = X - (z @ W.T + b_y)
            return -0.5 * (R * R).sum(-1) / sigma2 - 0.5 * d * (LOG_2PI + np.log(sigma2))

        # 1. the given draws: the Monte Carlo average exactly
        mu, log_sigma = r.standard_normal((n, k)), 0.4 * r.standard_normal((n, k))
        eps = r.standard_normal((3, n, k))
        got = as_array(call(labelled_bound, log_px, mu, log_sigma, eps, K, name=name, arg_names=args),
                       "labelled_bound(...)")
        assert_shape(got, (n,), "labelled_bound(log_px, mu, log_sigma, eps, n_classes)", f"{context}: one value per digit")
        s2 = np.exp(2 * log_sigma)
        kl = (-log_sigma + 0.5 * (s2 + mu * mu) - 0.5).sum(-1)
        expected = log_px(mu + np.exp(log_sigma) * eps).mean(0) - np.log(K) - kl
        if np.allclose(got, expected + np.log(K), rtol=1e-8, atol=1e-9):
            raise CheckFailed(f"labelled_bound {context} leaves out log p(y) = −log K (the uniform prior on the label)")
        assert_close(got, expected, "labelled_bound(log_px, mu, log_sigma, eps, n_classes)",
                     f"{context} with 3 given draws eps (z = mu + exp(log_sigma) * eps)", rtol=1e-8, atol=1e-9)

        # 2. many draws: the closed form E_q[log N(x; W z + b_y, σ² I)] − log K − KL
        eps = r.standard_normal((4000, n, k))
        got = as_array(call(labelled_bound, log_px, mu, log_sigma, eps, K, name=name, arg_names=args),
                       "labelled_bound(...)")
        R = X - (mu @ W.T + b_y)
        exact_rec = -0.5 * ((R * R).sum(-1) + (s2 @ (W * W).T).sum(-1)) / sigma2 - 0.5 * d * (LOG_2PI + np.log(sigma2))
        exact = exact_rec - np.log(K) - kl
        draws = log_px(mu + np.exp(log_sigma) * eps)
        tol = 5 * draws.std(0) / np.sqrt(len(eps)) + 1e-8
        if got.shape != (n,) or np.any(np.abs(got - exact) > tol):
            i = int(np.argmax(np.abs(got - exact)))
            raise CheckFailed(f"labelled_bound {context} with 4000 draws: for digit {i} expected about {exact[i]:.4f} "
                              f"(the closed form of this linear-Gaussian decoder), got {got[i]:.4f}")


# ----------------------------------------------------------------------------------------------
# 10.unlabelled_bound


def _table_fn(T: np.ndarray, calls: list):
    """−L(x_n, y) = T[n, y] as the learner's neg_L(y): y an int array of shape (n,)."""
    n, K = T.shape

    def neg_L(y):
        y = np.asarray(y)
        if y.shape != (n,) or y.dtype.kind not in "iu":
            raise CheckFailed(f"neg_L(y) takes one integer label per digit, an int array of shape ({n},) (e.g. "
                              f"np.full({n}, c) for class c); you passed {y.dtype} of shape {y.shape}")
        if y.min() < 0 or y.max() >= K:
            raise CheckFailed(f"neg_L(y) got labels outside 0..{K - 1}")
        calls.append(y.copy())
        return T[np.arange(n), y].copy()

    return neg_L


@register(
    "10.unlabelled_bound",
    points=4,
    hint=("y is a latent variable for an unlabelled digit: take the expectation of −L(x, y) under q(y | x) "
          "exactly, by visiting every class, and add the entropy of q(y | x).",
          "log q = logits − logsumexp(logits) along the class axis (subtract the row maximum before exp); "
          "q = exp(log q); call neg_L(np.full(n, c)) for each class c.",
          "−U = Σ_c q[:, c] · negL_c + H with H = −Σ_c q[:, c] log q[:, c]; with log q computed stably, a class of "
          "probability 0 contributes 0 · (a finite number) = 0."),
)
def _check_unlabelled_bound(unlabelled_bound, hidden: bool = False):
    r = rng(1029 if hidden else 1021)
    name, args = "unlabelled_bound", ("logits", "neg_L")
    cases = [(5, 3, 1.0), (1, 10, 3.0), (4, 2, 800.0), (3, 4, 0.0)] if not hidden else \
        [(6, 4, 2.0), (2, 10, 0.5), (3, 3, 900.0), (5, 2, 0.0)]
    for n, K, spread in cases:
        logits = spread * r.standard_normal((n, K)) + 5.0 * r.standard_normal((n, 1))   # row offsets too
        T = -100.0 - 20.0 * r.random((n, K))                      # −L(x, y): a digit-sized bound per class
        calls: list = []
        context = f"for n={n} digits, K={K} classes, logits of spread {spread:g}"
        with np.errstate(all="ignore"):
            got = as_array(call(unlabelled_bound, logits, _table_fn(T, calls), name=name, arg_names=args),
                           "unlabelled_bound(...)")
        assert_shape(got, (n,), "unlabelled_bound(logits, neg_L)", f"{context}: one value per digit")
        log_q = logits - logsumexp(logits, axis=1)[:, None]
        q = np.exp(log_q)
        entropy = -(q * log_q).sum(1)
        expected = (q * T).sum(1) + entropy
        seen = {int(c) for y in calls for c in np.unique(y)}
        if len(seen) < K and K > 1 and not np.allclose(got, expected, rtol=1e-9, atol=1e-7):
            raise CheckFailed(f"unlabelled_bound {context} evaluated neg_L only for the classes {sorted(seen)}: "
                              f"enumerate all {K} (the bound sums over every y)")
        if not np.all(np.isfinite(got)):
            raise CheckFailed(f"unlabelled_bound {context} returns {got}: not finite. exp(logits) overflows for "
                              "large logits and 0 · log 0 gives nan; compute log q with the log-sum-exp trick")
        if np.allclose(got, expected - entropy, rtol=1e-9, atol=1e-7) and np.any(entropy > 1e-6):
            raise CheckFailed(f"unlabelled_bound {context} leaves out the entropy H[q(y | x)] of the label's posterior")
        assert_close(got, expected, "unlabelled_bound(logits, neg_L)", context, rtol=1e-9, atol=1e-7)


# ----------------------------------------------------------------------------------------------
# 10.classification_loss


@register(
    "10.classification_loss",
    points=3,
    hint=("The labelled digits also train q(y | x) directly, as a classifier: α times the average cross-entropy.",
          "−log q(y | x) = logsumexp(logits) − logits[y], per row; pick each row's true class with "
          "logits[np.arange(n), y].",
          "Average over the n digits (not a sum), multiply by alpha; subtract the row maximum before exp."),
)
def _check_classification_loss(classification_loss, hidden: bool = False):
    r = rng(1049 if hidden else 1041)
    name, args = "classification_loss", ("logits", "y", "alpha")
    cases = [(6, 10, 1.0, 0.1), (1, 3, 2.0, 7.0), (5, 4, 1000.0, 1.0)] if not hidden else \
        [(7, 5, 1.5, 3.0), (2, 2, 0.3, 80.0), (4, 10, 1500.0, 0.5)]
    for n, K, spread, alpha in cases:
        logits = spread * r.standard_normal((n, K))
        y = r.integers(0, K, n)
        context = f"for n={n} digits, K={K} classes, logits of spread {spread:g}, alpha={alpha:g}"
        with np.errstate(all="ignore"):
            got = as_array(call(classification_loss, logits, y, alpha, name=name, arg_names=args),
                           "classification_loss(...)")
        got = got.reshape(()) if got.size == 1 else got
        ce = logsumexp(logits, axis=1) - logits[np.arange(n), y]
        expected = np.asarray(alpha * ce.mean())
        if got.shape != ():
            raise CheckFailed(f"classification_loss {context} should return one number (the weighted mean), "
                              f"got an array of shape {got.shape}")
        if not np.isfinite(got):
            raise CheckFailed(f"classification_loss {context} is {float(got)}: use the log-sum-exp trick")
        if n > 1 and np.isclose(float(got), alpha * ce.sum(), rtol=1e-9):
            raise CheckFailed(f"classification_loss {context} sums over the digits: average them")
        assert_close(got, expected, "classification_loss(logits, y, alpha)", context, rtol=1e-9, atol=1e-9)
