"""The Gamma distribution over positive reals (shape-rate parameterisation)."""
from __future__ import annotations

from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Gamma(Distribution):
    """Gamma(α, β) with concentration (shape) α and rate β; mean α/β.

        log p(y) = α log β + (α - 1) log y - β y - log Γ(α)

    ``sample`` has no reparameterised version here (``rsample`` raises).
    """

    params = ("concentration", "rate")

    def __init__(self, concentration: Any, rate: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(concentration=concentration, rate=rate)
        self._check(self.concentration.data > 0, "concentration must be positive")
        self._check(self.rate.data > 0, "rate must be positive")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check(y.data > 0, "values must be positive (the support is y > 0)")
        a, b = self.concentration, self.rate
        return a * mv.log(b) + (a - 1.0) * mv.log(y) - b * y - mv.gammaln(a)

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape)
        a = self._xp().broadcast_to(self.concentration.data, shape)
        return self._wrap(rng.standard_gamma(a) / self.rate.data)

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self.concentration / self.rate, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return mv.broadcast_to(self.concentration / (self.rate * self.rate), shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = α - log β + log Γ(α) + (1 - α) ψ(α)."""
        a = self.concentration
        h = a - mv.log(self.rate) + mv.gammaln(a) + (1.0 - a) * mv.digamma(a)
        return mv.broadcast_to(h, shape=self.batch_shape)
