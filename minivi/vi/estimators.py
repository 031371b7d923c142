"""Monte Carlo bookkeeping: stable log-mean-exp, effective sample size, standard errors.

With importance weights wₖ = p(y, zₖ)/q(zₖ), everything is done on log wₖ, because wₖ itself
under- or overflows for any realistic y (log w ≈ -700 for an MNIST digit):

    log (1/K Σₖ wₖ) = m + log (1/K Σₖ exp(log wₖ - m)),   m = maxₖ log wₖ
    ESS = (Σₖ wₖ)² / Σₖ wₖ²                              (K for equal weights, 1 for one dominant weight)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor


def log_mean_exp(x: Tensor, axis: int = 0) -> Tensor:
    """log (1/K Σₖ exp xₖ) along ``axis``, stably (differentiable)."""
    return mv.logsumexp(x, axis=axis) - math.log(x.shape[axis])


def _np(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.data
    return np.asarray(x.get() if hasattr(x, "get") else x, dtype=np.float64)


def effective_sample_size(log_w: Any, axis: int = 0) -> np.ndarray:
    """ESS = (Σ w)² / Σ w² = exp(2 logsumexp(log w) - logsumexp(2 log w)), from log-weights."""
    from scipy.special import logsumexp

    lw = _np(log_w)
    return np.exp(2 * logsumexp(lw, axis=axis) - logsumexp(2 * lw, axis=axis))


def is_log_stderr(ess: Any, n_samples: int) -> np.ndarray:
    """Delta-method standard error of an importance-sampled log p̂(y) from K weights:

        se ≈ sd(w) / (√K mean(w)) = √(1/ESS - 1/K)

    (the relative spread of the weights; it is only as trustworthy as the ESS itself)."""
    return np.sqrt(np.maximum(1.0 / _np(ess) - 1.0 / n_samples, 0.0))


def mc_stderr(values: Any, axis: int = 0) -> np.ndarray:
    """Standard error of a Monte Carlo mean: sd(values) / √n along ``axis`` (n ≥ 2 draws)."""
    v = _np(values)
    n = v.shape[axis]
    if n < 2:
        raise ValueError(f"mc_stderr needs at least 2 values along axis {axis}, got {n}")
    return v.std(axis=axis, ddof=1) / math.sqrt(n)
