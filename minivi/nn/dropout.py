"""Dropout: multiply each activation by random noise while training; a regulariser.

Binary (inverted) dropout keeps each unit with probability 1 − p and rescales it:

    y = x ⊙ m / (1 − p),        m_i ~ Bernoulli(1 − p),       so E[y] = x.

Gaussian dropout uses multiplicative Gaussian noise with the same mean and variance
as the binary mask's m / (1 − p):

    y = x ⊙ ε,                  ε_i ~ N(1, α),  α = p / (1 − p).

In evaluation mode (``model.eval()``) both are the identity. Dropout can be read as
approximate Bayesian inference over the weights (Gal & Ghahramani, 2015).
"""
from __future__ import annotations

import math

import numpy as np

from ..autodiff.random import default_rng, rand, randn, rng_device
from ..autodiff.tensor import Tensor
from .module import Module


class Dropout(Module):
    """Binary or Gaussian dropout with drop rate ``p``; the identity in eval mode.

    Parameters
    ----------
    p : float
        Drop probability, 0 ≤ p < 1 (Gaussian: noise variance α = p / (1 − p)).
    kind : {"binary", "gaussian"}
    rng : numpy.random.Generator or int
        Where the noise comes from (an int is used as a seed). The module keeps it, so
        the sequence of masks is reproducible.
    """

    def __init__(self, p: float = 0.5, kind: str = "binary", *, rng):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout needs 0 <= p < 1 (the probability of dropping a unit), got p={p}")
        if kind not in ("binary", "gaussian"):
            raise ValueError(f"Dropout kind must be 'binary' or 'gaussian', got {kind!r}")
        self.p = float(p)
        self.kind = kind
        self.rng = default_rng(rng) if isinstance(rng, (int, np.integer)) else rng
        rng_device(self.rng)  # a clear TypeError now rather than at the first forward pass

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.kind == "binary":
            keep = rand(x.shape, rng=self.rng, dtype=x.dtype).data >= self.p      # m ~ Bernoulli(1 − p)
            noise = keep.astype(x.dtype) * (1.0 / (1.0 - self.p))                 # m / (1 − p)
        else:
            alpha = self.p / (1.0 - self.p)
            noise = 1.0 + math.sqrt(alpha) * randn(x.shape, rng=self.rng, dtype=x.dtype).data  # ε ~ N(1, α)
        return x * Tensor(noise, dtype=x.dtype)

    def _moved_to(self, device: str) -> None:
        if rng_device(self.rng) != device:  # a new generator on the new device, seeded from the old one
            self.rng = default_rng(int(self.rng.integers(2**31)), device=device)

    def extra_repr(self) -> str:
        return f"p={self.p}, kind={self.kind!r}"
