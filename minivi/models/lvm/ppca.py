"""Probabilistic PCA (Tipping & Bishop, 1999): the simplest latent Gaussian model.

The generative process (the talk's "Latent Gaussian Models"):

    z ~ N(0, I_k),        y = W z + μ + ε,        ε ~ N(0, σ² I_d)

Because everything is linear and Gaussian, z integrates out exactly:

    p(y | W, μ, σ²) = N(y; μ, C),        C = W Wᵀ + σ² I_d

and the posterior over the latent variables is Gaussian too:

    p(z | y) = N(z; M⁻¹ Wᵀ (y − μ), σ² M⁻¹),        M = Wᵀ W + σ² I_k.

So all three of the talk's inferential tasks are exact here: explain (``posterior``),
predict (``conditional``: missing entries from observed ones) and choose a model
(``log_marginal``, e.g. ``choose_k``). Later chapters lose this exactness with
non-linear models and recover it approximately with variational inference.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

import minivi as mv
from minivi import Tensor
from minivi.autodiff.backend import get_array_module
from minivi.optim import SGD, Adam

LOG_2PI = math.log(2 * math.pi)


def as_data(Y, like: Tensor, name: str = "Y") -> Tensor:
    """``Y`` as an (n, d) tensor of ``like``'s dtype, checked against the model's d = like.shape[0].

    Arrays are converted (data never needs gradients); tensors are kept as they are, so
    gradients can flow through them. Nothing is copied between devices.
    """
    if not isinstance(Y, Tensor):
        Y = mv.tensor(Y, dtype=like.dtype)
    d = like.shape[0]
    if Y.ndim != 2 or Y.shape[1] != d:
        raise ValueError(
            f"{name} has shape {Y.shape}, but this model has d = {d} observed dimensions: pass an "
            f"array of shape (n, {d}) (one data point y becomes y[None])"
        )
    return Y


def as_mask(observed, Y: Tensor):
    """``observed`` as a boolean array (True = entry seen), checked against Y's shape."""
    obs = observed.data if isinstance(observed, Tensor) else observed
    if tuple(obs.shape) != Y.shape:
        raise ValueError(f"observed has shape {tuple(obs.shape)} but Y has shape {Y.shape}; they must match")
    return obs.astype(bool)


def maximise(objective: Callable[[], Tensor], params: Sequence[Tensor], steps: int, lr: float,
             optimizer: str = "gd") -> list[float]:
    """Gradient ascent on a scalar ``objective()``; returns its value at every step.

    ``optimizer="gd"`` is plain gradient ascent, θ ← θ + lr ∇θ objective: on the smooth
    exact likelihoods of PPCA and FA it converges to machine precision. ``"adam"`` uses Adam,
    better for MAP over many per-data-point latents (BXPCA), but it ends up hovering within
    about lr of the optimum instead of settling on it.
    """
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    opt = (Adam if optimizer == "adam" else SGD)(list(params), lr=lr)
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        value = objective()
        (-value).backward()  # optimisers minimise: ascend by descending on −objective
        opt.step()
        trace.append(value.item())
    return trace


