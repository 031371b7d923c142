"""Control variates for the score-function estimator: baselines, and which keep it unbiased.

The talk's MCCV estimate subtracts a constant c from the learning signal:

    E_q[(f(z) - c) ∇_ξ log q(z)] = E_q[f(z) ∇_ξ log q(z)] - c E_q[∇_ξ log q(z)] = ∇_ξ E_q[f(z)],

because the score has mean zero: E_q[∇ log q] = ∫ ∇q = ∇ ∫ q = ∇ 1 = 0. The same holds for any c that
is *independent of the sample z it multiplies* (c may depend on x, on past samples, on other samples).
A c computed from the same z is not: E[c(z) ∇ log q(z)] ≠ 0 in general. Hence:

===========================  =================================================================  ==========
baseline                     c for sample i                                                     unbiased?
===========================  =================================================================  ==========
constant                     a number chosen in advance                                          yes
moving average               c_t = α c_{t-1} + (1-α) mean(f) of *earlier* steps                  yes
leave-one-out (K samples)    c_i = mean_{j≠i} f(z_j)                                             yes: z_j ⊥ z_i
batch mean (same samples)    c = mean_j f(z_j), including j = i                                  no: E = (1 - 1/K) ∇
optimal constant c*          c* = E[f s²] / E[s²], per parameter, s = ∇ log q                    yes if leave-one-out,
                             (estimated from the samples)                                        else O(1/K) bias
input-dependent (NVIL)       c(x) from a network of the input x (not of z)                       yes
===========================  =================================================================  ==========

With the batch mean, E[(f_i - f̄) s_i] = E[f_i s_i] - (1/K) E[f_i s_i] - (1/K) Σ_{j≠i} E[f_j] E[s_i]
= (1 - 1/K) ∇: exactly the leave-one-out estimate times (K-1)/K. Variance normalisation (NVIL) divides the
centred signal by a running estimate of its standard deviation: it rescales the gradient (like a step
size), it does not bias its direction.
"""
from __future__ import annotations

import numpy as np


def batch_mean(f: np.ndarray, leave_one_out: bool = True, axis: int = 0) -> np.ndarray:
    """The sample mean of the learning signal ``f`` as a baseline, one value per sample.

    ``leave_one_out=True``: c_i = (Σ_j f_j - f_i) / (K - 1), independent of sample i (unbiased; the
    "leave-one-out" baseline of K samples). ``False``: c = mean_j f_j for every i (biased by the factor
    1 - 1/K). Needs K ≥ 2 samples along ``axis``.
    """
    f = np.asarray(f, dtype=np.float64)
    k = f.shape[axis]
    if k < 2:
        raise ValueError(f"a baseline from the samples needs at least 2 of them, got {k}")
    total = f.sum(axis=axis, keepdims=True)
    if leave_one_out:
        return (total - f) / (k - 1)
    return np.broadcast_to(total / k, f.shape)


def optimal_coefficient(fs: np.ndarray, s: np.ndarray, leave_one_out: bool = True, axis: int = 0) -> np.ndarray:
    """The variance-optimal constant c* = E[f s²] / E[s²] for each parameter entry, estimated from K samples.

    ``fs`` are the per-sample plain score-function estimates (f s for an elementwise f) and ``s`` the
    per-sample scores ∇ log q, both of shape (K, *parameter shape). Var[fs - c s] = Var[fs] - 2c Cov[fs, s]
    + c² Var[s] is smallest at c* = Cov[fs, s] / Var[s] = E[fs · s] / E[s²] (since E[s] = 0).
    With ``leave_one_out=True`` sample i gets c* computed from the other K - 1 samples (unbiased), else
    all get the one c* (biased by O(1/K)). Entries where Σ s² = 0 get c = 0.
    """
    fs, s = np.asarray(fs, dtype=np.float64), np.asarray(s, dtype=np.float64)
    num, den = fs * s, s * s
    tot_num, tot_den = num.sum(axis=axis, keepdims=True), den.sum(axis=axis, keepdims=True)
    if leave_one_out:
        num, den = tot_num - num, tot_den - den
    else:
        num, den = np.broadcast_to(tot_num, fs.shape), np.broadcast_to(tot_den, fs.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


class MovingAverage:
    """An exponentially decaying average of the learning signal: c_t = α c_{t-1} + (1 - α) mean(f_t).

    Use ``value`` (built from earlier steps only, so unbiased) as the baseline at step t, then call
    ``update(f_t)``. The first ``update`` sets c to mean(f_1) (no bias towards the initial 0).
    """

    def __init__(self, decay: float = 0.9) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay}")
        self.decay = float(decay)
        self.value = 0.0
        self.steps = 0

    def update(self, f) -> float:
        m = float(np.mean(np.asarray(f, dtype=np.float64)))
        self.value = m if self.steps == 0 else self.decay * self.value + (1.0 - self.decay) * m
        self.steps += 1
        return self.value

    def __repr__(self) -> str:
        return f"MovingAverage(decay={self.decay}, value={self.value:.4g}, steps={self.steps})"
