"""Chapter 06's checks, in process: correct implementations pass, typical wrong ones fail with a
message that says what was wrong (and never shows the reference code)."""

from __future__ import annotations

import numpy as np
import pytest

from minivi.grading import registry


# ----------------------------------------------------------------------------------------------
# Correct implementations (the solutions notebook has the same ones)


def ppca_loglik(Y, W, mu, sigma2):
    d, k = W.shape
    R = Y - mu
    L = np.linalg.cholesky(W.T @ W + sigma2 * np.eye(k))
    A = np.linalg.solve(L, W.T @ R.T)
    quad = (np.sum(R**2, axis=1) - np.sum(A**2, axis=0)) / sigma2
    logdet = (d - k) * np.log(sigma2) + 2 * np.sum(np.log(np.diag(L)))
    return -0.5 * (d * np.log(2 * np.pi) + logdet + quad)


def ppca_loglik_dense(Y, W, mu, sigma2):
    """Also correct: the Cholesky factor of the d x d covariance."""
    L = np.linalg.cholesky(W @ W.T + sigma2 * np.eye(len(W)))
    A = np.linalg.solve(L, (Y - mu).T)
    return -0.5 * (len(W) * np.log(2 * np.pi) + 2 * np.sum(np.log(np.diag(L))) + np.sum(A**2, axis=0))


def ppca_posterior_mean(Y, W, mu, sigma2):
    M = W.T @ W + sigma2 * np.eye(W.shape[1])
    return np.linalg.solve(M, W.T @ (Y - mu).T).T


def ppca_predict_missing(Y, W, mu, sigma2, observed):
    W_o, W_m = W[observed], W[~observed]
    M_o = W_o.T @ W_o + sigma2 * np.eye(W.shape[1])
    Ez = np.linalg.solve(M_o, W_o.T @ (Y[:, observed] - mu[observed]).T).T
    out = Y.copy()
    out[:, ~observed] = Ez @ W_m.T + mu[~observed]
    return out


def fa_em_step(Y, W, psi, keep_G=True, new_W_in_psi=True, centre=True):
    n, k = Y.shape[0], W.shape[1]
    R = Y - Y.mean(axis=0) if centre else Y
    G = np.linalg.inv(np.eye(k) + W.T @ (W / psi[:, None]))
    Ez = R @ (W / psi[:, None]) @ G
    W_new = np.linalg.solve((n * G if keep_G else 0.0) + Ez.T @ Ez, Ez.T @ R).T
    psi_new = np.mean((R - Ez @ (W_new if new_W_in_psi else W).T) * R, axis=0)
    return W_new, psi_new


CORRECT = [
    ("06.ppca_loglik", ppca_loglik),
    ("06.ppca_loglik", ppca_loglik_dense),
    ("06.ppca_posterior_mean", ppca_posterior_mean),
    ("06.ppca_predict_missing", ppca_predict_missing),
    ("06.fa_em_step", fa_em_step),
]


@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_ch06_correct_implementations_pass(name, fn):
    result = registry.run_check(name, fn)
    assert result.status == "passed", result.message
    hidden = registry.run_check(name, fn, hidden=True)
    assert hidden.status == "passed", hidden.message


# ----------------------------------------------------------------------------------------------
# Typical wrong implementations


def _loglik_naive_det(Y, W, mu, sigma2):
    C = W @ W.T + sigma2 * np.eye(len(W))
    R = Y - mu
    with np.errstate(all="ignore"):
        return -0.5 * (len(W) * np.log(2 * np.pi) + np.log(np.linalg.det(C))
                       + np.sum(R @ np.linalg.inv(C) * R, axis=1))


def _loglik_summed(Y, W, mu, sigma2):
    return float(np.sum(ppca_loglik(Y, W, mu, sigma2)))


def _loglik_wrong_logdet(Y, W, mu, sigma2):  # forgets the (d - k) log sigma2 term
    d, k = W.shape
    return ppca_loglik(Y, W, mu, sigma2) + 0.5 * (d - k) * np.log(sigma2)


def _loglik_in_place(Y, W, mu, sigma2):
    Y -= mu
    return ppca_loglik(Y, W, 0.0 * mu, sigma2)


def _posterior_no_sigma(Y, W, mu, sigma2):
    return np.linalg.solve(W.T @ W, W.T @ (Y - mu).T).T


def _posterior_not_centred(Y, W, mu, sigma2):
    return ppca_posterior_mean(Y, W, 0.0 * mu, sigma2)


def _predict_reads_missing(Y, W, mu, sigma2, observed):
    out = Y.copy()
    z = ppca_posterior_mean(Y, W, mu, sigma2)               # uses every entry, NaN included
    out[:, ~observed] = (z @ W.T + mu)[:, ~observed]
    return out


def _predict_only_missing(Y, W, mu, sigma2, observed):
    return ppca_predict_missing(Y, W, mu, sigma2, observed)[:, ~observed]


