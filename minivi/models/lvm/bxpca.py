"""Exponential-family PCA (the MAP version of BXPCA, Mohamed, Heller & Ghahramani 2008).

The talk's generative process for data that are not Gaussian (binary pixels, counts):

    z_n ~ N(0, I_k),        η_n = W z_n + b,        y_n ~ ExpFam(y_n | η_n)

with η the natural parameters: Bernoulli p = σ(η), Poisson rate λ = e^η. Here z_n cannot
be integrated out in closed form, so the model is fitted by MAP: the latent variables
Z (n, k) of every data point are optimised jointly with W (prior W_ij ~ N(0, s²), which
stops the trade-off z → z/c, W → cW from running off to infinity) and b:

    max_{Z, W, b}  Σ_{n,j observed} log p(y_nj | η_nj) + Σ_n log N(z_n; 0, I) + Σ log N(W_ij; 0, s²)

This is the non-amortised baseline: Z has one row per data point, so the cost of fitting
grows with the data set, and every *new* data point needs its own optimisation of z
(``infer_latents``, with W and b fixed; a convex problem, since both log-likelihoods are
concave in η). Chapter 09 replaces this per-point optimisation with an encoder network.
"""
from __future__ import annotations

import math

import numpy as np

import minivi as mv
from minivi import Tensor
from minivi.distributions import Bernoulli, Poisson

from .ppca import LOG_2PI, as_data, as_mask, maximise


# y ~ ExpFam(η), built from the natural parameter η, so log p(y | η) stays finite for any η:
#   Bernoulli(logits=η):   y η − softplus(η)          Poisson(log_rate=η):   y η − e^η − log y!
LIKELIHOODS = {"bernoulli": lambda eta: Bernoulli(logits=eta), "poisson": lambda eta: Poisson(log_rate=eta)}


def _gaussian_log_prior(x: Tensor, std: float) -> Tensor:
    """Σ_i log N(x_i; 0, std²)."""
    return -0.5 * ((x * x).sum() / std**2 + x.size * (LOG_2PI + 2 * math.log(std)))


class BXPCA:
    """Exponential-family PCA with k latent dimensions, fitted by MAP.

    ``likelihood`` is "bernoulli" (y ∈ {0, 1}) or "poisson" (y ∈ {0, 1, 2, …}). Parameters:
    ``W`` (d, k) with prior N(0, w_prior_std²), ``b`` (d,); after ``fit``, ``Z`` (n, k) holds
    the MAP latent variables of the training data. ``rng`` draws the initial W.
    """

    def __init__(self, d: int, k: int, likelihood: str = "bernoulli", rng: np.random.Generator | None = None,
                 init_scale: float = 0.1, w_prior_std: float = 1.0):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {sorted(LIKELIHOODS)}, got {likelihood!r}")
        self.d, self.k, self.likelihood = d, k, likelihood
        self.w_prior_std = w_prior_std
        W0 = rng.standard_normal((d, k)) if rng is not None else np.eye(d, k)
        self.W = mv.tensor(init_scale * W0, requires_grad=True)
        self.b = mv.zeros(d, device=self.W.device, requires_grad=True)
        self.Z: Tensor | None = None

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]

    def natural_params(self, Z: Tensor) -> Tensor:
        """η = Z Wᵀ + b, one row η_n = W z_n + b per data point: (n, d)."""
        return Z @ self.W.T + self.b

    def observation(self, Z: Tensor):
        """p(y | z) = ExpFam(y | η = W z + b), one independent distribution per entry."""
        return LIKELIHOODS[self.likelihood](self.natural_params(Z))

    def mean(self, Z: Tensor) -> Tensor:
        """E[y | z]: σ(η) for Bernoulli, e^η for Poisson. Use it to reconstruct or predict."""
        return self.observation(Z).mean

    def log_likelihood(self, Y, Z: Tensor) -> Tensor:
        """log p(y_nj | η_nj) for every entry: (n, d)."""
        return self.observation(Z).log_prob(as_data(Y, self.W))

    def log_joint(self, Y, Z: Tensor, observed=None) -> Tensor:
        """log p(Y_observed, Z, W) = Σ_observed log p(y|η) + log N(Z; 0, I) + log N(W; 0, s²).

        ``observed`` (boolean, Y's shape; default all True) marks the entries that count;
        the others may hold anything, NaN included.
        """
        Y = as_data(Y, self.W)
        if observed is None:
            loglik = self.log_likelihood(Y, Z)
        else:
            obs = as_mask(observed, Y)
            Y = mv.where(obs, Y, 0.0)  # 0, not NaN, at missing entries keeps their (zero) gradient finite
            loglik = mv.where(obs, self.log_likelihood(Y, Z), 0.0)
        return loglik.sum() + _gaussian_log_prior(Z, 1.0) + _gaussian_log_prior(self.W, self.w_prior_std)

    def fit(self, Y, steps: int = 500, lr: float = 0.05, observed=None) -> list[float]:
        """MAP over Z, W and b jointly by gradient ascent (Adam), from Z = 0.

        Stores the latents in ``self.Z``; returns log p(Y_observed, Z, W) per observed entry
        at every step.
        """
        Y = as_data(Y, self.W)
        self.Z = mv.zeros(Y.shape[0], self.k, dtype=self.W.dtype, device=self.W.device, requires_grad=True)
        count = Y.size if observed is None else int(as_mask(observed, Y).sum())
        params = [self.Z, *self.parameters()]
        return maximise(lambda: self.log_joint(Y, self.Z, observed) / count, params, steps, lr, "adam")

    def infer_latents(self, Y_new, steps: int = 200, lr: float = 0.05, observed=None) -> Tensor:
        """MAP latents for new data with W and b fixed: argmax_Z log p(Y_new, Z | W, b).

        There is no shortcut: this is a fresh optimisation for every new batch of data.
        """
        Y = as_data(Y_new, self.W)
        Z = mv.zeros(Y.shape[0], self.k, dtype=self.W.dtype, device=self.W.device, requires_grad=True)
        count = Y.size if observed is None else int(as_mask(observed, Y).sum())
        maximise(lambda: self.log_joint(Y, Z, observed) / count, [Z], steps, lr, "adam")
        for p in self.parameters():  # W and b were not updated, but gradients reached them
            p.grad = None
        return Z.detach()