class PPCA:
    """Probabilistic PCA with k latent dimensions for d-dimensional data.

    Parameters are tensors that require gradients: ``W`` (d, k), ``mu`` (d,) and
    ``log_sigma2`` (a scalar; σ² = exp(log σ²) stays positive during gradient ascent).
    ``rng`` draws the initial W ~ N(0, init_scale²); without it W starts at
    init_scale · I (deterministic, and away from the stationary point W = 0).
    """

    def __init__(self, d: int, k: int, rng: np.random.Generator | None = None, init_scale: float = 0.1):
        if not 0 < k < d:
            raise ValueError(f"PPCA needs 0 < k < d (fewer latent than observed dimensions), got d={d}, k={k}")
        self.d, self.k = d, k
        W0 = rng.standard_normal((d, k)) if rng is not None else np.eye(d, k)
        self.W = mv.tensor(init_scale * W0, requires_grad=True)
        self.mu = mv.zeros(d, device=self.W.device, requires_grad=True)
        self.log_sigma2 = mv.zeros((), device=self.W.device, requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.W, self.mu, self.log_sigma2]

    @property
    def sigma2(self) -> Tensor:
        return mv.exp(self.log_sigma2)

    def _M(self) -> Tensor:
        """M = Wᵀ W + σ² I_k, the k × k matrix that stands in for the d × d covariance C."""
        return self.W.T @ self.W + self.sigma2 * mv.eye(self.k, dtype=self.W.dtype, device=self.W.device)

    # --- choose a model: the exact marginal likelihood ---------------------------------------
    def log_marginal(self, Y) -> Tensor:
        """log p(y_n | W, μ, σ²) for every row of ``Y`` (n, d): a tensor of shape (n,).

            log N(y; μ, C) = −½ [d log 2π + log|C| + (y − μ)ᵀ C⁻¹ (y − μ)]

        C (d × d) is never formed. With M = WᵀW + σ²I (k × k):

            C⁻¹    = σ⁻² (I − W M⁻¹ Wᵀ)            (Woodbury identity)
            log|C| = (d − k) log σ² + log|M|      (matrix determinant lemma)

        so the cost is O(n d k + k³), not O(d³): fine for MNIST's d = 784.
        """
        Y = as_data(Y, self.W)
        R = Y - self.mu                                   # (n, d) residuals y − μ
        A = R @ self.W                                    # (n, k) rows Wᵀ(y − μ)
        M = self._M()
        quad = ((R * R).sum(axis=1) - (A * mv.linalg.solve(M, A.T).T).sum(axis=1)) / self.sigma2
        logdet = (self.d - self.k) * self.log_sigma2 + mv.linalg.slogdet(M)[1]
        return -0.5 * (self.d * LOG_2PI + logdet + quad)

    def fit_closed_form(self, Y) -> "PPCA":
        """Set the parameters to Tipping & Bishop's maximum-likelihood solution:

            μ = ȳ,    S = (1/n) Σ (y − ȳ)(y − ȳ)ᵀ = U Λ Uᵀ,   λ₁ ≥ … ≥ λ_d
            σ² = (1/(d − k)) Σ_{j>k} λ_j          (the variance the k directions miss)
            W  = U_k (Λ_k − σ² I)^{1/2}           (unique up to a rotation: W R fits as well)
        """
        Y = as_data(Y, self.W).data
        xp = get_array_module(Y)
        mu = Y.mean(axis=0)
        S = (Y - mu).T @ (Y - mu) / Y.shape[0]
        lam, U = xp.linalg.eigh(S)
        lam, U = lam[::-1], U[:, ::-1]                    # eigh sorts ascending; we want descending
        sigma2 = lam[self.k:].mean()
        if not sigma2 > 0:
            raise ValueError(
                f"the {self.d - self.k} discarded eigenvalues of the sample covariance are all zero: the data "
                f"lie in a {self.k}-dimensional subspace (or n is too small). Choose a smaller k or use more data."
            )
        W = U[:, :self.k] * xp.sqrt(xp.maximum(lam[:self.k] - sigma2, 0.0))
        self.W.data = xp.ascontiguousarray(W, dtype=self.W.dtype)   # in place: optimisers keep their tensors
        self.mu.data = mu.astype(self.mu.dtype)
        self.log_sigma2.data = xp.log(xp.asarray(sigma2, dtype=self.log_sigma2.dtype))
        return self

    def fit_gradient(self, Y, steps: int = 1000, lr: float = 0.1, optimizer: str = "gd") -> list[float]:
        """Maximise the mean exact log-likelihood (1/n) Σ log p(y_n) over W, μ, log σ² by
        gradient ascent (see ``maximise``); returns the objective at every step."""
        Y = as_data(Y, self.W)
        return maximise(lambda: self.log_marginal(Y).mean(), self.parameters(), steps, lr, optimizer)

    # --- explain: the posterior over latent variables --------------------------------------------
    def posterior(self, Y) -> tuple[Tensor, Tensor]:
        """Mean (n, k) and covariance (k, k) of p(z | y) = N(M⁻¹ Wᵀ (y − μ), σ² M⁻¹).

        The covariance is the same for every data point: in a linear-Gaussian model how
        uncertain we are about z does not depend on what we observed, only on W and σ².
        """
        Y = as_data(Y, self.W)
        M = self._M()
        mean = mv.linalg.solve(M, ((Y - self.mu) @ self.W).T).T
        return mean, self.sigma2 * mv.linalg.inv(M)

    # --- simulate ---------------------------------------------------------------------------------
    def sample(self, n: int, rng, return_latents: bool = False):
        """Draw n data points by running the generative process: z ~ N(0, I), y = W z + μ + σ ε."""
        with mv.no_grad():
            Z = mv.randn(n, self.k, rng=rng, dtype=self.W.dtype)
            Y = Z @ self.W.T + self.mu + mv.sqrt(self.sigma2) * mv.randn(n, self.d, rng=rng, dtype=self.W.dtype)
        return (Y, Z) if return_latents else Y

    # --- predict: missing entries from observed ones -------------------------------------------
    def conditional(self, Y, observed) -> tuple[Tensor, Tensor]:
        """Mean and variance of p(y_m | y_o): every missing entry predicted from the observed ones.

        ``observed`` is a boolean array of Y's shape (n, d), True where the entry was seen;
        missing entries of Y may hold anything (NaN included). Seeing only the entries o,

            p(z | y_o) = N(M_o⁻¹ W_oᵀ (y_o − μ_o), σ² M_o⁻¹),   M_o = W_oᵀ W_o + σ² I  (rows o of W)

        and y_m = W_m z + μ_m + ε, so

            E[y_m | y_o]   = W_m M_o⁻¹ W_oᵀ (y_o − μ_o) + μ_m
            Cov[y_m | y_o] = σ² (I + W_m M_o⁻¹ W_mᵀ)

        which equals conditioning the joint N(μ, C) on y_o, but costs O(d k²), not O(d³).
        Each row has its own M_o = Σ_{j∈o} w_j w_jᵀ + σ² I (w_j the j-th row of W), computed
        for all rows at once as a product of the mask with the vectorised outer products w_j w_jᵀ
        (memory n k²); when every row has the same mask, one k x k system serves them all.

        Returns ``mean`` (n, d): Y at observed entries, E[y_m | y_o] at missing ones, and
        ``var`` (n, d): the predictive variances (the diagonal of Cov), zero at observed entries.
        """
        Y = as_data(Y, self.W)
        obs = as_mask(observed, Y)
        n, d, k = Y.shape[0], self.d, self.k
        eye = mv.eye(k, dtype=self.W.dtype, device=self.W.device)
        if n > 1 and bool((obs == obs[:1]).all()):  # one mask for all rows: a single k x k system
            o = obs[0]
            Wo = self.W[o]
            M = Wo.T @ Wo + self.sigma2 * eye
            Ez = mv.linalg.solve(M, (mv.where(obs, Y - self.mu, 0.0) @ self.W).T).T
            mean = mv.where(obs, Y, Ez @ self.W.T + self.mu)
            w_Minv_w = (self.W * mv.linalg.solve(M, self.W.T).T).sum(axis=1)             # w_jᵀ M_o⁻¹ w_j, (d,)
            var = mv.where(obs, 0.0, self.sigma2 * (1.0 + w_Minv_w))
            return mean, var
        O = mv.tensor(obs, dtype=self.W.dtype)
        outer = (mv.expand_dims(self.W, 2) * mv.expand_dims(self.W, 1)).reshape(d, k * k)  # rows vec(w_j w_jᵀ)
        M = (O @ outer).reshape(n, k, k) + self.sigma2 * eye
        Ez = mv.linalg.solve(M, mv.where(obs, Y - self.mu, 0.0) @ self.W)             # E[z | y_o], (n, k)
        mean = mv.where(obs, Y, Ez @ self.W.T + self.mu)
        w_Minv_w = mv.linalg.inv(M).reshape(n, k * k) @ outer.T                          # w_jᵀ M_o⁻¹ w_j, (n, d)
        var = mv.where(obs, 0.0, self.sigma2 * (1.0 + w_Minv_w))
        return mean, var


def choose_k(Y_train, Y_valid, ks: Sequence[int]) -> dict[int, float]:
    """Model choice by held-out likelihood: for each k, fit PPCA in closed form on ``Y_train``
    and return the mean log p(y) of ``Y_valid`` (higher is better)."""
    d = Y_train.shape[1]
    with mv.no_grad():
        return {k: PPCA(d, k).fit_closed_form(Y_train).log_marginal(Y_valid).mean().item() for k in ks}
