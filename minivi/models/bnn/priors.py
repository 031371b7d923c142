"""Priors on every weight of a Bayesian network: p(w) = Πᵢ p(wᵢ).

* ``GaussianPrior(s)``: p(w) = N(0, s²); KL[q ‖ p] from a Gaussian q is in closed form.
* ``ScaleMixturePrior(pi, s1, s2)``: p(w) = π N(0, s1²) + (1 − π) N(0, s2²) (Blundell et al. 2015): a
  wide component for the few large weights and a narrow one pulling the rest towards zero. Its KL from a
  Gaussian q has no closed form, so it is estimated with the sampled weights: log q(w) − log p(w).
"""
from __future__ import annotations

import math

from ... import autodiff as mv
from ...autodiff import Tensor

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class GaussianPrior:
    """p(w) = N(w; 0, s²) for every weight."""

    analytic_kl = True

    def __init__(self, scale: float = 1.0):
        if not scale > 0:
            raise ValueError(f"GaussianPrior needs a positive scale s (the prior std of each weight), got {scale}")
        self.scale = float(scale)

    def log_prob(self, w: Tensor) -> Tensor:
        """log N(w; 0, s²), elementwise."""
        return -0.5 * (w / self.scale) ** 2 - math.log(self.scale) - _LOG_SQRT_2PI

    def kl(self, loc: Tensor, scale: Tensor) -> Tensor:
        """KL[N(μ, σ²) ‖ N(0, s²)] summed over all weights, in closed form (``distributions.kl_divergence``
        of two Normals, written out to save a few operations per step):

            Σᵢ log(s / σᵢ) + (σᵢ² + μᵢ²) / (2 s²) − ½.
        """
        s2 = self.scale**2
        return (math.log(self.scale) - mv.log(scale) + (scale * scale + loc * loc) * (0.5 / s2) - 0.5).sum()

    def __repr__(self) -> str:
        return f"GaussianPrior(scale={self.scale})"


class ScaleMixturePrior:
    """p(w) = π N(w; 0, s1²) + (1 − π) N(w; 0, s2²) for every weight."""

    analytic_kl = False

    def __init__(self, pi: float = 0.5, scale1: float = 1.0, scale2: float = math.exp(-6)):
        if not 0.0 < pi < 1.0 or not (scale1 > 0 and scale2 > 0):
            raise ValueError(f"ScaleMixturePrior needs 0 < pi < 1 and positive scales, got pi={pi}, "
                             f"scale1={scale1}, scale2={scale2}")
        self.pi, self.scale1, self.scale2 = float(pi), float(scale1), float(scale2)

    def log_prob(self, w: Tensor) -> Tensor:
        """log[π N(w; 0, s1²) + (1 − π) N(w; 0, s2²)], elementwise, by log-sum-exp."""
        a = math.log(self.pi) - 0.5 * (w / self.scale1) ** 2 - math.log(self.scale1)
        b = math.log1p(-self.pi) - 0.5 * (w / self.scale2) ** 2 - math.log(self.scale2)
        return mv.logsumexp(mv.stack([a, b], axis=0), axis=0) - _LOG_SQRT_2PI

    def __repr__(self) -> str:
        return f"ScaleMixturePrior(pi={self.pi}, scale1={self.scale1:.3g}, scale2={self.scale2:.3g})"
