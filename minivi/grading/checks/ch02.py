"""Public checks for chapter 02 (generalised linear models and maximum likelihood).

The negative log-likelihoods are the learner's functions of minivi tensors (η, y): each is compared
with the log-pmf written in NumPy/scipy.special (or a value known in closed form) on seeded inputs, in both tails, in float64 and
float32, and gradient-checked with ``mv.gradcheck``; its gradient is compared with the derivative
worked out by hand. The Hessian is compared with closed forms, the IRLS step with a weighted
least-squares solve and, iterated, must make the gradient of the log-likelihood vanish.
10 points in all.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from scipy import special

from ... import autodiff as mv
from ...autodiff import Tensor
from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: minivi's own versions of what the exercises ask for: they raise while that exercise is graded.
FORBIDDEN = {
    "02.nll_logit": ["minivi.glm.links.Link.nll", "minivi.distributions.Bernoulli.log_prob"],
    "02.nll_probit": ["minivi.glm.links.Link.nll", "minivi.glm.links._probit_log_lik",
                      "minivi.distributions.Bernoulli.log_prob"],
    "02.nll_poisson_log": ["minivi.glm.links.Link.nll", "minivi.distributions.Poisson.log_prob"],
    "02.engine_hessian": ["minivi.glm.newton.hessian", "minivi.glm.newton.value_grad_hessian"],
    "02.irls_step": ["minivi.glm.newton.hessian", "minivi.glm.newton.value_grad_hessian",
                     "minivi.glm.newton.newton_step", "minivi.glm.newton.minimize_newton",
                     "minivi.glm.newton.irls_logistic", "minivi.glm.model.GLM.fit"],
    "02.irls_fit": ["minivi.glm.newton.newton_step", "minivi.glm.newton.minimize_newton",
                    "minivi.glm.newton.irls_logistic", "minivi.glm.model.GLM.fit"],
    "*": ["minivi.grading.checks.ch02._weighted_least_squares", "minivi.grading.checks.ch02._score_norm"],
}

# ----------------------------------------------------------------------------------------------
# Helpers for functions of tensors


def _t(x: Any, dtype: str) -> Tensor:
    return mv.tensor(np.asarray(x, dtype=np.float64), dtype=dtype)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _values(fn: Callable, eta: np.ndarray, y: np.ndarray, dtype: str, name: str) -> tuple[Tensor, np.ndarray]:
    """fn(η, y) on tensors of ``dtype``: the result as a Tensor (checked: one value per observation,
    same dtype) and as a float64 array."""
    if not callable(fn):
        raise CheckFailed(f"expected your function {name}, got {type(fn).__name__} {fn!r}")
    eta_t, y_t = _t(eta, dtype), _t(y, dtype)
    with np.errstate(all="ignore"):
        out = fn(eta_t, y_t)
    if out is None:
        raise CheckFailed(f"{name}(eta, y) returned None: did you forget to `return` it?")
    if not isinstance(out, Tensor):
        raise CheckFailed(
            f"{name}(eta, y) should return a minivi Tensor built with mv operations (mv.softplus, mv.log_ndtr, "
            f"mv.exp, mv.gammaln, + - *), so that the engine can differentiate it; got {type(out).__name__}"
        )
    if out.shape != eta_t.shape:
        extra = " (do not sum or average: one value per observation)" if out.ndim < eta_t.ndim else ""
        raise CheckFailed(f"{name}(eta, y) for eta of shape {eta_t.shape} returned shape {out.shape}; "
                          f"it should have eta's shape{extra}")
    if out.dtype != eta_t.dtype:
        raise CheckFailed(f"{name}(eta, y) for {dtype} tensors returned {out.dtype}: keep the inputs' dtype "
                          "(use Python floats like 1.0 for constants, not new tensors)")
    return out, out.numpy().astype(np.float64)


def _pointwise(got: np.ndarray, expected: np.ndarray, eta: np.ndarray, y: np.ndarray, what: str,
               rtol: float = 1e-6, atol: float = 1e-9, if_wrong: str = "") -> None:
    """CheckFailed naming η and y at the worst entry unless got ≈ expected everywhere."""
    finite = np.isfinite(got)
    bad = ~finite | (np.abs(got - expected) > atol + rtol * np.abs(expected))
    if not bad.any():
        return
    i = int(np.argmax(~finite)) if (~finite).any() else int(np.argmax(np.abs(got - expected)))
    where = f"eta={_fmt(eta[i])}, y={_fmt(y[i])}"
    if not finite[i]:
        raise CheckFailed(f"{what} at {where} is {float(got[i])!r}, not a finite number (expected "
                          f"{_fmt(expected[i])}): some operation overflowed or took the log of 0")
    extra = f" ({if_wrong})" if if_wrong else ""
    raise CheckFailed(f"{what} is wrong at {where}: expected {_fmt(expected[i])}, got {_fmt(got[i])}{extra}")


def _gradient(fn: Callable, eta: np.ndarray, y: np.ndarray, dtype: str, name: str) -> np.ndarray:
    """d/dη of Σ fn(η, y) from the engine, as float64."""
    eta_t = mv.tensor(np.asarray(eta, dtype=np.float64), dtype=dtype, requires_grad=True)
    with np.errstate(all="ignore"):
        out = fn(eta_t, _t(y, dtype))
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise CheckFailed(f"{name}(eta, y) does not depend on eta through the engine (no gradient); build it from "
                          "eta with mv operations")
    with np.errstate(all="ignore"):
        out.sum().backward()
    if eta_t.grad is None:
        raise CheckFailed(f"the engine found no gradient of {name}(eta, y) with respect to eta")
    return eta_t.grad.numpy().astype(np.float64)


def _gradcheck(fn: Callable, eta: np.ndarray, y: np.ndarray, name: str) -> None:
    y64 = _t(y, "float64")
    try:
        mv.gradcheck(lambda e: fn(e, y64), eta)
    except mv.GradcheckError as err:
        raise CheckFailed(f"mv.gradcheck of {name}(eta, y) with respect to eta failed: {err}") from None


def _check_nll(fn: Callable, name: str, cases: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]],
               grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], grad_cases: list[tuple[np.ndarray, np.ndarray]],
               moderate: tuple[np.ndarray, np.ndarray]) -> None:
    """Values (per case: η, y, expected, dtype), engine gradients against ``grad_fn`` and a gradcheck."""
    for eta, y, expected, dtype in cases:
        _, got = _values(fn, eta, y, dtype, name)
        rtol, atol = (1e-6, 1e-9) if dtype == "float64" else (1e-4, 1e-5)
        _pointwise(got, expected, eta, y, f"{name}(eta, y) in {dtype}", rtol=rtol, atol=atol)
    for eta, y in grad_cases:
        got = _gradient(fn, eta, y, "float64", name)
        _pointwise(got, grad_fn(eta, y), eta, y, f"the gradient of your {name} with respect to eta (from the engine)", 1e-6, 1e-9,
                   "the values are right but not their gradient: is part of the graph cut by .detach(), .data or "
                   ".numpy()?")
    _gradcheck(fn, *moderate, name)


def _binary_cases(r: np.random.Generator, n: int = 24, scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    return r.normal(0.0, scale, n), r.integers(0, 2, n).astype(np.float64)


_EXTREME = np.array([-1e4, -1e4, -1e3, -1e3, -40.0, -40.0, 40.0, 40.0, 1e3, 1e3, 1e4, 1e4])
_EXTREME_Y = np.array([0.0, 1.0] * 6)


# ----------------------------------------------------------------------------------------------
# 02.nll_logit


@register(
    "02.nll_logit",
    points=2,
    hint=(
        'Write -log p(y | σ(η)) for one Bernoulli observation, then look for a form with no σ in it.',
        "-log p(y | σ(η)) = -[y log σ(η) + (1 - y) log(1 - σ(η))] simplifies to softplus(η) - y η, since "
        "log σ(η) = -softplus(-η) and log(1 - σ(η)) = -softplus(η). mv.softplus is finite for any η; "
        "log(sigmoid(η)) is -inf once σ(η) rounds to 0 or 1.",
    ),
)
def _check_nll_logit(nll_logit, hidden=False):
    r = rng(201, hidden)
    eta, y = _binary_cases(r)
    eta = np.clip(eta, -8.0, 8.0)  # where scipy's log(1 - p) is still accurate
    expected = -(y * special.log_expit(eta) + (1.0 - y) * special.log_expit(-eta))  # Bernoulli log-pmf
    # In the tails the NLL is known exactly: 0 for the likely outcome, |η| for the unlikely one
    # (softplus(η) - yη = |η| + log(1 + e^{-|η|}), and e^{-40} is below float64's resolution of 40).
    tails = np.where((_EXTREME > 0) == (_EXTREME_Y == 1), 0.0, np.abs(_EXTREME))
    eta32, y32 = np.array([-80.0, -80.0, 80.0, 80.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    tails32 = np.array([0.0, 80.0, 80.0, 0.0, np.log(2.0), np.log(2.0)])
    _check_nll(
        nll_logit, "nll_logit",
        [(eta, y, expected, "float64"), (_EXTREME, _EXTREME_Y, tails, "float64"), (eta32, y32, tails32, "float32")],
        grad_fn=lambda e, y_: special.expit(e) - y_,  # d/dη [softplus(η) - yη] = σ(η) - y
        grad_cases=[(eta, y), (_EXTREME, _EXTREME_Y)],
        moderate=_binary_cases(r, n=8, scale=2.0),
    )


# ----------------------------------------------------------------------------------------------
# 02.nll_probit


def _probit_grad(eta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dη of -[y log Φ(η) + (1 - y) log Φ(-η)] = -y φ(η)/Φ(η) + (1 - y) φ(η)/Φ(-η) (ratios in log space)."""
    log_pdf = -0.5 * eta**2 - 0.5 * np.log(2 * np.pi)
    up = np.exp(log_pdf - special.log_ndtr(eta))
    down = np.exp(log_pdf - special.log_ndtr(-eta))
    return -y * up + (1.0 - y) * down


