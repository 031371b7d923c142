"""The Laplace distribution: the prior behind L1 regularisation."""
from __future__ import annotations

import math
from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Laplace(Distribution):
    """Laplace(loc, scale) elementwise.

        log p(y) = -|y - μ| / b - log 2b

    ``rsample`` is y = μ + b (E₁ - E₂) with E₁, E₂ ~ Exponential(1): the difference of two
    independent exponentials is a standard Laplace variable.
    """

    params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(loc=loc, scale=scale)
        self._check(self.scale.data > 0, "scale must be positive; parameterise it as exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        return -mv.abs(y - self.loc) / self.scale - mv.log(self.scale) - math.log(2.0)

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape)
        eps = self._wrap(rng.standard_exponential(shape) - rng.standard_exponential(shape))
        return self.loc + self.scale * eps

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self.loc, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """2 b²."""
        return mv.broadcast_to(2.0 * self.scale * self.scale, shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = 1 + log 2b."""
        return mv.broadcast_to(1.0 + math.log(2.0) + mv.log(self.scale), shape=self.batch_shape)
