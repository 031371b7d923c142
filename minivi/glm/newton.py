"""Second-order fitting: Hessians from the engine, Newton's method, IRLS, natural gradients.

    Newton:            θ ← θ - H⁻¹ ∇L                  H = ∇²L (curvature of this loss)
    natural gradient:  θ ← θ - lr F⁻¹ ∇L               F = E_y[∇²L] (the Fisher information)

For a GLM with a canonical link the Hessian does not depend on y, so H = F = XᵀWX/n and
the two coincide: Newton's method on logistic regression *is* IRLS. Both steps are
invariant to a linear reparameterisation θ = A θ' (the step in θ' maps to the step in θ),
which plain gradient descent is not.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..autodiff.backend import get_array_module, special  # special: scipy.special on first use


def _leaf(theta: Any) -> Tensor:
    """A fresh leaf (requires_grad) holding θ; float arrays keep their dtype."""
    if isinstance(theta, Tensor):
        t = theta.detach()
    elif getattr(theta, "dtype", None) is not None and theta.dtype.kind == "f":
        t = Tensor._wrap(theta)
    else:
        t = mv.tensor(theta)
    if t.ndim != 1:
        raise ValueError(f"θ must be a flat vector (shape (P,)), got shape {t.shape}; flatten your parameters first")
    return t.requires_grad_(True)


def value_grad_hessian(f: Callable[[Tensor], Tensor], theta: Any) -> tuple[float, Any, Any]:
    """L(θ), ∇L(θ) and ∇²L(θ) as arrays, for a scalar ``f`` of a flat vector θ of P entries.

    The gradient is computed with its graph recorded (``mv.grad`` records it), then each
    row of the Hessian is the gradient of one entry of the gradient: P extra backward
    passes, fine for the few parameters of a GLM.
    """
    theta = _leaf(theta)
    with mv.enable_grad():
        value = f(theta)
        (g,) = mv.autograd_grad(value, [theta], create_graph=True)
    xp = get_array_module(theta.data)
    rows = []
    for i in range(theta.size):
        gi = g[i]
        row = mv.autograd_grad(gi, [theta], retain_graph=True)[0] if gi.requires_grad else None
        rows.append(xp.zeros_like(theta.data) if row is None else row.data)
    h = xp.stack(rows)
    return value.item(), g.data, 0.5 * (h + h.T)  # symmetrise away rounding


def hessian(f: Callable[[Tensor], Tensor], theta: Any) -> Tensor:
    """∇²f(θ) as a (P, P) tensor (by differentiating the engine's gradient once per entry)."""
    return Tensor._wrap(value_grad_hessian(f, theta)[2])


def _solve(h: Any, g: Any, damping: float = 0.0) -> Any:
    """(H + λI)⁻¹ g; λ grows from ``damping`` until H + λI is positive definite (so the step descends)."""
    xp = get_array_module(h)
    eye = xp.eye(h.shape[0], dtype=h.dtype)
    lam, base = damping, 1e-10 * max(1.0, float(xp.abs(xp.diag(h)).max()))
    for _ in range(30):
        try:
            chol = xp.linalg.cholesky(h + lam * eye)
            if bool(xp.isfinite(chol).all()):
                return xp.linalg.solve(h + lam * eye, g)
        except np.linalg.LinAlgError:
            pass
        lam = max(10 * lam, base)
    raise np.linalg.LinAlgError("the Hessian stayed indefinite even with heavy damping; check the loss for NaNs")


def newton_step(nll_fn: Callable[[Tensor], Tensor], w: Any, damping: float = 0.0) -> Tensor:
    """One Newton step w - (H + λI)⁻¹ ∇L(w) for a scalar loss of a flat vector w (no line search)."""
    _, g, h = value_grad_hessian(nll_fn, w)
    w = _leaf(w)
    return Tensor._wrap(w.data - _solve(h, g, damping))


def minimize_newton(f: Callable[[Tensor], Tensor], theta: Any, steps: int = 50,
                    tol: float = 1e-8) -> tuple[Tensor, list[float]]:
    """Damped Newton with a backtracking line search, until max |∇L| < tol.

    A trial step that raises ``ValueError`` (it left the model's domain, e.g. η ≤ 0 for the
    reciprocal link) or does not decrease L enough (Armijo) is halved. It also stops once a
    step no longer changes L beyond rounding (float32 never reaches a tight ``tol``).
    Returns the minimiser (a constant tensor) and the loss before every step.
    """
    theta = _leaf(theta).data
    xp = get_array_module(theta)
    eps = float(np.finfo(theta.dtype).eps)
    history = []
    for _ in range(steps):
        value, g, h = value_grad_hessian(f, theta)
        history.append(value)
        if float(xp.abs(g).max()) < tol:
            break
        d = _solve(h, g)
        slope, t = float(g @ d), 1.0
        while t > 1e-12:
            trial = theta - t * d
            try:
                with mv.no_grad():
                    new = f(Tensor._wrap(trial)).item()
            except ValueError:
                new = np.inf
            if new <= value - 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break  # no decrease possible at this precision: converged
        theta = trial
        if value - new <= 4 * eps * max(1.0, abs(value)):
            break
    return Tensor._wrap(theta), history


def irls_logistic(X: np.ndarray, y: np.ndarray, n_iter: int = 100, tol: float = 1e-12) -> tuple[np.ndarray, float]:
    """Logistic regression by iteratively reweighted least squares, in plain NumPy.

    With A = [X, 1] and β = (w, b), repeat the weighted least-squares solve

        μ = σ(Aβ),  W = diag(μ(1 - μ)),  z = Aβ + (y - μ)/W,   β ← (AᵀWA)⁻¹ AᵀW z

    which is exactly Newton's method on the logistic negative log-likelihood.
    Returns (w, b).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    A = np.column_stack([X, np.ones(len(X))])
    beta = np.zeros(A.shape[1])
    for _ in range(n_iter):
        eta = A @ beta
        mu = special(np).expit(eta)
        W = np.maximum(mu * (1 - mu), 1e-12)  # separable data would send W to 0
        z = eta + (y - mu) / W
        new = np.linalg.solve(A.T @ (W[:, None] * A), A.T @ (W * z))
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    return beta[:-1], float(beta[-1])


def fisher_matrix(eta_fn: Callable[[Tensor], Tensor], theta: Any, info: Tensor) -> Tensor:
    """F = (1/n) Σᵢ I(ηᵢ) ∇θηᵢ ∇θηᵢᵀ = Jᵀ diag(I) J / n with J = ∂η/∂θ.

    Computed without forming J: F is the Hessian, at θ, of ½ mean(I · (η(θ') - η(θ))²)
    (its other term vanishes because η(θ') - η(θ) = 0 there). ``info`` holds I(ηᵢ), the
    Fisher information of each ηᵢ (``Link.fisher_info``).
    """
    theta = _leaf(theta)
    eta0 = eta_fn(theta).detach()
    return hessian(lambda t: 0.5 * (info * (eta_fn(t) - eta0) ** 2).mean(), theta)


def natural_gradient_step(loss_fn: Callable[[Tensor], Tensor], eta_fn: Callable[[Tensor], Tensor], theta: Any,
                          info_fn: Callable[[Tensor], Tensor], lr: float = 1.0, damping: float = 0.0) -> Tensor:
    """θ - lr F(θ)⁻¹ ∇L(θ): a gradient step preconditioned by the Fisher information of a GLM.

    ``loss_fn(θ)`` is the mean negative log-likelihood, ``eta_fn(θ)`` the linear predictor
    η(θ) and ``info_fn(η)`` the Fisher information of each η (``link.fisher_info``). Since
    F transforms like the Hessian, the step is the same whatever (smooth, invertible)
    parameterisation θ describes η with, to first order, and exactly for linear ones.
    """
    theta = _leaf(theta)
    g = mv.grad(loss_fn)(theta).data
    with mv.no_grad():
        info = info_fn(eta_fn(theta))
    F = fisher_matrix(eta_fn, theta, info).data
    return Tensor._wrap(theta.data - lr * _solve(F, g, damping))
