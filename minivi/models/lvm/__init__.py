"""Latent variable models (the talk's "Density Estimation and Latent Variable Models").

Each specifies a generative process z → y that gives rise to the data:

- ``PPCA``: z ~ N(0, I), y = Wz + μ + ε, ε ~ N(0, σ²I). Exact likelihood, posterior and
  missing-entry prediction; closed-form maximum likelihood (Tipping & Bishop, 1999).
- ``FactorAnalysis``: the same with diagonal noise Ψ; fitted by EM or by gradient ascent.
- ``BXPCA``: exponential-family observations y ~ ExpFam(Wz + b) (Bernoulli, Poisson);
  fitted by MAP over the per-data-point latents and W jointly.
"""
from .bxpca import BXPCA
from .factor_analysis import FactorAnalysis
from .ppca import PPCA, choose_k

__all__ = ["PPCA", "FactorAnalysis", "BXPCA", "choose_k"]
