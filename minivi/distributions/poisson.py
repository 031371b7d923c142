"""The Poisson distribution over counts, parameterised by its rate or log-rate."""
from __future__ import annotations

from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Poisson(Distribution):
    """y ∈ {0, 1, 2, …} with mean λ; give ``rate=λ`` or ``log_rate=log λ`` (the natural parameter).

        log p(y) = y log λ - λ - log Γ(y + 1)

    With ``log_rate`` the first term is y·η, never log(exp(η)).
    """

    params = ("log_rate", "rate")

    def __init__(self, rate: Any = None, log_rate: Any = None, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        if (rate is None) == (log_rate is None):
            raise ValueError("Poisson: give exactly one of rate= or log_rate=")
        if log_rate is not None:
            self._set_params(log_rate=log_rate)
        else:
            self._set_params(rate=rate)
            self._check(self.rate.data > 0, "rate must be positive; use log_rate= for an unconstrained parameter")
        self._derive()

    def _derive(self) -> None:
        if "log_rate" in self._names:
            self.rate = mv.exp(self.log_rate)
        else:
            self.log_rate = mv.log(self.rate)

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check((y.data >= 0) & (y.data == self._xp().floor(y.data)), "values must be counts 0, 1, 2, ...")
        return y * self.log_rate - self.rate - mv.gammaln(y + 1.0)

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape)
        return self._wrap(rng.poisson(self._xp().broadcast_to(self.rate.data, shape)))

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def variance(self) -> Tensor:
        return self.rate
