"""The Bernoulli distribution, parameterised by its logit (the natural parameter)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape


class Bernoulli(Distribution):
    """y ∈ {0, 1} with P(y = 1) = μ = σ(η); give ``logits=η`` or ``probs=μ``.

        log p(y) = y η - softplus(η)          (= y log μ + (1 - y) log(1 - μ))

    written from the logit so that it stays finite at η = ±10⁴, where log(sigmoid(η))
    would give log 0. Probabilities are turned into logits η = log μ - log(1 - μ) after
    clipping μ to [tiny, 1 - eps] of the dtype (so a probability of exactly 0 or 1 gives
    a very small, not infinite, log-probability to the impossible outcome).
    """

    params = ("logits", "probs")

    def __init__(self, *args: Any, logits: Any = None, probs: Any = None, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        if args:  # PyTorch reads Bernoulli(0.3) as probs, minivi used to read it as logits: make it explicit
            raise TypeError(f"Bernoulli: name the parameter, Bernoulli(logits=...) or Bernoulli(probs=...); a positional "
                            f"value is ambiguous (got {args[0]!r:.40})")
        if (logits is None) == (probs is None):
            raise ValueError("Bernoulli: give exactly one of logits= or probs=")
        if logits is not None:
            self._set_params(logits=logits)
        else:
            self._set_params(probs=probs)
            self._check((self.probs.data >= 0) & (self.probs.data <= 1), "probs must lie in [0, 1]")
        self._derive()

    def _derive(self) -> None:
        if "logits" in self._names:
            self.probs = mv.sigmoid(self.logits)
        else:
            info = np.finfo(self.dtype)
            p = mv.clip(self.probs, float(info.tiny), float(1 - info.eps))
            self.logits = mv.log(p) - mv.log1p(-p)

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check((y.data == 0) | (y.data == 1), "values must be 0 or 1")
        return y * self.logits - mv.softplus(self.logits)

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        shape = self._shape(rng, sample_shape)  # checks rng first
        u = rng.random(shape, dtype=self.dtype)
        return self._wrap(u < self.probs.data)

    @property
    def mean(self) -> Tensor:
        """μ = σ(η)."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """μ (1 - μ) = σ(η) σ(-η): accurate where μ rounds to 1 (1 - μ would be 0)."""
        return mv.sigmoid(self.logits) * mv.sigmoid(-self.logits)

    def entropy(self) -> Tensor:
        """H = -μ log μ - (1 - μ) log(1 - μ), with log μ = -softplus(-η), log(1 - μ) = -softplus(η)."""
        mu = self.probs
        return mu * mv.softplus(-self.logits) + (1.0 - mu) * mv.softplus(self.logits)
