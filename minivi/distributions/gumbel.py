"""The Gumbel distribution (of maxima), reparameterised by its inverse CDF."""
from __future__ import annotations

import math
from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape
from .logistic import _open_uniform

EULER_GAMMA = 0.5772156649015329


class Gumbel(Distribution):
    """Gumbel(loc μ, scale β): CDF F(y) = exp(-e^{-(y - μ)/β}).

        log p(y) = -(z + e^{-z}) - log β,        z = (y - μ)/β

    ``rsample`` is location-scale with the inverse CDF y = μ - β log(-log u), u ~ U(0, 1)
    (the noise of the Gumbel-max trick that ``Categorical.sample`` uses).
    """

    params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(loc=loc, scale=scale)
        self._check(self.scale.data > 0, "scale must be positive; parameterise it as exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        z = (y - self.loc) / self.scale
        return -(z + mv.exp(-z)) - mv.log(self.scale)

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        u = _open_uniform(self, rng, sample_shape)
        xp = self._xp()
        eps = self._wrap(-xp.log(-xp.log(u)))                  # F⁻¹(u) of the standard Gumbel
        return self.loc + self.scale * eps

    def cdf(self, value: Any) -> Tensor:
        return mv.exp(-mv.exp(-(self._value(value) - self.loc) / self.scale))

    @property
    def mean(self) -> Tensor:
        """μ + β γ (γ: the Euler-Mascheroni constant)."""
        return mv.broadcast_to(self.loc + EULER_GAMMA * self.scale, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """π² β² / 6."""
        return mv.broadcast_to(self.scale * self.scale * (math.pi**2 / 6.0), shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = log β + γ + 1."""
        return mv.broadcast_to(mv.log(self.scale) + (EULER_GAMMA + 1.0), shape=self.batch_shape)

