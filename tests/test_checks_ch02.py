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


def irls_fit(A, y, n_steps):
    beta, norms = np.zeros(A.shape[1]), []
    for _ in range(n_steps):
        norms.append(np.linalg.norm(A.T @ (y - special.expit(A @ beta))))
        beta = irls_step(A, y, beta)
    norms.append(np.linalg.norm(A.T @ (y - special.expit(A @ beta))))
    return beta, np.array(norms)


RIGHT["02.irls_fit"] = irls_fit


def test_the_chapter_registers_six_exercises_worth_twelve_points():
    checks = checks_for_chapter("02")
    assert [c.name for c in checks] == list(RIGHT)
    assert sum(c.points for c in checks) == 12
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


@pytest.mark.parametrize("name", list(RIGHT))
def test_right_answers_pass_the_hidden_cases_too(name):
    assert run_check(name, RIGHT[name], hidden=True).status == "passed"


def _hessian_by_differences(eps):
    def hessian_fd(f, theta):
        g, th = mv.grad(f), theta.numpy()
        H = np.zeros((th.size, th.size))
        for i in range(th.size):
            e = np.zeros(th.size)
            e[i] = eps
            H[:, i] = (g(mv.tensor(th + e, dtype="float64")).numpy()
                       - g(mv.tensor(th - e, dtype="float64")).numpy()) / (2 * eps)
        return H
    return hessian_fd


@pytest.mark.parametrize("eps", [1e-3, 1e-5, 1e-7, 1e-9, 1e-11])
@pytest.mark.parametrize("hidden", [False, True])
def test_engine_hessian_needs_double_backward(eps, hidden):
    """Finite differences of mv.grad fail at every step size: a kink, a fast oscillation, tol 1e-9."""
    assert run_check("02.engine_hessian", _hessian_by_differences(eps), hidden=hidden).status == "failed"


def _gradient_ascent_fit(A, y, n_steps):
    beta, norms = np.zeros(A.shape[1]), []
    for _ in range(n_steps):
        g = A.T @ (y - special.expit(A @ beta))
        norms.append(np.linalg.norm(g))
        beta = beta + 4.0 * g / len(y)
    norms.append(np.linalg.norm(A.T @ (y - special.expit(A @ beta))))
    return beta, np.array(norms)


@pytest.mark.parametrize("fn, fragment", [
    (_gradient_ascent_fit, "not the maximum-likelihood estimate"),
    (lambda A, y, n: (irls_fit(A, y, n)[0], irls_fit(A, y, n)[1][:-1]), "norms has shape"),
    (lambda A, y, n: (irls_fit(A, y, n)[0], np.zeros(n + 1)), "norms[0]"),
])
def test_irls_fit_wrong_answers(fn, fragment):
    result = run_check("02.irls_fit", fn)
    assert result.status == "failed" and fragment in result.message
