"""Chapter 08's checks, in process: correct implementations pass (public and hidden cases), typical wrong ones
fail with a message that says what was wrong, and FORBIDDEN names real minivi functions."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import minivi as mv
from minivi.grading import registry
from minivi.grading.checks import ch08


def pathwise_normal(f, mu, sigma, eps):
    n = eps.shape
    m = mv.tensor(np.full(n, mu), dtype="float64", requires_grad=True)
    s = mv.tensor(np.full(n, sigma), dtype="float64", requires_grad=True)
    f(m + s * mv.tensor(eps, dtype="float64")).sum().backward()
    return m.grad.numpy(), s.grad.numpy()


def score_normal(f, mu, sigma, z):
    fz = f(z)
    return fz * (z - mu) / sigma**2, fz * ((z - mu) ** 2 / sigma**3 - 1 / sigma)


def optimal_baseline(f_values, scores):
    return (f_values[:, None] * scores**2).sum(0) / (scores**2).sum(0)


def exponential_rsample(rate, u):
    return -mv.log1p(-mv.tensor(u, dtype="float64")) / rate


CORRECT = [("08.pathwise_normal", pathwise_normal), ("08.score_normal", score_normal),
           ("08.optimal_baseline", optimal_baseline), ("08.exponential_rsample", exponential_rsample)]


@pytest.mark.parametrize("name, fn", CORRECT, ids=[c[0] for c in CORRECT])
@pytest.mark.parametrize("hidden", [False, True])
def test_correct_implementations_pass(name, fn, hidden):
    registry.get_check(name).func(fn, hidden=hidden)             # raises CheckFailed on failure
    assert registry.run_check(name, fn).status == "passed"


WRONG = [
    ("08.pathwise_normal", lambda f, mu, sigma, eps: pathwise_normal(f, mu, sigma, eps)[::-1], "g_mu"),
    ("08.pathwise_normal", lambda f, mu, sigma, eps: (pathwise_normal(f, mu, sigma, eps)[0],) * 2, "factor eps"),
    ("08.pathwise_normal", lambda f, mu, sigma, eps: tuple(np.full(eps.shape, g.mean())
                                                           for g in pathwise_normal(f, mu, sigma, eps)), "average"),
    ("08.score_normal", lambda f, mu, sigma, z: (f(z) * (z - mu) / sigma, f(z) * (z - mu) ** 2 / sigma**3), "is wrong"),
    ("08.score_normal", lambda f, mu, sigma, z: (score_normal(f, mu, sigma, z)[0],
                                                 f(z) * (z - mu) ** 2 / sigma**3), "g_sigma"),
    ("08.optimal_baseline", lambda f, s: np.full(s.shape[1], f.mean()), "mean of f"),
    ("08.optimal_baseline", lambda f, s: (f[:, None] * s).sum(0) / (s**2).sum(0), "wrong"),
    ("08.exponential_rsample", lambda rate, u: -mv.log(mv.tensor(u, dtype="float64")) / rate, "1 - u"),
    ("08.exponential_rsample", lambda rate, u: mv.tensor(-np.log1p(-u) / rate.item(), dtype="float64"), "graph"),
    ("08.exponential_rsample", lambda rate, u: -np.log1p(-u) / rate.item(), "Tensor"),
]


@pytest.mark.parametrize("name, fn, words", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_implementations_fail_with_a_useful_message(name, fn, words):
    result = registry.run_check(name, fn)
    assert result.status == "failed", result
    assert words in result.message, result.message


def test_a_biased_score_estimator_fails_the_z_test():
    """Same values on the five public points is impossible to fake, but a bias hiding in large samples is caught."""
    def biased(f, mu, sigma, z):
        g_mu, g_sigma = score_normal(f, mu, sigma, z)
        if len(z) > 100:
            return g_mu + 0.05, g_sigma
        return g_mu, g_sigma

    result = registry.run_check("08.score_normal", biased)
    assert result.status == "failed" and "biased" in result.message, result.message


def test_grad_samples_with_its_own_noise_does_not_pass_pathwise_normal():
    """The check compares sample by sample on the given eps, so even without FORBIDDEN's blocking, a call of
    grad_samples (which draws its own noise) cannot pass it."""
    from minivi import estimators
    from minivi.distributions import Normal

    def via_library(f, mu, sigma, eps):
        q = Normal(mv.tensor(mu, dtype="float64", requires_grad=True),
                   mv.tensor(sigma, dtype="float64", requires_grad=True))
        g = estimators.grad_samples(f, q, len(eps), np.random.default_rng(0))
        return g["loc"], g["scale"]

    assert registry.run_check("08.pathwise_normal", via_library).status == "failed"
