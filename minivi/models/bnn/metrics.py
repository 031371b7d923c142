"""Predictive metrics: how good and how honest are a model's predictive probabilities?

For classification with predictive probabilities p̂ₙ = p(y | xₙ, D) (averaged over weight samples):

* test log-likelihood (per digit)  (1/N) Σₙ log p̂ₙ[yₙ]   (higher is better; punishes confident mistakes);
* error                            (1/N) Σₙ [argmax p̂ₙ ≠ yₙ];
* expected calibration error       ECE = Σ_b (|B_b|/N) |acc(B_b) − conf(B_b)|, bins of the confidence max p̂ₙ
  (Naeini et al. 2015, Guo et al. 2017); the reliability diagram plots acc(B_b) against conf(B_b);
* predictive entropy               H[p̂ₙ] = −Σ_k p̂ₙₖ log p̂ₙₖ (0: certain, log K: knows nothing).

For regression with S Gaussian predictions N(m_s, σ_s²), the predictive density is their mixture.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp


def _probs(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"expected predictive probabilities of shape (n, classes), got {probs.shape}: average the "
                         "Monte Carlo samples first (probs.mean(axis=0))")
    return probs


def log_predictive(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log p̂ₙ[yₙ] per example, shape (n,) (floored at log 1e-300 so a 0 stays finite)."""
    probs = _probs(probs)
    return np.log(np.maximum(probs[np.arange(len(probs)), np.asarray(y)], 1e-300))


def error_rate(probs: np.ndarray, y: np.ndarray) -> float:
    """The fraction of examples whose most probable class is wrong."""
    return float(np.mean(_probs(probs).argmax(axis=1) != np.asarray(y)))


def reliability_diagram(probs: np.ndarray, y: np.ndarray, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Equal-width bins of the confidence max p̂ₙ on [0, 1]: per bin the mean confidence, the accuracy and the
    count (empty bins hold NaN and 0), and the bin edges."""
    probs = _probs(probs)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)   # bin b holds (e_b, e_{b+1}]
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(which, weights=correct.astype(float), minlength=n_bins) / count
    return {"confidence": confidence, "accuracy": accuracy, "count": count, "edges": edges}


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """ECE = Σ_b (|B_b| / N) |acc(B_b) − conf(B_b)| over ``n_bins`` equal-width confidence bins."""
    d = reliability_diagram(probs, y, n_bins)
    full = d["count"] > 0
    return float(np.sum(d["count"][full] * np.abs(d["accuracy"][full] - d["confidence"][full])) / d["count"].sum())


def predictive_entropy(probs: np.ndarray) -> np.ndarray:
    """H[p̂ₙ] = −Σ_k p̂ₙₖ log p̂ₙₖ per example, in nats (0 log 0 = 0)."""
    probs = _probs(probs)
    return -np.sum(np.where(probs > 0, probs * np.log(np.where(probs > 0, probs, 1.0)), 0.0), axis=1)


def gaussian_predictive_log_likelihood(means: np.ndarray, stds: np.ndarray | float, y: np.ndarray) -> np.ndarray:
    """log (1/S) Σ_s N(yₙ; m_sn, σ_sn²) per point, shape (n,): the Monte Carlo predictive density of
    regression targets; ``means`` is (S, n), ``stds`` broadcasts against it (e.g. the noise std)."""
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), means.shape)
    z = (np.asarray(y, dtype=np.float64) - means) / stds
    log_n = -0.5 * z**2 - np.log(stds) - 0.5 * math.log(2 * math.pi)
    return logsumexp(log_n, axis=0) - math.log(len(means))


def mean_and_se(values: np.ndarray, axis: int = 0) -> tuple[float, float]:
    """The mean of ``values`` and its standard error std / √n."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis]
    return float(values.mean(axis=axis)), float(values.std(axis=axis, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
