"""Shared plumbing: a distribution's log-density of a latent vector, and the log importance weights.

minivi's ``log_prob`` is elementwise for the factorised families (``Normal``: one number per
coordinate), while ``MultivariateNormal`` (``event_shape = (d,)``) already sums over the vector.
``log_density`` hides that difference: it always returns log q(z) with the event axis summed.
"""
from __future__ import annotations

from typing import Callable

from ..autodiff import Tensor
from ..distributions import Distribution

LogLik = Callable[[Tensor], Tensor]


def log_density(dist: Distribution, z: Tensor) -> Tensor:
    """log q(z) for z of shape (S, *batch, d): the elementwise log_prob summed over the last axis."""
    lp = dist.log_prob(z)
    return lp if getattr(dist, "event_shape", ()) else lp.sum(axis=-1)


def reduce_event(value: Tensor, dist: Distribution) -> Tensor:
    """Sum an elementwise quantity (entropy, KL) over the event axis, unless ``dist`` already did."""
    return value if getattr(dist, "event_shape", ()) else value.sum(axis=-1)


def check_log_lik(out: Tensor, z: Tensor, who: str) -> Tensor:
    """``log_lik(z)`` must return one number per sample and datapoint: shape z.shape[:-1]."""
    if not isinstance(out, Tensor) or out.shape != z.shape[:-1]:
        got = out.shape if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"{who}: log_lik(z) must return a tensor of shape (S, *batch) = {z.shape[:-1]} for z of shape "
            f"{z.shape} (sum the likelihood over the observed dimensions, keep the sample axis), got {got}"
        )
    return out


def log_weights(log_lik: LogLik, proposal: Distribution, prior: Distribution | None, z: Tensor,
                who: str = "vi") -> Tensor:
    """log w = log p(y | z) + log p(z) - log q(z)  (or log p(y, z) - log q(z) when ``prior`` is None)."""
    lw = check_log_lik(log_lik(z), z, who) - log_density(proposal, z)
    return lw if prior is None else lw + log_density(prior, z)
