"""The Dirichlet distribution over the probability simplex: the conjugate prior of a Categorical."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape, _as_tensor


def log_gamma_draws(rng: Any, xp: Any, a: Any) -> Any:
    """log g with g ~ Gamma(a, 1) elementwise, exact even where g itself underflows (a ≪ 1):
    g = g' u^{1/a} with g' ~ Gamma(a + 1), u ~ U(0, 1), so log g = log g' + (log u)/a."""
    return xp.log(rng.standard_gamma(a + 1.0)) + xp.log(rng.random(a.shape)) / a


class Dirichlet(Distribution):
    """Dir(α) over K-vectors y with yₖ > 0 and Σₖ yₖ = 1; ``concentration`` α has shape batch + (K,).

        log p(y) = Σₖ (αₖ - 1) log yₖ + log Γ(α₀) - Σₖ log Γ(αₖ),        α₀ = Σₖ αₖ

    The last axis indexes the K components (an *event* axis, like Categorical's classes), so
    ``log_prob``, ``entropy`` and ``kl_divergence`` return shape batch, while ``mean``,
    ``variance`` and samples have shape batch + (K,).

    ``sample`` normalises Gamma draws, y = g / Σ g with gₖ ~ Gamma(αₖ, 1), in log space:
    log gₖ = log g'ₖ + (log uₖ)/αₖ with g'ₖ ~ Gamma(αₖ + 1) and uₖ ~ U(0, 1), which stays exact
    for αₖ ≪ 1 where the draws themselves underflow to 0. Entries are clipped to the dtype's
    smallest normal number (as PyTorch does) so log_prob of a sample is finite. There is no
    ``rsample``: it would need the implicit gradient of a Gamma draw, which this engine lacks.
    """

    params = ("concentration",)

    def __init__(self, concentration: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(event_dims={"concentration": 1}, concentration=concentration)
        self._check(self.concentration.data > 0, "concentration must be positive; use exp(·) of a free tensor")
        self.n_components = self.concentration.shape[-1]
        if self.n_components < 2:
            raise ValueError(f"Dirichlet: concentration needs K ≥ 2 components on its last axis, got shape "
                             f"{self.concentration.shape}; for one probability use Beta")

    def _simplex_value(self, value: Any) -> Tensor:
        """A value of shape batch + (K,) on the simplex (checked)."""
        name = type(self).__name__
        if isinstance(value, Tensor):
            self._follow(value, "the value")
        else:
            value = _as_tensor(value, f"{name}.log_prob(value)", self._like)
        if value.ndim < 1 or value.shape[-1] != self.n_components:
            raise ValueError(f"{name}.log_prob: values need a last axis of K = {self.n_components} components, "
                             f"got shape {value.shape}")
        self._broadcast(value=value.shape[:-1], batch_shape=self.batch_shape)
        y = value.data
        xp = self._xp()
        self._check(xp.isfinite(y), "log_prob(value): the value contains NaN or inf")
        self._check(y > 0, "values must be positive in every component (clip to the dtype's tiny number)")
        tol = 1e3 * float(np.finfo(self.dtype).eps)
        self._check(xp.abs(y.sum(axis=-1) - 1) < tol, f"values must sum to 1 along the last axis (within {tol:.1e})")
        return value

    def log_prob(self, value: Any) -> Tensor:
        y = self._simplex_value(value)
        a = self.concentration
        return (((a - 1.0) * mv.log(y)).sum(axis=-1) + mv.gammaln(a.sum(axis=-1))
                - mv.gammaln(a).sum(axis=-1))

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape) + (self.n_components,)  # checks rng first
        xp = self._xp()
        a = xp.broadcast_to(self.concentration.data, shape).astype(np.float64)
        log_g = log_gamma_draws(rng, xp, a)
        log_g -= log_g.max(axis=-1, keepdims=True)
        y = xp.exp(log_g)
        y /= y.sum(axis=-1, keepdims=True)
        return self._wrap(xp.maximum(y.astype(self.dtype), np.finfo(self.dtype).tiny))

    @property
    def mean(self) -> Tensor:
        """αₖ / α₀ (shape batch + (K,))."""
        a = self.concentration
        return mv.broadcast_to(a / a.sum(axis=-1, keepdims=True), shape=self.batch_shape + (self.n_components,))

    @property
    def variance(self) -> Tensor:
        """αₖ (α₀ - αₖ) / (α₀² (α₀ + 1)) (shape batch + (K,))."""
        a = self.concentration
        a0 = a.sum(axis=-1, keepdims=True)
        v = a * (a0 - a) / (a0 * a0 * (a0 + 1.0))
        return mv.broadcast_to(v, shape=self.batch_shape + (self.n_components,))

    def entropy(self) -> Tensor:
        """H = log B(α) + (α₀ - K) ψ(α₀) - Σₖ (αₖ - 1) ψ(αₖ),  log B(α) = Σₖ log Γ(αₖ) - log Γ(α₀)."""
        a = self.concentration
        a0 = a.sum(axis=-1)
        log_b = mv.gammaln(a).sum(axis=-1) - mv.gammaln(a0)
        h = log_b + (a0 - float(self.n_components)) * mv.digamma(a0) - ((a - 1.0) * mv.digamma(a)).sum(axis=-1)
        return mv.broadcast_to(h, shape=self.batch_shape)
