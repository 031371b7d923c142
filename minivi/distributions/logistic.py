"""The Logistic distribution: a location-scale family whose inverse CDF is the logit."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Logistic(Distribution):
    """Logistic(loc, scale) elementwise: CDF F(y) = σ((y - μ)/s).

        log p(y) = -z - log s - 2 softplus(-z),      z = (y - μ)/s

    ``rsample`` is location-scale with the inverse CDF of the standard logistic:
    y = μ + s (log u - log(1 - u)), u ~ U(0, 1).
    """

    params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(loc=loc, scale=scale)
        self._check(self.scale.data > 0, "scale must be positive; parameterise it as exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        z = (y - self.loc) / self.scale
        return -z - mv.log(self.scale) - 2.0 * mv.softplus(-z)

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        u = _open_uniform(self, rng, sample_shape)
        xp = self._xp()
        eps = self._wrap(xp.log(u) - xp.log1p(-u))           # F⁻¹(u) of the standard logistic
        return self.loc + self.scale * eps

    def cdf(self, value: Any) -> Tensor:
        return mv.sigmoid((self._value(value) - self.loc) / self.scale)

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self.loc, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """s² π² / 3."""
        return mv.broadcast_to(self.scale * self.scale * (math.pi**2 / 3.0), shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = log s + 2."""
        return mv.broadcast_to(mv.log(self.scale) + 2.0, shape=self.batch_shape)


def _open_uniform(dist: Distribution, rng: Any, sample_shape: int | Shape):
    """u ~ U(0, 1) kept strictly inside (0, 1), so log u and log(1 - u) are finite (float64 draws)."""
    u = rng.random(dist._shape(rng, sample_shape))
    xp = dist._xp()
    info = np.finfo(np.float64)
    return xp.clip(u, info.tiny, 1.0 - info.epsneg)
