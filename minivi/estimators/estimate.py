"""``grad_samples``: the chapter's one entry point to every estimator."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autodiff import Tensor
from ..distributions import Distribution
from .pathwise import pathwise_grads
from .score import score_grads


def grad_samples(f: Callable[[Tensor], Any], q: Distribution, n: int, rng: Any, method: str = "pathwise",
                 baseline: Any = None, leave_one_out: bool = True) -> dict[str, np.ndarray]:
    """n independent single-sample estimates of ∇ E_{q(z)}[f(z)] for every parameter of ``q``.

    Parameters
    ----------
    f : callable
        Takes a Tensor of samples of shape ``(n, *q.batch_shape)`` and returns one value per sample, the
        same shape (each row from its own sample only; never average over the samples). For
        ``"pathwise"`` it must be written with minivi operations (it is differentiated).
    q : Distribution
        Its parameter tensors that require gradients are the ones differentiated (e.g.
        ``Normal(mv.tensor(1.0, requires_grad=True), mv.tensor(1.0, requires_grad=True))``).
    n : int
        How many single-sample estimates.
    rng : numpy.random.Generator
    method : "pathwise" or "score"
        Reparameterisation (``q.rsample``) or the score function (``q.log_prob`` only).
    baseline : None, a number, "mean" or "optimal"
        Score function only (see :func:`minivi.estimators.score.score_grads`).
    leave_one_out : bool
        For "mean" and "optimal": sample i's baseline from the other n - 1 samples (unbiased).

    Returns
    -------
    dict
        ``{parameter name: NumPy array of shape (n, *parameter shape)}``. Their mean over axis 0 is the
        n-sample estimate, their variance the single-sample estimator's variance. Computed in ONE
        vectorised backward pass (parameters expanded over the sample axis; see ``per_sample``).

    Examples
    --------
    >>> import minivi as mv
    >>> from minivi import estimators
    >>> from minivi.distributions import Normal
    >>> q = Normal(mv.tensor(1.0, requires_grad=True, dtype="float64"), mv.tensor(1.0, requires_grad=True, dtype="float64"))
    >>> g = estimators.grad_samples(lambda z: (z - 1.0) ** 2, q, 100_000, mv.default_rng(0), method="pathwise")
    >>> sorted(g), g["loc"].shape
    (['loc', 'scale'], (100000,))
    """
    if method == "pathwise":
        if baseline is not None:
            raise ValueError("a baseline is for method='score'; the pathwise estimator has none here")
        return pathwise_grads(f, q, n, rng)
    if method == "score":
        return score_grads(f, q, n, rng, baseline=baseline, leave_one_out=leave_one_out)
    raise ValueError(f"method must be 'pathwise' or 'score', got {method!r}")