def _predict_zero_filled(Y, W, mu, sigma2, observed):      # sets missing entries to mu: ignores the latent
    out = Y.copy()
    out[:, ~observed] = mu[~observed]
    return out


WRONG = [
    ("06.ppca_loglik", _loglik_naive_det, "not finite numbers"),
    ("06.ppca_loglik", _loglik_summed, "one log-density per row"),
    ("06.ppca_loglik", _loglik_wrong_logdet, "ppca_loglik(Y, W, mu, sigma2) is wrong"),
    ("06.ppca_loglik", _loglik_in_place, "changed its input Y in place"),
    ("06.ppca_posterior_mean", _posterior_no_sigma, "is wrong for Y of shape"),
    ("06.ppca_posterior_mean", _posterior_not_centred, "centre the data on mu"),
    ("06.ppca_posterior_mean", lambda Y, W, mu, s2: ppca_posterior_mean(Y, W, mu, s2).T, "should have shape"),
    ("06.ppca_predict_missing", _predict_reads_missing, "contain NaN"),
    ("06.ppca_predict_missing", _predict_only_missing, "return all of Y"),
    ("06.ppca_predict_missing", _predict_zero_filled, "at the missing entries is wrong"),
    ("06.fa_em_step", lambda Y, W, psi: fa_em_step(Y, W, psi, keep_G=False), "leaves out the posterior covariance G"),
    ("06.fa_em_step", lambda Y, W, psi: fa_em_step(Y, W, psi, new_W_in_psi=False), "uses the old W"),
    ("06.fa_em_step", lambda Y, W, psi: fa_em_step(Y, W, psi, centre=False), "W_new is wrong"),
    ("06.fa_em_step", lambda Y, W, psi: fa_em_step(Y, W, psi)[0], "should return a tuple (W_new, psi_new)"),
    ("06.fa_em_step", lambda Y, W, psi: (fa_em_step(Y, W, psi)[0], np.diag(psi)), "psi_new has shape"),
]


@pytest.mark.parametrize("name, fn, fragment", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_ch06_wrong_implementations_fail_with_a_precise_message(name, fn, fragment):
    result = registry.run_check(name, fn)
    assert result.status == "failed", result
    assert fragment in result.message, result.message
    for reference in ("cholesky", "solve(", "W.T @ W", "np.linalg"):
        assert reference not in result.message


def test_ch06_messages_name_the_input_and_values():
    message = registry.run_check("06.ppca_loglik", _loglik_wrong_logdet).message
    assert "for Y of shape (7, 5)" in message and "expected" in message and ", got" in message
    message = registry.run_check("06.ppca_loglik", _loglik_naive_det).message
    assert "d=500" in message and "det(C) underflows" in message


def test_ch06_em_monotonicity_catches_a_step_that_lowers_the_likelihood():
    calls = []

    def drifting(Y, W, psi):                                 # right on the first data sets, then overshoots
        calls.append(1)
        W_new, psi_new = fa_em_step(Y, W, psi)
        return (W_new, psi_new) if len(calls) <= 5 else (W + 3.0 * (W_new - W), psi_new)

    result = registry.run_check("06.fa_em_step", drifting)
    assert result.status == "failed" and "decreased the log-likelihood" in result.message, result.message


def test_ch06_points_total_12_with_hints():
    checks = registry.checks_for_chapter("06")
    assert [c.name for c in checks] == ["06.ppca_loglik", "06.ppca_posterior_mean", "06.ppca_predict_missing",
                                        "06.fa_em_step", "06.choose_k"]
    assert sum(c.points for c in checks) == 12
    assert all(1 <= c.points <= 3 and c.hint for c in checks)


def choose_k(Y_train, Y_valid, ks):
    """PPCA's maximum-likelihood fit in closed form (Tipping & Bishop), written here, scored on held-out data."""
    scores = []
    mu = Y_train.mean(axis=0)
    S = np.cov(Y_train - mu, rowvar=False, bias=True)
    lam, U = np.linalg.eigh(S)
    lam, U = lam[::-1], U[:, ::-1]
    for k in ks:
        sigma2 = lam[k:].mean()
        W = U[:, :k] * np.sqrt(np.maximum(lam[:k] - sigma2, 0.0))
        scores.append(ppca_loglik(Y_valid, W, mu, sigma2).mean())
    return ks[int(np.argmax(scores))]


@pytest.mark.parametrize("hidden", [False, True])
def test_choose_k_right(hidden):
    result = registry.run_check("06.choose_k", choose_k, hidden=hidden)
    assert result.passed, result.message


def test_choose_k_on_training_data_fails():
    result = registry.run_check("06.choose_k", lambda Yt, Yv, ks: choose_k(Yt, Yt, ks))
    assert result.status == "failed" and "did you score the TRAINING data" in result.message