@register(
    "02.nll_probit",
    points=2,
    hint=(
        'The probit likelihood uses Φ(η) and 1 - Φ(η) = Φ(-η); what happens to log Φ(-40)?',
        "-log p(y | Φ(η)) = -[y log Φ(η) + (1 - y) log Φ(-η)], using 1 - Φ(η) = Φ(-η). Take logs of the "
        "Gaussian CDF with mv.log_ndtr, which stays finite far in the tail where Φ(η) itself rounds to 0 "
        "(log(mv.ndtr(-40.0)) is log 0 = -inf).",
    ),
)
def _check_nll_probit(nll_probit, hidden=False):
    r = rng(202, hidden)
    eta, y = _binary_cases(r, scale=2.0)

    def expected(e, y_):
        return -(y_ * special.log_ndtr(e) + (1.0 - y_) * special.log_ndtr(-e))

    eta32, y32 = np.array([-30.0, -30.0, 30.0, 30.0, 0.5]), np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    _check_nll(
        nll_probit, "nll_probit",
        [(eta, y, expected(eta, y), "float64"), (_EXTREME, _EXTREME_Y, expected(_EXTREME, _EXTREME_Y), "float64"),
         (eta32, y32, expected(eta32, y32), "float32")],
        grad_fn=_probit_grad,
        grad_cases=[(eta, y), (_EXTREME[2:-2], _EXTREME_Y[2:-2])],
        moderate=_binary_cases(r, n=8, scale=1.5),
    )


