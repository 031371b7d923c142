"""The Exponential distribution, reparameterised by its inverse CDF."""
from __future__ import annotations

from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Exponential(Distribution):
    """Exponential(rate λ) over y ≥ 0: CDF F(y) = 1 - e^{-λy}.

        log p(y) = log λ - λ y

    ``rsample`` is the inverse-CDF transform the talk mentions ("other known transformations,
    such as the CDF"): y = F⁻¹(u) = -log(1 - u) / λ with u ~ U[0, 1), differentiable in λ
    (∂y/∂λ = -y/λ).
    """

    params = ("rate",)

    def __init__(self, rate: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(rate=rate)
        self._check(self.rate.data > 0, "rate must be positive; parameterise it as exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check(y.data >= 0, "values must be ≥ 0 (the support is y ≥ 0)")
        return mv.log(self.rate) - self.rate * y

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        u = rng.random(self._shape(rng, sample_shape))       # in [0, 1): log(1 - u) is finite
        e = self._wrap(-self._xp().log1p(-u))
        return e / self.rate                                   # F⁻¹(u) = -log(1 - u) / λ

    def cdf(self, value: Any) -> Tensor:
        return -mv.expm1(-self.rate * self._value(value))

    @property
    def mean(self) -> Tensor:
        """1 / λ."""
        return mv.broadcast_to(1.0 / self.rate, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """1 / λ²."""
        return mv.broadcast_to(1.0 / (self.rate * self.rate), shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = 1 - log λ."""
        return mv.broadcast_to(1.0 - mv.log(self.rate), shape=self.batch_shape)
