"""Ordered categories by cumulative logits (the proportional-odds or ordinal logistic model)."""
from __future__ import annotations

from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape, integer_labels, take_class


class OrderedLogistic(Distribution):
    """y ∈ {0, …, K-1} ordered, from a score η and K-1 increasing cutpoints φ₀ < … < φ_{K-2}:

        P(y ≤ k) = σ(φ_k - η),        P(y = k) = σ(φ_k - η) - σ(φ_{k-1} - η)

    with φ_{-1} = -∞ and φ_{K-1} = +∞. A larger η shifts mass to higher classes. The
    difference of two sigmoids is taken in log space through the identity
    σ(b) - σ(a) = σ(b) σ(-a) (1 - e^{a-b}):

        log P(y = k) = log σ(φ_k - η) + log σ(η - φ_{k-1}) + log(1 - e^{φ_{k-1} - φ_k})

    every term finite for any η (the last one does not depend on η at all).
    ``cutpoints`` has shape (..., K-1); its leading axes broadcast with ``eta``.
    """

    params = ("eta", "cutpoints")

    def __init__(self, eta: Any, cutpoints: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(event_dims={"cutpoints": 1}, eta=eta, cutpoints=cutpoints)
        self.n_classes = self.cutpoints.shape[-1] + 1
        c = self.cutpoints.data
        self._check(self._xp().diff(c, axis=-1) > 0, f"cutpoints must be strictly increasing, got {c}")

    @property
    def log_probs(self) -> Tensor:
        """log P(y = k) for every class k: shape batch + (K,)."""
        c = self.cutpoints
        inf = mv.full(c.shape[:-1] + (1,), float("inf"), dtype=c.dtype, device=c.device)
        lower = mv.concatenate([-inf, c], axis=-1)  # φ_{k-1}
        upper = mv.concatenate([c, inf], axis=-1)   # φ_k
        eta = mv.expand_dims(self.eta, -1)
        return mv.log_sigmoid(upper - eta) + mv.log_sigmoid(eta - lower) + mv.log(-mv.expm1(lower - upper))

    @property
    def cdf(self) -> Tensor:
        """P(y ≤ k) = σ(φ_k - η) for k = 0..K-2: shape batch + (K-1,)."""
        return mv.sigmoid(self.cutpoints - mv.expand_dims(self.eta, -1))

    @property
    def probs(self) -> Tensor:
        return mv.exp(self.log_probs)

    def log_prob(self, value: Any) -> Tensor:
        return take_class(self.log_probs, integer_labels(self, value, self.n_classes))

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """Inverse CDF: y = #{k : u > P(y ≤ k)} with u ~ U(0, 1)."""
        shape = self._shape(rng, sample_shape)
        u = rng.random(shape + (1,))
        return self._wrap((u > self.cdf.data).sum(axis=-1))

    @property
    def mean(self) -> Tensor:
        """E[y] = Σₖ P(y > k) = Σₖ σ(η - φ_k)."""
        return mv.sigmoid(mv.expand_dims(self.eta, -1) - self.cutpoints).sum(axis=-1)

    @property
    def variance(self) -> Tensor:
        """Σₖ k² P(y = k) - E[y]²."""
        k = mv.arange(self.n_classes, dtype=self.dtype, device=self.device)
        m = self.mean
        return (self.probs * k * k).sum(axis=-1) - m * m

    def entropy(self) -> Tensor:
        """H = -Σₖ P(y = k) log P(y = k)."""
        lp = self.log_probs
        return -(mv.exp(lp) * lp).sum(axis=-1)
