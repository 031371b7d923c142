"""The Normal distribution, and the Normal censored from below (the Tobit model's likelihood)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import LOG_SQRT_2PI, Distribution, Shape

_SCALE_HINT = "parameterise it as exp(·) or softplus(·) of a free tensor"


class Normal(Distribution):
    """N(loc, scale²) elementwise: a Gaussian with diagonal covariance.

        log p(y) = -½ ((y - μ)/σ)² - log σ - ½ log 2π

    ``rsample`` is the reparameterisation y = μ + σ ε with ε ~ N(0, 1).
    """

    params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(loc=loc, scale=scale)
        self._check(self.scale.data > 0, f"scale must be positive; {_SCALE_HINT}")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        z = (y - self.loc) / self.scale
        return -0.5 * z * z - mv.log(self.scale) - LOG_SQRT_2PI

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape)  # checks rng first
        eps = self._wrap(rng.standard_normal(shape))
        return self.loc + self.scale * eps

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self.loc, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return mv.broadcast_to(self.scale * self.scale, shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = ½ log(2πe σ²) = ½ + ½ log 2π + log σ."""
        return mv.broadcast_to(0.5 + LOG_SQRT_2PI + mv.log(self.scale), shape=self.batch_shape)


class CensoredNormal(Distribution):
    """The Tobit likelihood: y = max(lower, y*) with y* ~ N(loc, scale²).

    Values at the censoring point carry the probability of everything below it;
    values above it carry the Normal density:

        log p(y) = log Φ((lower - μ)/σ)                    if y = lower
                 = -½ ((y - μ)/σ)² - log σ - ½ log 2π        if y > lower

    (log Φ by ``log_ndtr``: finite even 10⁴ standard deviations away.)
    """

    params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, lower: float = 0.0, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(loc=loc, scale=scale)
        if isinstance(lower, (str, bytes)) or not isinstance(lower, (int, float, np.number)):
            raise TypeError(f"CensoredNormal: lower must be a number (the censoring point), got {lower!r}")
        self.lower = float(lower)
        self._check(self.scale.data > 0, f"scale must be positive; {_SCALE_HINT}")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check(y.data >= self.lower, f"values must be ≥ lower = {self.lower} (y = max(lower, y*))")
        censored = y.data <= self.lower
        log_cdf = mv.log_ndtr((self.lower - self.loc) / self.scale)
        z = (y - self.loc) / self.scale
        return mv.where(censored, log_cdf, -0.5 * z * z - mv.log(self.scale) - LOG_SQRT_2PI)

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """max(lower, μ + σ ε): the gradient is zero for draws that were censored."""
        shape = self._shape(rng, sample_shape)  # checks rng first
        eps = self._wrap(rng.standard_normal(shape))
        return mv.maximum(self.loc + self.scale * eps, self.lower)

    def _moments(self) -> tuple[Tensor, Tensor]:
        """Φ(α) and φ(α) at the standardised censoring point α = (lower - μ)/σ."""
        a = (self.lower - self.loc) / self.scale
        return mv.ndtr(a), mv.exp(-0.5 * a * a - LOG_SQRT_2PI)

    @property
    def mean(self) -> Tensor:
        """E[y] = lower Φ(α) + μ (1 - Φ(α)) + σ φ(α)."""
        cdf, pdf = self._moments()
        m = self.lower * cdf + self.loc * (1.0 - cdf) + self.scale * pdf
        return mv.broadcast_to(m, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """E[y²] - E[y]², with E[y²] = lower² Φ(α) + (μ² + σ²)(1 - Φ(α)) + σ (μ + lower) φ(α)."""
        cdf, pdf = self._moments()
        mu, s = self.loc, self.scale
        second = self.lower**2 * cdf + (mu * mu + s * s) * (1.0 - cdf) + s * (mu + self.lower) * pdf
        m = self.mean
        return mv.broadcast_to(second, shape=self.batch_shape) - m * m
