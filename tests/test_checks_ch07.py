"""Chapter 07's checks, in process: correct implementations pass (public and hidden cases), typical wrong ones
fail with a message that says what was wrong, and every FORBIDDEN name is a real minivi function."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy.special import logsumexp

from minivi.grading import registry
from minivi.grading.checks import ch07

# ----------------------------------------------------------------------------------------------
# Correct implementations (the solutions notebook has the first of each)


def log_marginal_is(log_lik, log_prior, log_q):
    log_w = log_lik + log_prior - log_q
    top = log_w.max(axis=0)
    return top + np.log(np.mean(np.exp(log_w - top), axis=0))


def log_marginal_is_scipy(log_lik, log_prior, log_q):
    return logsumexp(log_lik + log_prior - log_q, axis=0) - np.log(len(log_lik))


def free_energy_ppca(Y, W, mu, sigma2, m, s):
    d = W.shape[0]
    R = Y - m @ W.T - mu
    spread = (s**2 * (W**2).sum(axis=0)).sum(axis=1)
    recon = -0.5 * (d * np.log(2 * np.pi * sigma2) + ((R * R).sum(axis=1) + spread) / sigma2)
    return recon - (0.5 * (s**2 + m**2 - 1) - np.log(s)).sum(axis=1)


def free_energy_ppca_by_trace(Y, W, mu, sigma2, m, s):
    """Also correct: E||y - Wz - mu||² = ||y - Wm - mu||² + tr(W diag(s²) Wᵀ), row by row."""
    out = []
    for y, mn, sn in zip(Y, m, s):
        r = y - W @ mn - mu
        e = -0.5 * len(y) * np.log(2 * np.pi * sigma2) - (r @ r + np.trace(W @ np.diag(sn**2) @ W.T)) / (2 * sigma2)
        out.append(e - 0.5 * np.sum(sn**2 + mn**2 - 1 - np.log(sn**2)))
    return np.array(out)


def mc_kl(m, s, eps):
    z = m + s * eps
    log_q = -0.5 * eps**2 - np.log(s) - 0.5 * np.log(2 * np.pi)
    log_p = -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
    return (log_q - log_p).sum(axis=-1).mean(axis=0)


def e_step(y, W, mu, sigma2, m, log_s, lr):
    s2 = np.exp(2 * log_s)
    grad_m = W.T @ (y - W @ m - mu) / sigma2 - m
    grad_log_s = 1.0 - s2 * (1.0 + (W**2).sum(axis=0) / sigma2)
    return m + lr * grad_m, log_s + lr * grad_log_s


CORRECT = [
    ("07.log_marginal_is", log_marginal_is),
    ("07.log_marginal_is", log_marginal_is_scipy),
    ("07.free_energy_ppca", free_energy_ppca),
    ("07.free_energy_ppca", free_energy_ppca_by_trace),
    ("07.mc_kl", mc_kl),
    ("07.e_step", e_step),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name,fn", CORRECT, ids=[f"{n}:{f.__name__}" for n, f in CORRECT])
def test_correct_implementations_pass(name, fn, hidden):
    registry.get_check(name).func(fn, hidden=hidden)


def test_registered_points():
    checks = {c.name: c.points for c in registry.checks_for_chapter("07")}
    assert checks == {"07.log_marginal_is": 2, "07.free_energy_ppca": 3, "07.mc_kl": 2, "07.e_step": 3}


# ----------------------------------------------------------------------------------------------
# Wrong implementations fail, with a useful message


def naive_is(log_lik, log_prior, log_q):
    return np.log(np.mean(np.exp(log_lik + log_prior - log_q), axis=0))


def sum_not_mean_is(log_lik, log_prior, log_q):
    return logsumexp(log_lik + log_prior - log_q, axis=0)


def no_spread_F(Y, W, mu, sigma2, m, s):
    return free_energy_ppca(Y, W, mu, sigma2, m, s) + 0.5 * (s**2 * (W**2).sum(0)).sum(1) / sigma2


def wrong_sign_kl_F(Y, W, mu, sigma2, m, s):
    kl = (0.5 * (s**2 + m**2 - 1) - np.log(s)).sum(axis=1)
    return free_energy_ppca(Y, W, mu, sigma2, m, s) + 2 * kl


def analytic_instead_of_mc(m, s, eps):
    return (0.5 * (s**2 + m**2 - 1) - np.log(s)).sum(-1)


def mc_kl_no_logdet(m, s, eps):
    z = m + s * eps
    return (-0.5 * eps**2 + 0.5 * z**2).sum(-1).mean(0)


def e_step_no_prior(y, W, mu, sigma2, m, log_s, lr):
    s2 = np.exp(2 * log_s)
    return m + lr * W.T @ (y - W @ m - mu) / sigma2, log_s + lr * (1.0 - s2 * (1.0 + (W**2).sum(0) / sigma2))


def e_step_descends(y, W, mu, sigma2, m, log_s, lr):
    m_new, ls_new = e_step(y, W, mu, sigma2, m, log_s, lr)
    return 2 * m - m_new, 2 * log_s - ls_new


WRONG = [
    ("07.log_marginal_is", naive_is, "overflow|underflow|not a finite"),
    ("07.log_marginal_is", sum_not_mean_is, "mean"),
    ("07.free_energy_ppca", no_spread_F, "spread"),
    ("07.free_energy_ppca", wrong_sign_kl_F, "lower bound|is wrong"),
    ("07.mc_kl", analytic_instead_of_mc, "z = m \\+ s \\* eps"),
    ("07.mc_kl", mc_kl_no_logdet, "wrong"),
    ("07.e_step", e_step_no_prior, "m_new"),
    ("07.e_step", e_step_descends, "m_new"),
]


@pytest.mark.parametrize("name,fn,message", WRONG, ids=[f"{n}:{f.__name__}" for n, f, _ in WRONG])
def test_wrong_implementations_fail_with_a_message(name, fn, message):
    with np.errstate(all="ignore"):
        for hidden in (False, True):
            with pytest.raises(registry.CheckFailed, match=message):
                registry.get_check(name).func(fn, hidden=hidden)


def test_stubs_are_not_implemented():
    def stub(*args):
        raise NotImplementedError("exercise: fill in this function")

    for check in registry.checks_for_chapter("07"):
        assert registry.run_check(check.name, stub).status == "not implemented"


def test_forbidden_covers_every_check():   # that each path resolves: tests/test_checks_forbidden.py
    assert set(ch07.FORBIDDEN) == {c.name for c in registry.checks_for_chapter("07")}
