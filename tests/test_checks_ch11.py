"""Chapter 11's checks, in process: correct implementations pass (public and hidden cases), typical wrong ones
fail with a message that says what was wrong."""
from __future__ import annotations

import math

import numpy as np
import pytest

from minivi.grading import registry
from minivi.grading.checks import ch11


def bbb_free_energy(X, y, mu, rho, eps, noise_std, prior_std):
    sigma = np.logaddexp(0.0, rho)
    W = mu + sigma * eps
    r = y - W @ X.T
    loglik = np.mean(np.sum(-0.5 * (r / noise_std) ** 2 - np.log(noise_std) - 0.5 * np.log(2 * np.pi), axis=1))
    kl = np.sum(np.log(prior_std / sigma) + (sigma**2 + mu**2) / (2 * prior_std**2) - 0.5)
    return loglik - kl


def bbb_free_energy_loop(X, y, mu, rho, eps, noise_std, prior_std):
    """Also correct: one sample at a time, softplus by log1p."""
    sigma = np.where(rho > 30, rho, np.log1p(np.exp(np.minimum(rho, 30))))
    total = 0.0
    for e in eps:
        w = mu + sigma * e
        total += np.sum(-0.5 * ((y - X @ w) / noise_std) ** 2) - len(y) * (math.log(noise_std) + 0.5 * math.log(2 * math.pi))
    kl = np.sum(np.log(prior_std) - np.log(sigma) + (sigma**2 + mu**2) / (2 * prior_std**2) - 0.5)
    return total / len(eps) - kl


def leapfrog_step(theta, p, log_prob, grad_log_prob, step_size, n_steps):
    th, q = theta.copy(), p + 0.5 * step_size * grad_log_prob(theta)
    for i in range(n_steps):
        th = th + step_size * q
        q = q + (step_size if i < n_steps - 1 else 0.5 * step_size) * grad_log_prob(th)
    dH = (-log_prob(th) + 0.5 * q @ q) - (-log_prob(theta) + 0.5 * p @ p)
    return th, q, min(1.0, math.exp(-dH)) if dH > 0 else 1.0


def mc_dropout(x, W1, b1, W2, b2, p, n_samples, rng):
    h = np.maximum(x @ W1 + b1, 0.0)
    outs = np.stack([(h * (rng.random(h.shape) >= p) / (1 - p)) @ W2 + b2 for _ in range(n_samples)])
    return outs.mean(0), outs.var(0)


CORRECT = [("11.bbb_free_energy", bbb_free_energy), ("11.bbb_free_energy", bbb_free_energy_loop),
           ("11.leapfrog_step", leapfrog_step), ("11.mc_dropout", mc_dropout)]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_ch11_correct_implementations_pass(name, fn, hidden):
    registry.get_check(name).func(fn, hidden=hidden)               # raises CheckFailed otherwise
    assert registry.run_check(name, fn).status == "passed"


# --- typical mistakes -----------------------------------------------------------------------------------------

def _bbb_plus_kl(X, y, mu, rho, eps, n, s):
    sigma = np.logaddexp(0.0, rho)
    return bbb_free_energy(X, y, mu, rho, eps, n, s) + 2 * np.sum(np.log(s / sigma) + (sigma**2 + mu**2) / (2 * s**2) - 0.5)


def _bbb_naive_softplus(X, y, mu, rho, eps, n, s):
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.log(1 + np.exp(rho))
        W = mu + sigma * eps
        r = y - W @ X.T
        ll = np.mean(np.sum(-0.5 * (r / n) ** 2 - np.log(n) - 0.5 * np.log(2 * np.pi), axis=1))
        return ll - np.sum(np.log(s / sigma) + (sigma**2 + mu**2) / (2 * s**2) - 0.5)


def _bbb_exp_scale(X, y, mu, rho, eps, n, s):                      # sigma = exp(rho), not softplus
    return bbb_free_energy(X, y, mu, np.log(np.expm1(np.exp(rho))), eps, n, s)