# ----------------------------------------------------------------------------------------------
# 02.nll_poisson_log


@register(
    "02.nll_poisson_log",
    points=1,
    hint=(
        'Write the Poisson log-pmf with μ = exp(η): log μ is simply η.',
        "With μ = exp(η), -log p(y | μ) = μ - y log μ + log y! = exp(η) - y η + log Γ(y + 1). Use "
        "mv.gammaln(y + 1.0) for log y! (y! itself overflows for y > 170).",
    ),
)
def _check_nll_poisson_log(nll_poisson_log, hidden=False):
    r = rng(203, hidden)
    eta = r.uniform(-3.0, 3.0, 20)
    y = r.poisson(np.exp(eta)).astype(np.float64)
    big_y = np.array([0.0, 1.0, 200.0, 1000.0, 0.0, 5.0])
    big_eta = np.array([-30.0, -30.0, np.log(180.0), np.log(1100.0), 5.0, 0.0])

    def expected(e, y_):
        return -(special.xlogy(y_, np.exp(e)) - np.exp(e) - special.gammaln(y_ + 1.0))  # Poisson log-pmf

    _check_nll(
        nll_poisson_log, "nll_poisson_log",
        [(eta, y, expected(eta, y), "float64"), (big_eta, big_y, expected(big_eta, big_y), "float64"),
         (eta[:6], y[:6], expected(eta[:6], y[:6]), "float32")],
        grad_fn=lambda e, y_: np.exp(e) - y_,  # d/dη [exp(η) - yη] = μ - y
        grad_cases=[(eta, y), (big_eta, big_y)],
        moderate=(eta[:8], y[:8]),
    )


