"""Bayesian linear regression: the one network whose weight posterior is known exactly.

With y = X w + ε, ε ~ N(0, σ² I) and the prior w ~ N(0, s² I), the posterior is Gaussian,

    p(w | X, y) = N(w; m, Λ⁻¹),     Λ = XᵀX / σ² + I / s²,     m = Λ⁻¹ Xᵀ y / σ².

The best *fully factorised* Gaussian q(w) = Πᵢ N(wᵢ; μᵢ, vᵢ) (the maximiser of the free energy, i.e. the
minimiser of KL[q ‖ p(w | D)]) is also known: μ = m and vᵢ = 1 / Λᵢᵢ. Since 1/Λᵢᵢ ≤ (Λ⁻¹)ᵢᵢ, the
mean-field answer under-estimates every marginal variance whenever the weights are correlated.
"""
from __future__ import annotations

import numpy as np


def _check(X: np.ndarray, y: np.ndarray, noise_var: float, prior_var: float) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"blr_posterior needs X of shape (n, d) and y of shape (n,), got X {X.shape} and y {y.shape}")
    if noise_var <= 0 or prior_var <= 0:
        raise ValueError(f"noise_var and prior_var must be positive variances, got {noise_var} and {prior_var}")
    return X, y


def blr_posterior(X: np.ndarray, y: np.ndarray, noise_var: float, prior_var: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact posterior N(m, Λ⁻¹) of w: returns (m of shape (d,), the covariance Λ⁻¹ of shape (d, d))."""
    X, y = _check(X, y, noise_var, prior_var)
    precision = X.T @ X / noise_var + np.eye(X.shape[1]) / prior_var      # Λ
    L = np.linalg.cholesky(precision)
    cov = np.linalg.solve(L.T, np.linalg.solve(L, np.eye(len(L))))        # Λ⁻¹ from the Cholesky factor
    return cov @ (X.T @ y) / noise_var, cov


def mean_field_optimum(X: np.ndarray, y: np.ndarray, noise_var: float, prior_var: float) -> tuple[np.ndarray, np.ndarray]:
    """The optimal mean-field Gaussian: (μ = m, the exact posterior mean; v = 1 / diag Λ)."""
    X, y = _check(X, y, noise_var, prior_var)
    precision = X.T @ X / noise_var + np.eye(X.shape[1]) / prior_var
    return np.linalg.solve(precision, X.T @ y / noise_var), 1.0 / np.diag(precision)
