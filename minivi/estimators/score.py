"""The score-function estimator (likelihood ratio, REINFORCE), with a baseline.

The talk's "property of the score function", ∇_ξ log q_ξ(z) = ∇_ξ q_ξ(z) / q_ξ(z), moves the
gradient from the expectation onto the density:

    ∇_ξ E_q[f(z)] = ∫ f(z) ∇_ξ q(z) dz = ∫ f(z) q(z) ∇_ξ log q(z) dz = E_q[f(z) ∇_ξ log q(z)],

and with a control variate c (the MCCV estimate): E_q[(f(z) - c) ∇_ξ log q(z)]. It needs only
``log_prob``: f may be non-differentiable (a step) and z discrete (Bernoulli, Categorical).

In code the estimate is the gradient of a *surrogate*, stop_gradient(f(z) - c) · log q(z):
the signal is a constant weight, so backprop differentiates log q only.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..distributions import Distribution
from .baselines import batch_mean, optimal_coefficient
from .pathwise import check_values, parameter_shape
from .per_sample import expand_params, per_sample_grads


def score_surrogate(signal: Any, log_q: Tensor) -> Tensor:
    """stop_gradient(signal) · log q: its gradient is the score-function estimate (sum it, then backward)."""
    signal = signal.detach() if isinstance(signal, Tensor) else mv.tensor(signal, dtype=log_q.dtype, device=log_q.device)
    return signal * log_q


def score_grads(f: Callable[[Tensor], Any], q: Distribution, n: int, rng: Any, baseline: Any = None,
                leave_one_out: bool = True) -> dict[str, np.ndarray]:
    """n single-sample score-function estimates of ∇ E_q[f(z)], vectorised over the samples.

    ``baseline``: None; a number or array (a constant c, broadcast against q's batch shape); ``"mean"``
    (the mean of f over the n samples); ``"optimal"`` (c* = E[f s²] / E[s²] per parameter entry, estimated
    from the n samples). For ``"mean"`` and ``"optimal"``, ``leave_one_out=True`` computes sample i's
    baseline from the other n - 1 samples, which keeps every estimate unbiased; ``False`` uses all n
    (biased: by the factor 1 - 1/n for "mean"). See ``minivi.estimators.baselines``.
    Leave-one-out makes the n estimates slightly dependent; their mean is still unbiased.
    """
    q_n, leaves = expand_params(q, n)
    z = q_n.sample(rng)                                        # (n, *batch): a constant, no gradient through z
    with mv.no_grad():
        fz = f(z)
    check_values(fz, n, q.batch_shape)
    fv = np.asarray(fz.numpy() if isinstance(fz, Tensor) else fz, dtype=np.float64)
    log_q = q_n.log_prob(z)                                    # (n, *batch)
    fv = fv.reshape(fv.shape + (1,) * (log_q.ndim - fv.ndim))
    shapes = {k: parameter_shape(q, k) for k in leaves}

    if isinstance(baseline, str) and baseline == "optimal":
        fs = per_sample_grads((score_surrogate(fv, log_q)).sum(), leaves, shapes, n, retain_graph=True)
        s = per_sample_grads(log_q.sum(), leaves, shapes, n)
        out = {}
        for k in leaves:
            c = optimal_coefficient(fs[k], s[k], leave_one_out=leave_one_out)
            out[k] = fs[k] - c * s[k]
        return out
    if baseline is None:
        c = 0.0
    elif isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"baseline must be None, a number, 'mean' or 'optimal'; got {baseline!r}")
        c = batch_mean(fv, leave_one_out=leave_one_out)
    else:
        try:
            c = np.asarray(baseline, dtype=np.float64)
            np.broadcast_shapes(c.shape, tuple(q.batch_shape))
        except (TypeError, ValueError):
            raise ValueError(
                f"a constant baseline must be a number or an array broadcasting to q's batch shape "
                f"{tuple(q.batch_shape)}; got {baseline!r}"
            ) from None
    return per_sample_grads(score_surrogate(fv - c, log_q).sum(), leaves, shapes, n)
