"""Chapter 09's checks, in process: correct implementations pass (public and hidden cases), typical wrong
ones fail with a message that says what was wrong."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from minivi.grading import registry


# ----------------------------------------------------------------------------------------------
# Correct implementations (the solutions notebook has the same ones)


def free_energy(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_lik(z).mean(0) - kl


def free_energy_mc_kl(log_lik, mu, log_sigma, eps):
    """Wrong on purpose: a Monte Carlo KL is a valid estimator, but not the analytic one asked for."""
    z = mu + np.exp(log_sigma) * eps
    log_q = (-0.5 * eps**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)
    log_p = (-0.5 * z**2 - 0.5 * np.log(2 * np.pi)).sum(-1)
    return (log_lik(z) + log_p - log_q).mean(0)


def is_log_likelihood(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    log_w = log_lik(z) - 0.5 * (z**2).sum(-1) + 0.5 * (eps**2).sum(-1) + log_sigma.sum(-1)
    m = log_w.max(0)
    return m + np.log(np.exp(log_w - m).mean(0))


def is_log_likelihood_scipy(log_lik, mu, log_sigma, eps):
    from scipy.special import logsumexp

    z = mu + np.exp(log_sigma) * eps
    log_w = log_lik(z) - 0.5 * (z**2).sum(-1) + 0.5 * (eps**2).sum(-1) + log_sigma.sum(-1)
    return logsumexp(log_w, axis=0) - np.log(len(eps))


def impute_step(y, observed, encode, decode, eps):
    mu, log_sigma = encode(y)
    return np.where(observed, y, decode(mu + np.exp(log_sigma) * eps))


CORRECT = [
    ("09.free_energy", free_energy),
    ("09.is_log_likelihood", is_log_likelihood),
    ("09.is_log_likelihood", is_log_likelihood_scipy),
    ("09.impute_step", impute_step),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_ch09_correct_implementations_pass(name, fn, hidden):
    check = registry.get_check(name)
    check.func(fn, hidden=hidden)                  # raises CheckFailed when wrong


# ----------------------------------------------------------------------------------------------
# Typical wrong implementations


def _fe_kl_summed_over_batch(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum()
    return log_lik(z).mean(0) - kl


def _fe_variance_as_scale(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(2 * log_sigma) * eps                    # sigma² where sigma belongs
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_lik(z).mean(0) - kl


def _fe_kl_sign(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_lik(z).mean(0) + kl


def _fe_ignores_eps(log_lik, mu, log_sigma, eps):
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(-1)
    return log_lik(mu[None]).mean(0) - kl


def _is_naive_exp(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    log_w = log_lik(z) - 0.5 * (z**2).sum(-1) + 0.5 * (eps**2).sum(-1) + log_sigma.sum(-1)
    return np.log(np.exp(log_w).mean(0))


def _is_mean_of_logs(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    log_w = log_lik(z) - 0.5 * (z**2).sum(-1) + 0.5 * (eps**2).sum(-1) + log_sigma.sum(-1)
    return log_w.mean(0)                                     # the free energy, not log p(y)


def _is_no_proposal(log_lik, mu, log_sigma, eps):
    z = mu + np.exp(log_sigma) * eps
    log_w = log_lik(z) - 0.5 * (z**2).sum(-1)                # forgot − log q(z)
    m = log_w.max(0)
    return m + np.log(np.exp(log_w - m).mean(0))


def _impute_overwrites_all(y, observed, encode, decode, eps):
    mu, log_sigma = encode(y)
    return decode(mu + np.exp(log_sigma) * eps)


def _impute_in_place(y, observed, encode, decode, eps):
    mu, log_sigma = encode(y)
    y[~observed] = decode(mu + np.exp(log_sigma) * eps)[~observed]
    return y


def _impute_mean_only(y, observed, encode, decode, eps):
    mu, _ = encode(y)
    return np.where(observed, y, decode(mu))


WRONG = [
    ("09.free_energy", _fe_kl_summed_over_batch, "latent axis"),
    ("09.free_energy", _fe_variance_as_scale, "wrong|expected"),
    ("09.free_energy", _fe_kl_sign, "wrong"),
    ("09.free_energy", _fe_ignores_eps, "eps"),
    ("09.free_energy", free_energy_mc_kl, "wrong"),
    ("09.is_log_likelihood", _is_naive_exp, "finite|underflow"),
    ("09.is_log_likelihood", _is_mean_of_logs, "wrong"),
    ("09.is_log_likelihood", _is_no_proposal, "wrong"),
    ("09.impute_step", _impute_overwrites_all, "observed"),
    ("09.impute_step", _impute_in_place, "in place"),
    ("09.impute_step", _impute_mean_only, "wrong"),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn, message", WRONG, ids=[f"{w[0]}-{w[1].__name__}" for w in WRONG])
def test_ch09_wrong_implementations_fail(name, fn, message, hidden):
    with pytest.raises(registry.CheckFailed, match=message):
        with np.errstate(all="ignore"):
            registry.get_check(name).func(fn, hidden=hidden)


def test_ch09_hints_are_tiered_and_do_not_give_the_code():
    for name in ("09.free_energy", "09.is_log_likelihood", "09.impute_step"):
        hint = registry.get_check(name).hint
        assert isinstance(hint, tuple) and len(hint) >= 2
        assert "def " not in " ".join(hint)
