"""Chapter 02's checks: right answers pass, typical wrong ones fail with a message that helps."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import minivi as mv
from minivi.grading.registry import checks_for_chapter, run_check


# ----------------------------------------------------------------------------------------------
# Right answers (written here independently of the solutions notebook)


def nll_logit(eta, y):
    return mv.softplus(eta) - y * eta


def nll_probit(eta, y):
    return -(y * mv.log_ndtr(eta) + (1.0 - y) * mv.log_ndtr(-eta))


def nll_poisson_log(eta, y):
    return mv.exp(eta) - y * eta + mv.gammaln(y + 1.0)


def hessian(f, theta):
    g = mv.grad(f)
    return np.stack([mv.grad(lambda t, i=i: g(t)[i])(theta).numpy() for i in range(theta.shape[0])])


def irls_step(A, y, beta):
    mu = special.expit(A @ beta)
    return beta + np.linalg.solve(A.T @ ((mu * (1 - mu))[:, None] * A), A.T @ (y - mu))


RIGHT = {"02.nll_logit": nll_logit, "02.nll_probit": nll_probit, "02.nll_poisson_log": nll_poisson_log,
         "02.engine_hessian": hessian, "02.irls_step": irls_step}


def test_the_chapter_registers_five_exercises_worth_ten_points():
    checks = checks_for_chapter("02")
    assert [c.name for c in checks] == list(RIGHT)
    assert sum(c.points for c in checks) == 10
    assert all(c.hint for c in checks)


@pytest.mark.parametrize("name", list(RIGHT))
def test_right_answers_pass(name):
    result = run_check(name, RIGHT[name])
    assert result.status == "passed", result.message


def _hessian_autograd(f, theta):
    t = theta.detach().requires_grad_(True)
    with mv.enable_grad():
        (g,) = mv.autograd_grad(f(t), [t], create_graph=True)
    rows = [mv.autograd_grad(g[i], [t], retain_graph=True)[0] for i in range(t.shape[0])]
    return np.array([np.zeros(t.shape) if r is None else r.numpy() for r in rows])


def _irls_weighted_least_squares(A, y, beta):
    eta = A @ beta
    mu = special.expit(eta)
    s = mu * (1 - mu)
    return np.linalg.lstsq(np.sqrt(s)[:, None] * A, np.sqrt(s) * (eta + (y - mu) / s), rcond=None)[0]


OTHER_RIGHT = [
    ("02.nll_logit", lambda eta, y: -(y * mv.log_sigmoid(eta) + (1.0 - y) * mv.log_sigmoid(-eta))),
    ("02.nll_logit", lambda eta, y: y * mv.softplus(-eta) + (1.0 - y) * mv.softplus(eta)),
    ("02.nll_probit", lambda eta, y: -mv.log_ndtr((2.0 * y - 1.0) * eta)),
    ("02.nll_poisson_log", lambda eta, y: -(y * eta - mv.exp(eta) - mv.gammaln(y + 1.0))),
    ("02.engine_hessian", _hessian_autograd),
    ("02.irls_step", _irls_weighted_least_squares),
]


@pytest.mark.parametrize("name, fn", OTHER_RIGHT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OTHER_RIGHT)])
def test_other_correct_formulations_pass(name, fn):
    result = run_check(name, fn)
    assert result.status == "passed", result.message


def _np_nll_logit(eta, y):
    return np.logaddexp(0.0, eta.numpy()) - y.numpy() * eta.numpy()


def _unstable_cross_entropy(eta, y):
    mu = mv.sigmoid(eta)
    return -(y * mv.log(mu) + (1.0 - y) * mv.log(1.0 - mu))


def _float32_constant(eta, y):
    return mv.softplus(eta) - y * eta * mv.tensor(1.0)


def _unstable_probit(eta, y):
    return -(y * mv.log(mv.ndtr(eta)) + (1.0 - y) * mv.log(1.0 - mv.ndtr(eta)))


def _hessian_outer(f, theta):
    g = mv.grad(f)(theta).numpy()
    return np.outer(g, g)


WRONG = [
    # (exercise, wrong implementation, a fragment the message must contain, status)
    ("02.nll_logit", _unstable_cross_entropy, "not a finite number", "failed"),
    ("02.nll_logit", lambda eta, y: mv.softplus(eta), "is wrong at eta=", "failed"),
    ("02.nll_logit", lambda eta, y: mv.softplus(eta) + y * eta, "is wrong at eta=", "failed"),
    ("02.nll_logit", lambda eta, y: (mv.softplus(eta) - y * eta).mean(), "do not sum or average", "failed"),
    ("02.nll_logit", _np_nll_logit, "should return a minivi Tensor", "failed"),
    ("02.nll_logit", lambda eta, y: mv.softplus(eta) - y * eta.detach(), "gradient", "failed"),
    ("02.nll_logit", _float32_constant, "TypeError", "error"),
    ("02.nll_logit", lambda eta, y: None, "did you forget to `return`", "failed"),
    ("02.nll_probit", _unstable_probit, "not a finite number", "failed"),
    ("02.nll_probit", lambda eta, y: -(y * mv.log_ndtr(-eta) + (1.0 - y) * mv.log_ndtr(eta)), "is wrong at eta=",
     "failed"),
    ("02.nll_probit", lambda eta, y: mv.softplus(1.7 * eta) - y * 1.7 * eta, "is wrong at eta=", "failed"),
    ("02.nll_poisson_log", lambda eta, y: mv.exp(eta) - y * eta, "is wrong at eta=", "failed"),
    ("02.nll_poisson_log", lambda eta, y: mv.exp(eta) - y * eta + mv.log(y + 1.0), "is wrong at eta=", "failed"),
    ("02.nll_poisson_log", lambda eta, y: -mv.exp(eta) + y * eta - mv.gammaln(y + 1.0), "is wrong at eta=", "failed"),
    ("02.engine_hessian", _hessian_outer, "hessian(f, theta) is wrong", "failed"),
    ("02.engine_hessian", lambda f, theta: np.diag(np.diag(hessian(f, theta))), "hessian(f, theta) is wrong",
     "failed"),
    ("02.engine_hessian", lambda f, theta: mv.grad(f)(theta).numpy(), "should have shape", "failed"),
    ("02.irls_step", lambda A, y, b: b + np.linalg.solve(A.T @ A, A.T @ (y - special.expit(A @ b))),
     "irls_step(A, y, beta) is wrong", "failed"),
    ("02.irls_step", lambda A, y, b: b - (irls_step(A, y, b) - b), "irls_step(A, y, beta) is wrong", "failed"),
    ("02.irls_step", lambda A, y, b: irls_step(A, y, b) - b, "irls_step(A, y, beta) is wrong", "failed"),
    ("02.irls_step", lambda A, y, b: b + 0.5 * A.T @ (y - special.expit(A @ b)), "irls_step(A, y, beta) is wrong",
     "failed"),
]


def _in_place(A, y, beta):
    beta += irls_step(A, y, beta) - beta
    return beta


WRONG.append(("02.irls_step", _in_place, "changed its input beta in place", "failed"))


@pytest.mark.parametrize("name, fn, fragment, status", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_answers_fail_with_a_useful_message(name, fn, fragment, status):
    result = run_check(name, fn)
    assert result.status == status, (result.status, result.message)
    assert fragment in result.message, result.message
    assert result.hint


def test_messages_name_the_input_and_both_values():
    message = run_check("02.nll_logit", _unstable_cross_entropy).message
    assert "eta=" in message and "y=" in message and "expected" in message
    message = run_check("02.nll_poisson_log", lambda eta, y: mv.exp(eta) - y * eta).message
    assert "expected" in message and "got" in message


def test_a_stub_is_not_implemented():
    def stub(*args):
        raise NotImplementedError("exercise 02.irls_step: fill in this function")

    assert run_check("02.irls_step", stub).status == "not implemented"
