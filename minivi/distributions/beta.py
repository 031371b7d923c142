"""The Beta distribution over (0, 1): the conjugate prior of a Bernoulli probability."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape
from .dirichlet import log_gamma_draws
from .special import log_beta_fn


class Beta(Distribution):
    """Beta(α, β) with ``concentration1`` = α and ``concentration0`` = β (PyTorch's names); mean α/(α + β).

        log p(y) = (α - 1) log y + (β - 1) log(1 - y) - log B(α, β)

    with log(1 - y) by ``log1p(-y)`` (accurate for small y) and log B by ``special.log_beta_fn``
    (no Γ overflow, and no cancellation when α + β is huge).
    Values must lie strictly inside (0, 1). ``sample`` draws two Gammas in log space (exact for
    α, β ≪ 1) and clips to [tiny, 1 - eps] of the dtype (as PyTorch does), so a draw is never
    exactly 0 or 1, even in float32.
    There is no ``rsample``: its reparameterisation needs the implicit gradient of a Gamma draw,
    which this engine does not have (use ``sample`` with a score-function estimator).
    """

    params = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(concentration1=concentration1, concentration0=concentration0)
        self._check(self.concentration1.data > 0, "concentration1 (α) must be positive; use exp(·) of a free tensor")
        self._check(self.concentration0.data > 0, "concentration0 (β) must be positive; use exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check((y.data > 0) & (y.data < 1), "values must lie strictly inside (0, 1) (clip them to [ε, 1 - ε])")
        a, b = self.concentration1, self.concentration0
        return (a - 1.0) * mv.log(y) + (b - 1.0) * mv.log1p(-y) - log_beta_fn(a, b)

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """y = g₁ / (g₁ + g₀) with gᵢ ~ Gamma(concentrationᵢ), from log-space draws: y = σ(log g₁ - log g₀)."""
        shape = self._shape(rng, sample_shape)  # checks rng first
        xp = self._xp()
        log_g1 = log_gamma_draws(rng, xp, xp.broadcast_to(self.concentration1.data, shape).astype(np.float64))
        log_g0 = log_gamma_draws(rng, xp, xp.broadcast_to(self.concentration0.data, shape).astype(np.float64))
        y = 1.0 / (1.0 + xp.exp(log_g0 - log_g1))
        info = np.finfo(self.dtype)
        return self._wrap(xp.clip(y.astype(self.dtype), info.tiny, 1 - info.eps))

    @property
    def mean(self) -> Tensor:
        """α / (α + β)."""
        a, b = self.concentration1, self.concentration0
        return mv.broadcast_to(a / (a + b), shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """α β / ((α + β)² (α + β + 1))."""
        a, b = self.concentration1, self.concentration0
        s = a + b
        return mv.broadcast_to(a * b / (s * s * (s + 1.0)), shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = log B(α, β) - (α - 1) ψ(α) - (β - 1) ψ(β) + (α + β - 2) ψ(α + β)."""
        a, b = self.concentration1, self.concentration0
        h = (log_beta_fn(a, b) - (a - 1.0) * mv.digamma(a) - (b - 1.0) * mv.digamma(b)
             + (a + b - 2.0) * mv.digamma(a + b))
        return mv.broadcast_to(h, shape=self.batch_shape)