def _leap_no_half_steps(theta, p, log_prob, grad, eps, L):          # Euler-like: full kicks everywhere
    th, q = theta.copy(), p.copy()
    for _ in range(L):
        q = q + eps * grad(th)
        th = th + eps * q
    dH = (-log_prob(th) + 0.5 * q @ q) - (-log_prob(theta) + 0.5 * p @ p)
    return th, q, min(1.0, math.exp(-dH)) if dH > 0 else 1.0


def _leap_wrong_accept(theta, p, log_prob, grad, eps, L):
    th, q, _ = leapfrog_step(theta, p, log_prob, grad, eps, L)
    dH = (-log_prob(th) + 0.5 * q @ q) - (-log_prob(theta) + 0.5 * p @ p)
    return th, q, min(1.0, math.exp(dH))


def _leap_gradient_sign(theta, p, log_prob, grad, eps, L):
    return leapfrog_step(theta, p, log_prob, lambda t: -grad(t), eps, L)


def _mcd_same_mask(x, W1, b1, W2, b2, p, n, rng):
    h = np.maximum(x @ W1 + b1, 0.0)
    mask = rng.random(h.shape) >= p
    out = (h * mask / (1 - p)) @ W2 + b2
    return np.stack([out] * n).mean(0), np.stack([out] * n).var(0)


def _mcd_no_rescale(x, W1, b1, W2, b2, p, n, rng):
    h = np.maximum(x @ W1 + b1, 0.0)
    outs = np.stack([(h * (rng.random(h.shape) >= p)) @ W2 + b2 for _ in range(n)])
    return outs.mean(0), outs.var(0)


def _mcd_std_not_var(x, W1, b1, W2, b2, p, n, rng):
    m, v = mc_dropout(x, W1, b1, W2, b2, p, n, rng)
    return m, np.sqrt(v)


WRONG = [
    ("11.bbb_free_energy", _bbb_plus_kl, "adds the KL term"),
    ("11.bbb_free_energy", lambda *a: bbb_free_energy(*a) * 1.0 + 0.0 if False else _bbb_naive_softplus(*a), "rho = "),
    ("11.bbb_free_energy", _bbb_exp_scale, "is wrong"),
    ("11.bbb_free_energy", lambda *a: np.full(3, bbb_free_energy(*a)), "one number"),
    ("11.leapfrog_step", _leap_no_half_steps, "theta_new is wrong"),
    ("11.leapfrog_step", _leap_wrong_accept, "accept_prob is wrong"),
    ("11.leapfrog_step", _leap_gradient_sign, "is wrong"),
    ("11.leapfrog_step", lambda *a: leapfrog_step(*a)[:2], "should return a tuple"),
    ("11.mc_dropout", _mcd_same_mask, "the variance is 0"),
    ("11.mc_dropout", _mcd_no_rescale, "rescaling"),
    ("11.mc_dropout", _mcd_std_not_var, "the variance is wrong"),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn, fragment", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_ch11_wrong_implementations_fail_with_a_precise_message(name, fn, fragment, hidden):
    with pytest.raises(registry.CheckFailed) as info:
        registry.get_check(name).func(fn, hidden=hidden)
    assert fragment in str(info.value), str(info.value)


def test_ch11_points_hints_and_forbidden():
    checks = registry.checks_for_chapter("11")
    assert [c.name for c in checks] == ["11.bbb_free_energy", "11.leapfrog_step", "11.mc_dropout"]
    assert sum(c.points for c in checks) == 8
    assert all(isinstance(c.hint, tuple) and len(c.hint) >= 2 for c in checks)
    assert set(ch11.FORBIDDEN) == {c.name for c in checks}
    import importlib
    for paths in ch11.FORBIDDEN.values():                          # every forbidden name exists
        for path in paths:
            parts = path.split(".")
            for i in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                    break
                except ModuleNotFoundError:
                    continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            assert callable(obj), path