# ----------------------------------------------------------------------------------------------
# 02.engine_hessian


def _logistic_problem(seed: int, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    r = rng(seed)
    A = np.column_stack([r.uniform(-1.7, 1.7, (n, p - 1)), np.ones(n)])
    y = (r.random(n) < special.expit(A @ r.normal(0.0, 1.0, p))).astype(np.float64)
    return A, y


def _hessian_cases(hidden: bool = False) -> list[tuple[str, Callable[[Tensor], Tensor], np.ndarray, np.ndarray]]:
    """(description, f of a float64 tensor θ, θ, its Hessian worked out by hand).

    The last two cases separate double backward from finite differences of ``mv.grad``: a kink
    within 1e-9 of θ (differences straddle it and see half the curvature) and a fast oscillation
    (differences lose ~(ωε)²/6 to truncation or ~1e-16/ε to rounding; the check's tolerance is 1e-9)."""
    r = rng(204, hidden)
    cases = []

    P = 4 if not hidden else 5
    M = r.normal(size=(P, P))
    M = M @ M.T + np.eye(P)
    c = r.normal(size=P)
    M_t, c_t = _t(M, "float64"), _t(c, "float64")
    cases.append(("the quadratic f(θ) = ½ θᵀMθ + cᵀθ (Hessian M)",
                  lambda t: 0.5 * (t * (M_t @ t)).sum() + (c_t * t).sum(), r.normal(size=P), M))

    t0 = np.array([0.3, -0.7, 1.2]) if not hidden else np.array([-0.45, 0.8, -0.6])
    e = np.exp(t0[0] * t0[1])
    H = np.array([[t0[1] ** 2 * e, (1 + t0[0] * t0[1]) * e, 0.0],
                  [(1 + t0[0] * t0[1]) * e, t0[0] ** 2 * e, 0.0],
                  [0.0, 0.0, 12 * t0[2] ** 2]])
    cases.append(("f(θ) = exp(θ₀θ₁) + θ₂⁴", lambda t: mv.exp(t[0] * t[1]) + t[2] ** 4, t0, H))

    A, y = _logistic_problem(205 if not hidden else 215, 60, 3)
    beta = np.array([0.5, -0.4, 0.2]) if not hidden else np.array([-0.3, 0.9, -0.1])
    mu = special.expit(A @ beta)
    A_t, y_t = _t(A, "float64"), _t(y, "float64")
    cases.append(("the mean logistic NLL (Hessian AᵀSA/n, S = diag(μ(1 - μ)))",
                  lambda t: (mv.softplus(A_t @ t) - y_t * (A_t @ t)).mean(), beta,
                  A.T @ ((mu * (1 - mu))[:, None] * A) / len(y)))

    # Σ cᵢ relu(θᵢ)² + θ₀θ₁ just beside the kink of relu: the curvature is 2cᵢ on the right, 0 on the left.
    weights = np.array([1.5, 2.0, 0.7]) if not hidden else np.array([0.9, 3.0, 1.1])
    t_kink = np.array([1e-9, -1e-9, 2e-10]) if not hidden else np.array([-3e-10, 5e-10, 1e-9])
    w_t = _t(weights, "float64")
    H = np.diag(np.where(t_kink > 0, 2 * weights, 0.0))
    H[0, 1] = H[1, 0] = 1.0
    cases.append(("f(θ) = Σ cᵢ relu(θᵢ)² + θ₀θ₁, within 1e-9 of relu's kink",
                  lambda t: (w_t * mv.relu(t) ** 2).sum() + t[0] * t[1], t_kink, H))

    # sin(ωθ₀)·θ₁ with ω = 2000: second derivatives up to ω² = 4e6.
    omega = 2000.0 if not hidden else 3000.0
    t_osc = np.array([0.31, 1.7]) if not hidden else np.array([-0.12, 0.8])
    s_, c_ = np.sin(omega * t_osc[0]), np.cos(omega * t_osc[0])
    H = np.array([[-omega ** 2 * s_ * t_osc[1], omega * c_], [omega * c_, 0.0]])
    cases.append((f"f(θ) = sin({omega:g} θ₀) θ₁ (a fast oscillation)",
                  lambda t: mv.sin(omega * t[0]) * t[1], t_osc, H))

    theta1 = 0.4 if not hidden else -1.3
    cases.append((f"f(θ) = sin(θ₀) (one parameter, Hessian -sin θ₀)", lambda t: mv.sin(t).sum(), np.array([theta1]),
                  np.array([[-np.sin(theta1)]])))
    return cases


@register(
    "02.engine_hessian",
    points=2,
    hint=(
        "The gradient mv.grad(f) is itself a differentiable function of θ.",
        "Differentiate each component of the gradient once more with the engine (one row of H per "
        "component), not with finite differences: the check's tolerance (1e-9) and its functions with kinks "
        "and fast oscillations are beyond what differences can do.",
    ),
)
def _check_engine_hessian(hessian, hidden=False):
    if not callable(hessian):
        raise CheckFailed(f"expected your function hessian, got {type(hessian).__name__} {hessian!r}")
    for description, f, theta0, expected in _hessian_cases(hidden):
        theta = _t(theta0, "float64")
        got = hessian(f, theta)
        if isinstance(got, Tensor):
            got = got.numpy()
        got = as_array(got, "hessian(f, theta)")
        context = f"for {description} at θ = {theta0.tolist()}"
        assert_shape(got, expected.shape, "hessian(f, theta)", f"{context} (P = {theta0.size}: one row and "
                     "one column per parameter)")
        assert_close(got, expected, "hessian(f, theta)", context, rtol=1e-9, atol=1e-9)
        if not np.array_equal(theta.numpy(), theta0):
            raise CheckFailed(f"hessian(f, theta) changed theta in place {context}; leave it as it was")


# ----------------------------------------------------------------------------------------------
# 02.irls_step


def _score_norm(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    """‖∇ℓ(β)‖ = ‖Aᵀ(y - σ(Aβ))‖, the size of the log-likelihood's gradient (zero at the MLE)."""
    return float(np.linalg.norm(A.T @ (y - special.expit(A @ beta))))


def _weighted_least_squares(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The step as a weighted least-squares fit: argmin Σ sᵢ (zᵢ - aᵢᵀβ')² with z = Aβ + (y - μ)/s."""
    eta = A @ beta
    mu = special.expit(eta)
    s = mu * (1.0 - mu)
    z = eta + (y - mu) / s
    root = np.sqrt(s)
    return np.linalg.lstsq(root[:, None] * A, root * z, rcond=None)[0]


@register(
    "02.irls_step",
    points=3,
    hint=(
        "Newton's method: the step is (minus the Hessian)⁻¹ times the gradient of the log-likelihood.",
        'For logistic regression the gradient is Aᵀ(y - μ) and minus the Hessian is AᵀSA with S = diag(μ(1 - μ)).',
        "With μ = σ(Aβ) and S = diag(μ(1 - μ)), the Newton step is β + (AᵀSA)⁻¹ Aᵀ(y - μ): the gradient "
        "of the log-likelihood is Aᵀ(y - μ) and AᵀSA is minus its Hessian. Solve with np.linalg.solve "
        "rather than inverting; scale the rows of A by μ(1 - μ) without forming the n×n matrix S.",
    ),
)
def _check_irls_step(irls_step, hidden=False):
    for seed, n, p in ([(206, 200, 4), (207, 50, 2)] if not hidden else [(216, 120, 3), (217, 80, 5)]):
        A, y = _logistic_problem(seed, n, p)
        beta = rng(seed + 10).normal(0.0, 0.5, p)
        context = f"for A of shape {A.shape} and β = {np.round(beta, 3).tolist()}"
        got = as_array(call(irls_step, A, y, beta, name="irls_step", arg_names=("A", "y", "beta")),
                       "irls_step(A, y, beta)")
        assert_shape(got, (p,), "irls_step(A, y, beta)", context)
        assert_close(got, _weighted_least_squares(A, y, beta), "irls_step(A, y, beta)", context, rtol=1e-7, atol=1e-9)

    # Iterated from β = 0 it must converge to the maximum-likelihood estimate.
    A, y = _logistic_problem(208 if not hidden else 218, 300, 3)
    beta = np.zeros(3)
    for _ in range(25):
        beta = as_array(call(irls_step, A, y, beta, name="irls_step", arg_names=("A", "y", "beta")),
                        "irls_step(A, y, beta)")
    # The MLE is where the gradient Aᵀ(y - σ(Aβ)) vanishes (the log-likelihood is strictly concave).
    if not np.all(np.isfinite(beta)) or _score_norm(A, y, beta) > 1e-8 * len(y):
        raise CheckFailed(f"β after 25 IRLS steps from β = 0 (A of shape {A.shape}) is {np.round(beta, 4).tolist()}, "
                          f"where the log-likelihood's gradient Aᵀ(y - σ(Aβ)) still has norm "
                          f"{_score_norm(A, y, beta) if np.all(np.isfinite(beta)) else float('nan'):.3g}: "
                          "not the maximum-likelihood estimate")

    # With only an intercept the MLE is known in closed form: σ(β) = mean(y), β = logit(ȳ).
    y = (rng(209, hidden).random(40) < 0.3).astype(np.float64)
    A = np.ones((40, 1))
    beta = np.zeros(1)
    for _ in range(25):
        beta = as_array(call(irls_step, A, y, beta, name="irls_step", arg_names=("A", "y", "beta")),
                        "irls_step(A, y, beta)")
    assert_close(beta, np.array([special.logit(y.mean())]), "β after 25 IRLS steps with A a column of ones",
                 f"(ȳ = {y.mean():.3f}, so the MLE is logit(ȳ))", rtol=0.0, atol=1e-8)


# ----------------------------------------------------------------------------------------------
# 02.irls_fit: the chapter's claim that Newton's method converges quadratically


@register(
    "02.irls_fit",
    points=2,
    hint=("Start at β = 0 and call your irls_step n_steps times, recording the size of the gradient as you go.",
          "The gradient of the log-likelihood is Aᵀ(y - σ(Aβ)); record its norm before every step and once "
          "after the last, n_steps + 1 numbers in all."),
)
def _check_irls_fit(irls_fit, hidden=False):
    sizes = [(206, 400, 3), (207, 150, 5)] if not hidden else [(226, 300, 4), (227, 90, 2), (228, 600, 6)]
    for seed, n, p in sizes:
        A, y = _logistic_problem(seed, n, p)
        n_steps = 12
        context = f"for A of shape {A.shape}, n_steps={n_steps}"
        out = call(irls_fit, A, y, n_steps, name="irls_fit", arg_names=("A", "y", "n_steps"))
        beta, norms = unpack(out, ("beta", "norms"), "irls_fit(A, y, n_steps)")
        beta, norms = as_array(beta, "beta"), as_array(norms, "norms")
        assert_shape(beta, (p,), "beta", context)
        assert_shape(norms, (n_steps + 1,), "norms", f"{context} (one norm before each step and one after the last)")
        assert_close(norms[0], _score_norm(A, y, np.zeros(p)), "norms[0] (the gradient's size at β = 0)", context,
                     rtol=1e-8)
        assert_close(norms[-1], _score_norm(A, y, beta), "norms[-1] (the gradient's size at the returned β)",
                     context, rtol=1e-6, atol=1e-9)
        # A maximum of the likelihood: the score equations Aᵀ(y - μ) = 0 hold at the returned β.
        if _score_norm(A, y, beta) > 1e-8 * n:
            raise CheckFailed(f"after {n_steps} steps {context} the gradient Aᵀ(y - σ(Aβ)) still has norm "
                              f"{_score_norm(A, y, beta):.3g}: β is not the maximum-likelihood estimate")
        # The claim: once close, the error squares each step. From a gradient below 1e-1 to one below
        # 1e-9 takes at most 4 Newton steps (1e-1 → 1e-2 → 1e-4 → 1e-8 → 1e-16); a first-order method needs many.
        below = np.flatnonzero(norms < 1e-1)
        tiny = np.flatnonzero(norms < 1e-9)
        if below.size and tiny.size and tiny[0] - below[0] > 4:
            raise CheckFailed(f"{context}: your gradient norms {np.array2string(norms, precision=2)} take "
                              f"{tiny[0] - below[0]} steps to go from below 1e-1 to below 1e-9; Newton steps need "
                              "at most 4 (the error squares each step)")
