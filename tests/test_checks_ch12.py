"""Chapter 12's checks, in process: correct implementations pass (public and hidden cases), typical wrong ones fail
with a message that says what was wrong."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from minivi.grading import registry


# ----------------------------------------------------------------------------------------------
# Correct implementations (the solutions notebook has the same ones)


def planar_flow(z, u, w, b):
    a = z @ w + b
    h = np.tanh(a)
    return z + h[:, None] * u, np.log(np.abs(1 + (1 - h**2) * (w @ u)))


def flow_free_energy(log_joint, mu, log_sigma, eps, flow):
    z0 = mu + np.exp(log_sigma) * eps
    zk, log_det = flow(z0)
    log_q0 = (-0.5 * eps**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)
    return (log_joint(zk) - log_q0 + log_det).mean(0)


def filterbank(gx, gy, sigma2, delta, N, A, B):
    centres = np.arange(1, N + 1) - N / 2 - 0.5
    fx = np.exp(-(np.arange(1, A + 1) - (gx + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    fy = np.exp(-(np.arange(1, B + 1) - (gy + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    return fx / fx.sum(1, keepdims=True), fy / fy.sum(1, keepdims=True)


def filterbank_eps(gx, gy, sigma2, delta, N, A, B):
    """The paper's normalisation by max(Z, ε) (minivi's Z + ε): also accepted."""
    fx, fy = filterbank(gx, gy, sigma2, delta, N, A, B)
    return fx * (1 - 1e-9), fy


CORRECT = [
    ("12.planar_flow", planar_flow),
    ("12.flow_free_energy", flow_free_energy),
    ("12.filterbank", filterbank),
    ("12.filterbank", filterbank_eps),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_ch12_correct_implementations_pass(name, fn, hidden):
    registry.get_check(name).func(fn, hidden=hidden)


# ----------------------------------------------------------------------------------------------
# Typical wrong implementations


def _pf_sigmoid(z, u, w, b):
    h = 1 / (1 + np.exp(-(z @ w + b)))
    return z + h[:, None] * u, np.log(np.abs(1 + h * (1 - h) * (w @ u)))


def _pf_log_det_without_derivative(z, u, w, b):
    h = np.tanh(z @ w + b)
    return z + h[:, None] * u, np.log(np.abs(1 + h * (w @ u)))         # h where h' belongs


def _pf_negative(z, u, w, b):
    zo, ld = planar_flow(z, u, w, b)
    return zo, -ld


def _pf_scalar_log_det(z, u, w, b):
    zo, ld = planar_flow(z, u, w, b)
    return zo, ld.sum()


def _fe_minus_log_det(log_joint, mu, log_sigma, eps, flow):
    z0 = mu + np.exp(log_sigma) * eps
    zk, log_det = flow(z0)
    log_q0 = (-0.5 * eps**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)
    return (log_joint(zk) - log_q0 - log_det).mean(0)


def _fe_scores_z0(log_joint, mu, log_sigma, eps, flow):
    z0 = mu + np.exp(log_sigma) * eps
    _, log_det = flow(z0)
    log_q0 = (-0.5 * eps**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)
    return (log_joint(z0) - log_q0 + log_det).mean(0)


def _fe_no_jacobian_of_base(log_joint, mu, log_sigma, eps, flow):
    z0 = mu + np.exp(log_sigma) * eps
    zk, log_det = flow(z0)
    log_q0 = (-0.5 * eps**2 - 0.5 * np.log(2 * np.pi)).sum(-1)           # forgot − log σ
    return (log_joint(zk) - log_q0 + log_det).mean(0)


def _fb_zero_based(gx, gy, sigma2, delta, N, A, B):
    centres = np.arange(1, N + 1) - N / 2 - 0.5
    fx = np.exp(-(np.arange(A) - (gx + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    fy = np.exp(-(np.arange(B) - (gy + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    return fx / fx.sum(1, keepdims=True), fy / fy.sum(1, keepdims=True)


def _fb_unnormalised(gx, gy, sigma2, delta, N, A, B):
    centres = np.arange(1, N + 1) - N / 2 - 0.5
    fx = np.exp(-(np.arange(1, A + 1) - (gx + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    fy = np.exp(-(np.arange(1, B + 1) - (gy + centres * delta)[:, None]) ** 2 / (2 * sigma2))
    return fx, fy


def _fb_reversed(gx, gy, sigma2, delta, N, A, B):
    fx, fy = filterbank(gx, gy, sigma2, delta, N, A, B)
    return fx[::-1], fy[::-1]


def _fb_swapped(gx, gy, sigma2, delta, N, A, B):
    fy, fx = filterbank(gy, gx, sigma2, delta, N, B, A)
    return fy, fx


WRONG = [
    ("12.planar_flow", _pf_sigmoid, "z_out"),
    ("12.planar_flow", _pf_log_det_without_derivative, "finite-difference"),
    ("12.planar_flow", _pf_negative, "wrong sign"),
    ("12.planar_flow", _pf_scalar_log_det, "one log-determinant per row"),
    ("12.flow_free_energy", _fe_minus_log_det, "subtracts the log-determinants"),
    ("12.flow_free_energy", _fe_scores_z0, "exactly onto"),
    ("12.flow_free_energy", _fe_no_jacobian_of_base, "exactly onto"),
    ("12.filterbank", _fb_zero_based, "FX"),
    ("12.filterbank", _fb_unnormalised, "FX"),
    ("12.filterbank", _fb_reversed, "reverse order"),
    ("12.filterbank", _fb_swapped, "shape|FX"),
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name, fn, message", WRONG, ids=[f"{w[0]}-{w[1].__name__}" for w in WRONG])
def test_ch12_wrong_implementations_fail(name, fn, message, hidden):
    with pytest.raises(registry.CheckFailed, match=message):
        with np.errstate(all="ignore"):
            registry.get_check(name).func(fn, hidden=hidden)


def test_ch12_hints_are_tiered_and_do_not_give_the_code():
    for name in ("12.planar_flow", "12.flow_free_energy", "12.filterbank"):
        hint = registry.get_check(name).hint
        assert isinstance(hint, tuple) and len(hint) >= 2
        assert "def " not in " ".join(hint)
