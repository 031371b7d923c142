"""The importance-weighted bound (Burda, Grosse & Salakhutdinov, 2016):

    L_K = E[log (1/K Σₖ wₖ)],   wₖ = p(y, zₖ) / q(zₖ),  z₁..z_K ~ q

L_1 = F (the free energy), L_K ≤ L_{K+1} ≤ log p(y), and L_K → log p(y) as K → ∞: Jensen's gap
closes as the average inside the log concentrates. One draw of the estimator is differentiable
(reparameterised z), so it can be maximised like F.
"""
from __future__ import annotations

from typing import Any

from ..autodiff import Tensor
from ..distributions import Distribution
from ._util import LogLik, log_weights
from .estimators import log_mean_exp


def iwae_bound(log_lik: LogLik, q: Distribution, prior: Distribution | None, rng: Any, n_samples: int) -> Tensor:
    """One unbiased draw of L_K (K = ``n_samples``) per datapoint: a differentiable tensor (*batch,)."""
    if n_samples < 1:
        raise ValueError(f"iwae_bound: n_samples (K) must be at least 1, got {n_samples}")
    z = q.rsample(rng, (n_samples,))                         # (K, *batch, d)
    return log_mean_exp(log_weights(log_lik, q, prior, z, "iwae_bound"), axis=0)
