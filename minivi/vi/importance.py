"""Importance sampling for the marginal likelihood, the talk's "From IS to variational inference":

    p(y) = ∫ p(y | z) p(z) dz = E_q(z)[p(y | z) p(z) / q(z)] ≈ (1/K) Σₖ wₖ,   zₖ ~ q

unbiased for p(y) with any proposal q that covers the posterior; with the prior as proposal the
weights are the likelihoods, and almost all of them are negligible (a tiny effective sample size).
Jensen's inequality on log (1/K Σ wₖ) gives the importance-weighted bound L_K (``iwae_bound``).
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .. import autodiff as mv
from ..distributions import Distribution
from ._util import LogLik, log_weights
from .estimators import _np


class ISEstimate(NamedTuple):
    """log p̂(y) (*batch,) and the effective sample size of its weights (*batch,), both NumPy."""

    log_marginal: np.ndarray
    ess: np.ndarray


def log_marginal_is(log_lik: LogLik, proposal: Distribution, prior: Distribution | None, rng: Any,
                    n_samples: int = 1000, batch_size: int | None = None) -> ISEstimate:
    """log p̂(y) = log (1/K Σₖ wₖ), wₖ = p(y | zₖ) p(zₖ) / q(zₖ), zₖ ~ ``proposal``, per datapoint.

    Draws are taken ``batch_size`` at a time (memory O(batch_size), not O(K)); the running sums
    Σ w and Σ w² are kept as log-sum-exps, so nothing under- or overflows. Returns
    ``ISEstimate(log_marginal, ess)`` (unpack it as ``est, ess = ...``); see ``is_log_stderr``.
    ``prior=None`` means ``log_lik`` is the log-joint log p(y, z). The proposal's draws must have the full
    shape (K, *batch, d): to use the prior as proposal, give it the batch shape, ``Normal(mv.zeros(n, d), 1.0)``.
    """
    from scipy.special import logsumexp

    if n_samples < 1:
        raise ValueError(f"log_marginal_is: n_samples must be at least 1, got {n_samples}")
    batch_size = n_samples if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"log_marginal_is: batch_size must be at least 1, got {batch_size}")
    lse_w = lse_w2 = None
    done = 0
    with mv.no_grad():
        while done < n_samples:
            s = min(batch_size, n_samples - done)
            z = proposal.sample(rng, (s,))
            lw = _np(log_weights(log_lik, proposal, prior, z, "log_marginal_is"))   # (s, *batch)
            a, b = logsumexp(lw, axis=0), logsumexp(2 * lw, axis=0)
            lse_w = a if lse_w is None else np.logaddexp(lse_w, a)
            lse_w2 = b if lse_w2 is None else np.logaddexp(lse_w2, b)
            done += s
    return ISEstimate(lse_w - math.log(n_samples), np.exp(2 * lse_w - lse_w2))
