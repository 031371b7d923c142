"""The nonparametric bootstrap: refit on resampled data to see how much the estimate moves.

    for b = 1..B:  draw n rows with replacement → (X_b, y_b);  θ_b = fit(X_b, y_b)

The spread of the θ_b estimates the sampling distribution of θ̂: a frequentist statement
of confidence about the parameters, which maximum likelihood and MAP alone do not give.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autodiff import Tensor


def _flat(params: Any) -> np.ndarray:
    """A fitted result (array, tensor, or a sequence of them) as one flat float array."""
    if isinstance(params, Tensor):
        return params.numpy().ravel().astype(np.float64)
    if isinstance(params, (list, tuple)):
        return np.concatenate([_flat(p) for p in params]) if params else np.zeros(0)
    return np.asarray(params, dtype=np.float64).ravel()


def bootstrap(fit_fn: Callable[[np.ndarray, np.ndarray], Any], X: np.ndarray, y: np.ndarray, n_boot: int,
              rng: np.random.Generator) -> np.ndarray:
    """Refit ``fit_fn(X_b, y_b)`` on ``n_boot`` resamples; returns an (n_boot, P) array of parameters.

    ``fit_fn`` returns the fitted parameters: an array, a tensor, or a tuple of them (e.g. (w, b)),
    flattened and concatenated into one row.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"bootstrap needs rng=np.random.default_rng(seed), got {type(rng).__name__}")
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"bootstrap: X has {len(X)} rows but y has {len(y)}; they must match")
    n = len(y)
    rows = []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, n, size=n)
        rows.append(_flat(fit_fn(X[idx], y[idx])))
    return np.stack(rows)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of each column: the (1-level)/2 and (1+level)/2 quantiles."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    samples = np.asarray(samples, dtype=np.float64)
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi
