"""Student's t distribution: a heavy-tailed alternative to the Normal (a Normal scale mixture)."""
from __future__ import annotations

import math
from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape
from .special import log_gamma_ratio


class StudentT(Distribution):
    """StudentT(df ν, loc μ, scale σ) elementwise; ν → ∞ gives N(μ, σ²), ν = 1 the Cauchy.

        log p(y) = log Γ((ν+1)/2) - log Γ(ν/2) - ½ log(νπ) - log σ - (ν+1)/2 · log(1 + z²/ν),
        z = (y - μ)/σ

    with log(1 + z²/ν) by ``log1p`` (accurate near the mode) and log Γ((ν+1)/2) - log Γ(ν/2) by
    ``special.log_gamma_ratio`` (no cancellation for large ν, where the t approaches the Normal). y = μ + σ t, where t = ε / √(V/ν),
    ε ~ N(0, 1), V ~ χ²_ν, is a Normal whose precision is scaled by a Gamma(ν/2, ν/2) variable.

    ``rsample`` is pathwise in μ and σ only: t does not depend on them, but its law depends on
    ν, and differentiating a χ² (Gamma) draw with respect to ν needs an implicit reparameterisation
    that this engine does not have. So ``rsample`` raises when ``df`` requires a gradient (use
    ``sample`` and a score-function estimator for ν, or keep ν fixed).

    ``mean`` is μ for ν > 1 and NaN otherwise; ``variance`` is σ² ν/(ν - 2) for ν > 2, inf for
    1 < ν ≤ 2 and NaN for ν ≤ 1 (the moments do not exist; as PyTorch, while scipy's mean gives inf).
    """

    params = ("df", "loc", "scale")

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(df=df, loc=loc, scale=scale)
        self._check(self.df.data > 0, "df (degrees of freedom ν) must be positive")
        self._check(self.scale.data > 0, "scale must be positive; parameterise it as exp(·) or softplus(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        nu = self.df
        z = (y - self.loc) / self.scale
        return (-log_gamma_ratio(0.5, 0.5 * nu) - 0.5 * mv.log(nu) - 0.5 * math.log(math.pi)
                - mv.log(self.scale) - 0.5 * (nu + 1.0) * mv.log1p(z * z / nu))

    def _standard_t(self, rng: Any, sample_shape: int | Shape) -> Tensor:
        """t = ε / √(V/ν), ε ~ N(0, 1), V/ν = 2 Gamma(ν/2)/ν (a χ²_ν over ν): draws on either device."""
        shape = self._shape(rng, sample_shape)  # checks rng first
        nu = self._xp().broadcast_to(self.df.data, shape).astype("float64")
        return self._wrap(rng.standard_normal(shape) / self._xp().sqrt(2.0 * rng.standard_gamma(0.5 * nu) / nu))

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        t = self._standard_t(rng, sample_shape)
        return (self.loc.detach() + self.scale.detach() * t).detach()

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """y = μ + σ t with t ~ t_ν drawn as a constant: differentiable in μ and σ, not in ν."""
        if self.df.requires_grad:
            raise NotImplementedError(
                "StudentT.rsample: df requires a gradient, but a t draw is not differentiable in ν here (that needs "
                "the implicit gradient of a Gamma draw). Detach df (StudentT(df.detach(), ...)) for gradients in "
                "loc and scale, or use sample() with a score-function estimator for df."
            )
        t = self._standard_t(rng, sample_shape)
        return self.loc + self.scale * t

    @property
    def mean(self) -> Tensor:
        """μ where ν > 1, NaN where the mean does not exist."""
        m = mv.where(self.df.data > 1, self.loc, float("nan"))
        return mv.broadcast_to(m, shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """σ² ν/(ν - 2) where ν > 2; inf where 1 < ν ≤ 2; NaN where ν ≤ 1."""
        nu = self.df
        safe = mv.where(nu.data > 2, nu, 3.0)  # keeps ν/(ν - 2) finite in the branch not taken
        v = self.scale * self.scale * safe / (safe - 2.0)
        undefined = self._wrap(self._xp().where(nu.data > 1, float("inf"), float("nan")))  # a constant
        v = mv.where(nu.data > 2, v, undefined)
        return mv.broadcast_to(v, shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = (ν+1)/2 (ψ((ν+1)/2) - ψ(ν/2)) + ½ log ν + log B(ν/2, ½) + log σ."""
        nu = self.df
        half = 0.5 * (nu + 1.0)
        log_b = log_gamma_ratio(0.5, 0.5 * nu) + 0.5 * math.log(math.pi)  # log B(ν/2, ½), log Γ(½) = ½ log π
        h = half * (mv.digamma(half) - mv.digamma(0.5 * nu)) + 0.5 * mv.log(nu) + log_b + mv.log(self.scale)
        return mv.broadcast_to(h, shape=self.batch_shape)
