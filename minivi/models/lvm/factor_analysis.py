"""Factor analysis: PPCA with a separate noise variance for every observed dimension.

    z ~ N(0, I_k),        y = W z + μ + ε,        ε ~ N(0, Ψ),   Ψ = diag(ψ₁, …, ψ_d)

so p(y) = N(y; μ, C) with C = W Wᵀ + Ψ. Unlike PPCA there is no closed-form maximum of
the likelihood, but EM (Rubin & Thayer, 1982; Ghahramani & Hinton, 1996) has closed-form
steps, each of which never decreases the likelihood:

E-step, the posterior over each latent variable (the same covariance G for every n):

    p(z_n | y_n) = N(z_n; G Wᵀ Ψ⁻¹ (y_n − μ), G),       G = M⁻¹,  M = I + Wᵀ Ψ⁻¹ W

M-step, with μ = ȳ (its maximum whatever W and Ψ are), r_n = y_n − ȳ and the moments
E[z_n] and E[z_n z_nᵀ] = G + E[z_n] E[z_n]ᵀ:

    W_new = (Σ_n r_n E[z_n]ᵀ) (Σ_n E[z_n z_nᵀ])⁻¹
    Ψ_new = diag( (1/n) Σ_n (r_n − W_new E[z_n]) r_nᵀ )

Gradient ascent on the exact likelihood (``fit_gradient``) reaches the same maximum.
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from minivi import Tensor

from .ppca import LOG_2PI, as_data, maximise

PSI_FLOOR = 1e-6  # keeps ψ_j > 0 when a dimension is explained entirely by the factors (a "Heywood case")


class FactorAnalysis:
    """Factor analysis with k factors for d-dimensional data.

    Parameters (tensors that require gradients): ``W`` (d, k), ``mu`` (d,) and ``log_psi``
    (d,), so that Ψ = diag(exp(log ψ)) stays positive under gradient ascent. ``rng`` draws the
    initial W ~ N(0, init_scale²); without it W starts at init_scale · I.
    """

    def __init__(self, d: int, k: int, rng: np.random.Generator | None = None, init_scale: float = 0.1):
        if not 0 < k < d:
            raise ValueError(f"FactorAnalysis needs 0 < k < d (fewer factors than dimensions), got d={d}, k={k}")
        self.d, self.k = d, k
        W0 = rng.standard_normal((d, k)) if rng is not None else np.eye(d, k)
        self.W = mv.tensor(init_scale * W0, requires_grad=True)
        self.mu = mv.zeros(d, device=self.W.device, requires_grad=True)
        self.log_psi = mv.zeros(d, device=self.W.device, requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.W, self.mu, self.log_psi]

    @property
    def psi(self) -> Tensor:
        """The noise variances ψ (d,): the diagonal of Ψ."""
        return mv.exp(self.log_psi)

    def _M(self) -> Tensor:
        """M = I + Wᵀ Ψ⁻¹ W (k × k)."""
        eye = mv.eye(self.k, dtype=self.W.dtype, device=self.W.device)
        return eye + (self.W / mv.expand_dims(self.psi, 1)).T @ self.W

    def log_marginal(self, Y) -> Tensor:
        """log p(y_n | W, μ, Ψ) = log N(y_n; μ, WWᵀ + Ψ) for every row of ``Y``: shape (n,).

        With M = I + WᵀΨ⁻¹W (k × k) and a_n = WᵀΨ⁻¹(y_n − μ):

            (y − μ)ᵀ C⁻¹ (y − μ) = (y − μ)ᵀ Ψ⁻¹ (y − μ) − aᵀ M⁻¹ a    (Woodbury identity)
            log|C| = Σ_j log ψ_j + log|M|                            (matrix determinant lemma)
        """
        Y = as_data(Y, self.W)
        R = Y - self.mu
        A = (R / self.psi) @ self.W                          # (n, k) rows a_n
        M = self._M()
        quad = (R * R / self.psi).sum(axis=1) - (A * mv.linalg.solve(M, A.T).T).sum(axis=1)
        logdet = self.log_psi.sum() + mv.linalg.slogdet(M)[1]
        return -0.5 * (self.d * LOG_2PI + logdet + quad)

    def posterior(self, Y) -> tuple[Tensor, Tensor]:
        """The E-step: mean (n, k) and covariance G (k, k) of p(z | y) = N(G WᵀΨ⁻¹(y − μ), G)."""
        Y = as_data(Y, self.W)
        M = self._M()
        A = ((Y - self.mu) / self.psi) @ self.W
        return mv.linalg.solve(M, A.T).T, mv.linalg.inv(M)

    @mv.no_grad()
    def em_step(self, Y) -> tuple[Tensor, Tensor]:
        """One EM iteration, in place (see the module docstring for the updates).

        Returns the E-step's posterior moments: the means E[z_n] (n, k) and the shared
        covariance G (k, k), computed with μ = ȳ and the W, Ψ from before the update.
        """
        Y = as_data(Y, self.W)
        n = Y.shape[0]
        self.mu.data = Y.data.mean(axis=0)                   # μ = ȳ maximises the likelihood for any W, Ψ
        Ez, G = self.posterior(Y)
        R = Y - self.mu
        W = mv.linalg.solve(n * G + Ez.T @ Ez, Ez.T @ R).T   # W_newᵀ = (Σ E[z zᵀ])⁻¹ Σ E[z] rᵀ
        psi = ((R - Ez @ W.T) * R).mean(axis=0)
        self.W.data = W.data
        self.log_psi.data = mv.log(mv.maximum(psi, PSI_FLOOR)).data
        return Ez, G

    def fit_em(self, Y, steps: int = 100) -> list[float]:
        """Run ``steps`` EM iterations; returns the mean log-likelihood (1/n) Σ log p(y_n)
        before the first and after every iteration (steps + 1 values, never decreasing)."""
        Y = as_data(Y, self.W)
        with mv.no_grad():
            trace = [self.log_marginal(Y).mean().item()]
            for _ in range(steps):
                self.em_step(Y)
                trace.append(self.log_marginal(Y).mean().item())
        return trace

    def fit_gradient(self, Y, steps: int = 1000, lr: float = 0.1, optimizer: str = "gd") -> list[float]:
        """Maximise the mean exact log-likelihood over W, μ, log ψ by gradient ascent (see
        ``ppca.maximise``); returns the objective at every step."""
        Y = as_data(Y, self.W)
        return maximise(lambda: self.log_marginal(Y).mean(), self.parameters(), steps, lr, optimizer)

    def sample(self, n: int, rng, return_latents: bool = False):
        """Draw n data points: z ~ N(0, I), y = W z + μ + Ψ^{1/2} ε."""
        with mv.no_grad():
            Z = mv.randn(n, self.k, rng=rng, dtype=self.W.dtype)
            Y = Z @ self.W.T + self.mu + mv.sqrt(self.psi) * mv.randn(n, self.d, rng=rng, dtype=self.W.dtype)
        return (Y, Z) if return_latents else Y
