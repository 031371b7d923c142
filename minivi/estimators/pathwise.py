"""The pathwise estimator (reparameterisation, stochastic backpropagation).

The talk's slide: write the sample as a deterministic, differentiable function of the parameters
and of noise that does not depend on them,

    z = g(ξ, ε),  ε ~ p(ε)         (Normal: z = μ + σ ε, ε ~ N(0, 1);  inverse CDF: z = F_ξ⁻¹(u), u ~ U(0, 1))

so that the gradient can go inside the expectation:

    ∇_ξ E_{q_ξ(z)}[f(z)] = ∇_ξ E_{p(ε)}[f(g(ξ, ε))] = E_{p(ε)}[∇_ξ f(g(ξ, ε))].

One sample of ε gives an unbiased estimate ∇_ξ f(g(ξ, ε)) — backpropagation through the sampler.
It needs f differentiable in z (a step function has gradient 0 almost everywhere: the estimate
would be 0, which is wrong) and a reparameterisable q (``q.rsample``; not Bernoulli or Categorical).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autodiff import Tensor
from ..distributions import Distribution
from .per_sample import expand_params, per_sample_grads


def pathwise_grads(f: Callable[[Tensor], Tensor], q: Distribution, n: int, rng: Any) -> dict[str, np.ndarray]:
    """n single-sample pathwise estimates of ∇ E_q[f(z)], one backward pass for all of them.

    Returns ``{parameter name: array of shape (n, *parameter shape)}``.
    """
    q_n, leaves = expand_params(q, n)
    try:
        z = q_n.rsample(rng)                                   # (n, *batch), differentiable in every leaf
    except NotImplementedError:
        raise ValueError(
            f"method='pathwise' needs a reparameterised sampler (q.rsample) and {type(q).__name__} has none "
            "(no differentiable path from its parameters to a sample); use method='score', which only needs log_prob"
        ) from None
    fz = f(z)
    if not isinstance(fz, Tensor) or not fz.requires_grad:
        raise TypeError(
            "method='pathwise' differentiates f(z) with respect to z, so f must be written with minivi operations "
            "(mv.sin(z), z * z, ...) and return a Tensor that depends on z; got "
            f"{type(fz).__name__}{'' if not isinstance(fz, Tensor) else ' with no gradient'}. "
            "For an f you cannot differentiate use method='score'."
        )
    check_values(fz, n, q.batch_shape)
    shapes = {k: parameter_shape(q, k) for k in leaves}
    return per_sample_grads(fz.sum(), leaves, shapes, n)


def parameter_shape(q: Distribution, name: str) -> tuple:
    return tuple(getattr(q, name).shape)


def check_values(fz: Any, n: int, batch_shape: tuple) -> None:
    """f must return one value per sample: shape (n, *batch_shape), or (n,) for one total per sample."""
    shape = tuple(np.shape(fz.data if isinstance(fz, Tensor) else fz))
    if shape not in ((n,) + tuple(batch_shape), (n,)):
        raise ValueError(
            f"f returned shape {shape} for samples of shape {(n,) + tuple(batch_shape)}: it must return one value per "
            f"sample, shape {(n,) + tuple(batch_shape)} (elementwise) or ({n},); do not average over the samples"
        )
