"""Chapter 04's checks: right answers (written several ways) pass, typical mistakes fail with a useful message."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

import minivi as mv
from minivi.distributions import Normal
from minivi.grading import registry

# ----------------------------------------------------------------------------------------------
# Right answers, in more than one style


def _prior_by_hand(w, sigma):
    return -0.5 * (w * w).sum() / sigma**2 - 0.5 * w.size * math.log(2 * math.pi * sigma**2)


def _prior_by_distribution(w, sigma):
    return Normal(0.0, sigma).log_prob(w).sum()


def _dropout_uniform(x, p, rng, training=True):
    if not 0 <= p < 1:
        raise ValueError("p must lie in [0, 1)")
    if not training:
        return x
    return x * (rng.random(x.shape) >= p) / (1 - p)


def _dropout_binomial(x, p, rng, training=True):
    if not 0 <= p < 1:
        raise ValueError("p must lie in [0, 1)")
    return x * rng.binomial(1, 1 - p, size=x.shape) / (1 - p) if training else x


def _density(log_p_theta, phi):
    return log_p_theta(special.expit(phi)) + special.log_expit(phi) + special.log_expit(-phi)


def _bootstrap_integers(fit_fn, X, y, n_boot, rng):
    n = len(y)
    return np.stack([np.asarray(fit_fn(X[i], y[i])) for i in (rng.integers(0, n, n) for _ in range(n_boot))])


def _bootstrap_choice(fit_fn, X, y, n_boot, rng):
    rows = []
    for _ in range(n_boot):
        idx = rng.choice(len(y), size=len(y), replace=True)
        rows.append(fit_fn(X[idx], y[idx]))
    return np.array(rows)


@pytest.mark.parametrize("name, fn", [
    ("04.l2_log_prior", _prior_by_hand), ("04.l2_log_prior", _prior_by_distribution),
    ("04.dropout", _dropout_uniform), ("04.dropout", _dropout_binomial),
    ("04.logit_density", _density),
    ("04.bootstrap", _bootstrap_integers), ("04.bootstrap", _bootstrap_choice),
])
def test_right_answers_pass(name, fn):
    result = registry.run_check(name, fn)
    assert result.status == "passed", result.message
    hidden = registry.run_check(name, fn, hidden=True)
    assert hidden.status == "passed", hidden.message


# ----------------------------------------------------------------------------------------------
# Wrong answers


def _dropout_variant(*, keep_below=False, scale=True, eval_scaled=False, global_rng=False, one_draw=False,
                     reseed=False, check_p=True):
    def dropout(x, p, rng, training=True):
        if check_p and not 0 <= p < 1:
            raise ValueError("p must lie in [0, 1)")
        if not training:
            return x * (1 - p) if eval_scaled else x
        source = np.random if global_rng else np.random.default_rng(0) if reseed else rng
        u = source.random() if one_draw else source.random(x.shape)
        keep = (u < p) if keep_below else (u >= p)
        return x * keep / (1 - p) if scale else x * keep
    return dropout


def _bootstrap_variant(*, replace=True, misaligned=False, global_rng=False, half=False, draw_once=False,
                       transpose=False):
    def bootstrap(fit_fn, X, y, n_boot, rng):
        n = len(y)
        size = n // 2 if half else n
        draw = (lambda: np.random.randint(0, n, size)) if global_rng else \
            (lambda: rng.integers(0, n, size)) if replace else (lambda: rng.permutation(n))
        fixed = draw()
        out = []
        for _ in range(n_boot):
            idx = fixed if draw_once else draw()
            idy = draw() if misaligned else idx
            out.append(fit_fn(X[idx], y[idy]))
        out = np.array(out)
        return out.T if transpose else out
    return bootstrap


WRONG = [
    # 04.l2_log_prior
    ("04.l2_log_prior", lambda w, s: -0.5 * (w * w).sum() / s**2, "normalising constant"),
    ("04.l2_log_prior", lambda w, s: -0.5 * (w * w).sum() / s**2 - 0.5 * math.log(2 * math.pi * s**2),
     "normalising constant"),
    ("04.l2_log_prior", lambda w, s: -0.5 * (w * w).sum() / s - 0.5 * w.size * math.log(2 * math.pi * s**2),
     "is wrong"),
    ("04.l2_log_prior", lambda w, s: float(-0.5 * np.sum(w.data**2) / s**2 - 0.5 * w.size * np.log(2 * np.pi * s**2)),
     "should return a minivi Tensor"),
    ("04.l2_log_prior", lambda w, s: mv.tensor(-0.5 * np.sum(w.data**2) / s**2 - 0.5 * w.size * np.log(2 * np.pi * s**2),
                                               dtype="float64"), "does not depend on w"),
    ("04.l2_log_prior", lambda w, s: -0.5 * w * w / s**2 - 0.5 * math.log(2 * math.pi * s**2), "should be one number"),
    # 04.dropout
    ("04.dropout", _dropout_variant(scale=False), "1/(1 - p)"),
    ("04.dropout", _dropout_variant(eval_scaled=True), "evaluation mode should return x unchanged"),
    ("04.dropout", _dropout_variant(keep_below=True), "nothing is dropped"),
    ("04.dropout", _dropout_variant(one_draw=True), "zeroed a fraction"),
    ("04.dropout", lambda x, p, rng, training=True: x * (rng.random(x.shape) >= p / 2) / (1 - p) if training else x,
     "zeroed a fraction"),
    ("04.dropout", _dropout_variant(global_rng=True), "same seed gave different masks"),
    ("04.dropout", _dropout_variant(reseed=True), "same rng object gave the same mask"),
    ("04.dropout", _dropout_variant(check_p=False), "should raise a ValueError"),
    # 04.logit_density
    ("04.logit_density", lambda lp, phi: lp(special.expit(phi)), "is wrong"),
    ("04.logit_density", lambda lp, phi: lp(special.expit(phi)) - special.log_expit(phi) - special.log_expit(-phi),
     "is wrong"),
    ("04.logit_density", lambda lp, phi: lp(special.expit(phi)) + np.log(special.expit(phi)) + np.log(1 - special.expit(phi)),
     "far tails"),
    # 04.bootstrap
    ("04.bootstrap", _bootstrap_variant(replace=False), "repeated a row"),
    ("04.bootstrap", _bootstrap_variant(misaligned=True), "do not belong to the rows of X"),
    ("04.bootstrap", _bootstrap_variant(global_rng=True), "same seed gave different results"),
    ("04.bootstrap", _bootstrap_variant(half=True), "as many rows as the data"),
    ("04.bootstrap", _bootstrap_variant(draw_once=True), "identical resamples"),
    ("04.bootstrap", _bootstrap_variant(transpose=True), "should have shape (25, 2)"),
]


@pytest.mark.parametrize("name, fn, fragment", WRONG, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(WRONG)])
def test_wrong_answers_fail_with_a_useful_message(name, fn, fragment):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = registry.run_check(name, fn)
    assert result.status == "failed", (result.status, result.message)
    assert fragment in result.message, result.message


def test_messages_name_expected_and_got():
    message = registry.run_check("04.l2_log_prior", lambda w, s: -0.5 * (w * w).sum() / s**2).message
    assert "expected" in message and "got" in message and "sigma=" in message


def test_points_total_11():
    checks = registry.checks_for_chapter("04")
    assert [c.name for c in checks] == ["04.l2_log_prior", "04.dropout", "04.logit_density", "04.bootstrap",
                                        "04.choose_lambda"]
    assert sum(c.points for c in checks) == 11
    assert all(c.hint for c in checks)


def choose_lambda(fit, loss, X, y, lambdas, rng, valid_fraction=0.2):
    n = len(X)
    perm = rng.permutation(n)
    n_valid = int(round(valid_fraction * n))
    valid, train = perm[:n_valid], perm[n_valid:]
    losses = [loss(fit(X[train], y[train], lam), X[valid], y[valid]) for lam in lambdas]
    return lambdas[int(np.argmin(losses))]


def _choose_on_training_rows(fit, loss, X, y, lambdas, rng, valid_fraction=0.2):
    return lambdas[int(np.argmin([loss(fit(X, y, lam), X, y) for lam in lambdas]))]


def _choose_last_rows(fit, loss, X, y, lambdas, rng, valid_fraction=0.2):
    k = int(round(valid_fraction * len(X)))
    return lambdas[int(np.argmin([loss(fit(X[k:], y[k:], lam), X[:k], y[:k]) for lam in lambdas]))]


def _choose_new_split_per_lambda(fit, loss, X, y, lambdas, rng, valid_fraction=0.2):
    out = []
    for lam in lambdas:
        perm = rng.permutation(len(X))
        k = int(round(valid_fraction * len(X)))
        out.append(loss(fit(X[perm[k:]], y[perm[k:]], lam), X[perm[:k]], y[perm[:k]]))
    return lambdas[int(np.argmin(out))]


def _choose_largest_loss(fit, loss, X, y, lambdas, rng, valid_fraction=0.2):
    perm = rng.permutation(len(X))
    k = int(round(valid_fraction * len(X)))
    return lambdas[int(np.argmax([loss(fit(X[perm[k:]], y[perm[k:]], lam), X[perm[:k]], y[perm[:k]])
                                  for lam in lambdas]))]


@pytest.mark.parametrize("hidden", [False, True])
def test_choose_lambda_right_answer(hidden):
    assert registry.run_check("04.choose_lambda", choose_lambda, hidden=hidden).passed


@pytest.mark.parametrize("fn, fragment", [
    (_choose_on_training_rows, "also fitted on"),
    (_choose_last_rows, "held out the same rows"),
    (_choose_new_split_per_lambda, "different training or validation rows"),
    (_choose_largest_loss, "so the answer is"),
])
def test_choose_lambda_wrong_answers(fn, fragment):
    result = registry.run_check("04.choose_lambda", fn)
    assert result.status == "failed" and fragment in result.message, result.message


def test_choose_lambda_on_ridge_regression_prefers_some_shrinkage():
    """The property the exercise is about, on data where it matters: 80 rows, 40 weights."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 40))
    y = X @ (0.3 * rng.standard_normal(40)) + rng.standard_normal(80)
    fit = lambda X_, y_, lam: np.linalg.solve(X_.T @ X_ + lam * np.eye(40), X_.T @ y_)  # noqa: E731
    mse = lambda w, X_, y_: float(np.mean((X_ @ w - y_) ** 2))  # noqa: E731
    assert choose_lambda(fit, mse, X, y, [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0], rng) >= 1.0
